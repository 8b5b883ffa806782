#include <pthread.h>
#include <unistd.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
static void* th(void*a){ return 0; }
int main(){
  pid_t c = fork();
  if(!c){ _exit(3); }
  waitpid(c,0,0);
  pthread_t t; pthread_create(&t,0,th,0); pthread_join(t,0);
  pid_t v = vfork(); if(!v) _exit(4); waitpid(v,0,0);
  return 0;
}
