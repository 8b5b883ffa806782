#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/user.h>
#include <linux/ptrace.h>
#include <string.h>
int main(int argc, char**argv){
  int verbose_all = atoi(argv[1]);
  pid_t p = fork();
  if(!p){ ptrace(PTRACE_TRACEME,0,0,0); execv(argv[2], argv+2); _exit(127);}
  int st; waitpid(p,&st,0);
  ptrace(PTRACE_SETOPTIONS,p,0,PTRACE_O_TRACESYSGOOD|PTRACE_O_TRACEEXEC|PTRACE_O_EXITKILL);
  int req = PTRACE_SINGLESTEP; int n=0, inj=0; int prevTF=0; unsigned long long prevrip=0; int print_next=0;
  for(;;){
    if(ptrace(req,p,0,inj)<0){perror("resume");break;}
    inj=0;
    if(waitpid(p,&st,__WALL)<0){perror("wait");break;}
    if(WIFEXITED(st)){printf("exited %d after %d stops\n",WEXITSTATUS(st),n);break;}
    if(WIFSIGNALED(st)){printf("killed %d\n",WTERMSIG(st));break;}
    n++;
    struct user_regs_struct r; ptrace(PTRACE_GETREGS,p,0,&r);
    long w = ptrace(PTRACE_PEEKTEXT,p,r.rip,0);
    int sig = WSTOPSIG(st);
    struct ptrace_syscall_info si; memset(&si,0,sizeof si);
    if (sig==(SIGTRAP|0x80)) ptrace(PTRACE_GET_SYSCALL_INFO,p,sizeof si,&si);
    siginfo_t inf; memset(&inf,0,sizeof inf); ptrace(PTRACE_GETSIGINFO,p,0,&inf);
    int tf = (r.eflags>>8)&1;
    int interesting = sig!=SIGTRAP || inf.si_code!=2 || tf || prevTF || print_next || (si.op && (si.entry.nr==62||si.entry.nr==15||si.entry.nr==13));
    if (interesting||verbose_all)
      printf("%6d sig=%d rip=%llx prevrip=%llx bytes=%02lx %02lx tf=%d prevTF=%d op=%d nr=%lld si_code=%d rsp=%llx\n",n,sig,r.rip,prevrip,w&0xff,(w>>8)&0xff,tf,prevTF,si.op,(long long)si.entry.nr,inf.si_code,r.rsp);
    print_next = sig!=SIGTRAP && sig!=(SIGTRAP|0x80);
    unsigned short b = w&0xffff;
    int atsys = (b==0x050f || b==0x80cd);
    if(sig==(SIGTRAP|0x80)) req = (si.op==PTRACE_SYSCALL_INFO_ENTRY)?PTRACE_SYSCALL:PTRACE_SINGLESTEP;
    else { req = atsys?PTRACE_SYSCALL:PTRACE_SINGLESTEP; if(sig!=SIGTRAP) inj=sig; else if (prevTF && inf.si_code==2) { inj = SIGTRAP; printf("   injecting SIGTRAP (user TF)\n"); print_next=1;} }
    if (inj && req==PTRACE_SYSCALL) req=PTRACE_SINGLESTEP;
    prevTF=tf; prevrip=r.rip;
  }
}
