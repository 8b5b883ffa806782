/* The baseline for `bench record`: the minimal ptrace single-step loop a recorder cannot beat —
 * PTRACE_SINGLESTEP + waitpid + PTRACE_GETREGS per step, nothing recorded. Prints the steps and
 * the steps per second from the exec stop to the tracee's exit.
 * Usage: cloop [--bind] PROGRAM [ARGS...]
 * --bind puts tracer and tracee on the tracer's current CPU, as `ether record` does in full mode. */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int bind = argc > 1 && strcmp(argv[1], "--bind") == 0;
    if (bind) { argv++; argc--; }
    if (argc < 2) { fprintf(stderr, "usage: cloop [--bind] PROGRAM [ARGS...]\n"); return 2; }
    if (bind) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(sched_getcpu(), &set);
        sched_setaffinity(0, sizeof set, &set); /* the child inherits it */
    }
    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execv(argv[1], argv + 1);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0); /* the exec SIGTRAP */
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long steps = 0;
    struct user_regs_struct regs;
    for (;;) {
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0) { perror("PTRACE_SINGLESTEP"); return 1; }
        if (waitpid(pid, &status, __WALL) < 0) { perror("waitpid"); return 1; }
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        ptrace(PTRACE_GETREGS, pid, 0, &regs);
        steps++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%ld %.6f\n", steps, s);
    return 0;
}
