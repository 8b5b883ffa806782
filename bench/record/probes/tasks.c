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
  pid_t p = fork();
  if(!p){ setsid(); raise(SIGSTOP); execv(argv[1], argv+1); _exit(127);}
  int st; waitpid(p,&st,WUNTRACED); printf("initial: stopped=%d sig=%d\n", WIFSTOPPED(st), WSTOPSIG(st));
  if(ptrace(PTRACE_SEIZE,p,0,PTRACE_O_TRACESYSGOOD|PTRACE_O_TRACEEXEC|PTRACE_O_EXITKILL|PTRACE_O_TRACEFORK|PTRACE_O_TRACEVFORK|PTRACE_O_TRACECLONE)<0) perror("seize");
  kill(p, SIGCONT);
  int live=1;
  while(live>0){
    int t = waitpid(-1,&st,__WALL);
    if(t<0){perror("wait");break;}
    if(WIFEXITED(st)){printf("%d exited %d\n",t,WEXITSTATUS(st));continue;}
    if(WIFSIGNALED(st)){printf("%d killed %d\n",t,WTERMSIG(st));continue;}
    int sig = WSTOPSIG(st), ev = st>>16;
    struct user_regs_struct r; ptrace(PTRACE_GETREGS,t,0,&r);
    struct ptrace_syscall_info si; memset(&si,0,sizeof si);
    if (sig==(SIGTRAP|0x80)) ptrace(PTRACE_GET_SYSCALL_INFO,t,sizeof si,&si);
    unsigned long msg=0; if(ev) ptrace(PTRACE_GETEVENTMSG,t,0,&msg);
    printf("%d sig=%d ev=%d msg=%lu rip=%llx op=%d nr=%lld rax=%lld\n",t,sig,ev,msg,r.rip,si.op,si.op==1?(long long)si.entry.nr:0,(long long)r.rax);
    int inj = 0;
    if (sig!=(SIGTRAP|0x80) && sig!=SIGTRAP && ev==0) inj = sig;
    if (ev==PTRACE_EVENT_STOP && (sig==SIGSTOP||sig==SIGTSTP)) { printf("   (group-stop or new task: %s)\n", sig==SIGSTOP?"SIGSTOP":"?"); }
    ptrace(PTRACE_SYSCALL,t,0,inj);
  }
}
