#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/user.h>
#include <linux/ptrace.h>
#include <errno.h>
#include <string.h>
int main(int argc, char**argv){
  int strat = atoi(argv[1]);
  pid_t p = fork();
  if(!p){ ptrace(PTRACE_TRACEME,0,0,0); execv(argv[2], argv+2); _exit(127);}
  int st; waitpid(p,&st,0);
  ptrace(PTRACE_SETOPTIONS,p,0,PTRACE_O_TRACESYSGOOD|PTRACE_O_TRACEEXEC|PTRACE_O_EXITKILL);
  int req = PTRACE_SINGLESTEP; int n=0;
  for(;;){
    if(ptrace(req,p,0,0)<0){perror("resume");break;}
    if(waitpid(p,&st,__WALL)<0){perror("wait");break;}
    if(WIFEXITED(st)){printf("exited %d\n",WEXITSTATUS(st));break;}
    if(WIFSIGNALED(st)){printf("killed %d\n",WTERMSIG(st));break;}
    struct user_regs_struct r; ptrace(PTRACE_GETREGS,p,0,&r);
    long w = ptrace(PTRACE_PEEKTEXT,p,r.rip,0);
    int sig = WSTOPSIG(st);
    struct ptrace_syscall_info si; memset(&si,0,sizeof si);
    const char* kind = sig==(SIGTRAP|0x80)?"SYSCALL":(sig==SIGTRAP?"TRAP":"SIG");
    if (sig==(SIGTRAP|0x80)) ptrace(PTRACE_GET_SYSCALL_INFO,p,sizeof si,&si);
    siginfo_t inf; memset(&inf,0,sizeof inf); ptrace(PTRACE_GETSIGINFO,p,0,&inf);
    printf("%3d %-7s ev=%d rip=%llx bytes=%02lx %02lx rax=%lld orig=%lld rcx=%lld op=%d arch=%x si_code=%d\n",n++,kind,st>>16,r.rip,w&0xff,(w>>8)&0xff,(long long)r.rax,(long long)r.orig_rax,(long long)r.rcx,si.op,si.arch,inf.si_code);
    unsigned short b = w&0xffff;
    int atsys = (b==0x050f || b==0x80cd);
    if(strat==0) req=PTRACE_SINGLESTEP;
    else if(strat==1){ // PTRACE_SYSCALL at syscall insn and at entry; SINGLESTEP after exit
      if(sig==(SIGTRAP|0x80)) req = (si.op==PTRACE_SYSCALL_INFO_ENTRY)?PTRACE_SYSCALL:PTRACE_SINGLESTEP;
      else req = atsys?PTRACE_SYSCALL:PTRACE_SINGLESTEP;
    } else if(strat==2){ // SYSCALL at insn, SINGLESTEP at entry
      if(sig==(SIGTRAP|0x80)) req = PTRACE_SINGLESTEP;
      else req = atsys?PTRACE_SYSCALL:PTRACE_SINGLESTEP;
    }
  }
}
