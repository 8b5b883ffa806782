#include <signal.h>
#include <unistd.h>
#include <string.h>
volatile int got_usr1, got_trap;
static void h1(int s){ got_usr1++; }
static void h2(int s){ got_trap++; }
int main(){
  struct sigaction sa; memset(&sa,0,sizeof sa); sa.sa_handler=h1; sigaction(SIGUSR1,&sa,0);
  sa.sa_handler=h2; sigaction(SIGTRAP,&sa,0);
  kill(getpid(), SIGUSR1);
  __asm__ volatile("pushf; orl $0x100,(%%rsp); popf; nop; nop; nop":::"memory","cc");
  char b[2] = {'0'+got_usr1, '0'+got_trap};
  write(1, b, 2); write(1,"\n",1);
  return 0;
}
