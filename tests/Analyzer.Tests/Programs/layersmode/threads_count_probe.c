/*
 * threads_count_probe.c - every instruction any thread runs inside written code must be in a
 * `--mode layers` trace. One written page holds two functions: spin(n) (a tight loop that never
 * leaves the page: while one thread is inside, the others must not run it natively) and loop(cb, n)
 * (calls back out of the page each iteration: entries and exits race). Four threads start at once
 * (a barrier) and run spin, loop, spin; meanwhile a CLONE_VM process (a process sharing the address
 * space, not a thread) runs spin too; then the main thread runs loop. Last, a CLONE_VM process is
 * killed while it runs written code (forever), and the main thread runs spin: the pages the dead
 * process had open must not stay open (executable, unwatched) for the others. Every count is measured
 * natively by the program (spin returns its iterations, the callback counts its calls), so the
 * output says how many instructions ran in the page: spin = 3n + 2, loop = 5n + 10. The written
 * page's address goes to stderr (it differs run to run).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#ifndef SPIN
#define SPIN 1000
#endif

/* spin(n): for (eax = 0; ++eax < n;); return eax;  (3n + 2 instructions for n >= 1) */
static const unsigned char spin_code[] = {
    0x31, 0xc0,             /* xor eax, eax */
    0xff, 0xc0,             /* L: inc eax */
    0x39, 0xf8,             /* cmp eax, edi */
    0x72, 0xfa,             /* jb L */
    0xc3,                   /* ret */
};

/* loop(cb, n): for (ebx = 0; ebx < n; ebx++) cb(ebx);  (as in callout_probe.c; 5n + 10 instructions) */
static const unsigned char loop_code[] = {
    0x53, 0x41, 0x54, 0x41, 0x55, 0x49, 0x89, 0xfc, 0x41, 0x89, 0xf5, 0x31, 0xdb,
    0x89, 0xdf, 0x41, 0xff, 0xd4, 0xff, 0xc3, 0x44, 0x39, 0xeb, 0x72, 0xf4,
    0x41, 0x5d, 0x41, 0x5c, 0x5b, 0xc3,
};
#define LOOP_AT 64

/* forever(counter): for (;;) ++*counter;  (until killed) */
static const unsigned char forever_code[] = {
    0xff, 0x07,             /* L: inc dword [rdi] */
    0xeb, 0xfc,             /* jmp L */
};
#define FOREVER_AT 128
static volatile unsigned forever_count;

typedef unsigned (*spin_fn)(unsigned);
typedef void (*loop_fn)(void (*)(unsigned), unsigned);

static unsigned char *code;
static pthread_barrier_t start;
static __thread unsigned calls;
static unsigned spins[4][2], loops[4], child_spins;

static void callback(unsigned i) { (void)i; calls++; }

static void *worker(void *arg)
{
    long i = (long)arg;
    pthread_barrier_wait(&start);
    spins[i][0] = ((spin_fn)code)(SPIN + (unsigned)i * 7);
    ((loop_fn)(code + LOOP_AT))(callback, 40 + (unsigned)i);
    loops[i] = calls;
    spins[i][1] = ((spin_fn)code)(SPIN / 2 + (unsigned)i);
    return 0;
}

/* The CLONE_VM child: no libc (it shares the parent's thread pointer), only the written code. */
static int child(void *arg)
{
    child_spins = ((spin_fn)code)((unsigned)(long)arg);
    return 0;
}

static int doomed(void *arg)
{
    ((void (*)(volatile unsigned *))(code + FOREVER_AT))(arg);
    return 0;
}

int main(void)
{
    code = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) return 2;
    fprintf(stderr, "code at %p\n", (void *)code);
    memcpy(code, spin_code, sizeof spin_code);
    memcpy(code + LOOP_AT, loop_code, sizeof loop_code);
    memcpy(code + FOREVER_AT, forever_code, sizeof forever_code);
    mprotect(code, 4096, PROT_READ | PROT_EXEC);

    pthread_barrier_init(&start, 0, 5);
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, worker, (void *)i);
    pthread_barrier_wait(&start);
    char *stack = malloc(64 << 10);
    int pid = clone(child, stack + (64 << 10), CLONE_VM | SIGCHLD, (void *)(long)(SPIN + 3));
    int status = -1;
    if (pid > 0) waitpid(pid, &status, 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
    ((loop_fn)(code + LOOP_AT))(callback, 10);

    int doomed_status = -1;
    int doomed_pid = clone(doomed, stack + (64 << 10), CLONE_VM | SIGCHLD, (void *)&forever_count);
    if (doomed_pid > 0) {
        while (forever_count < 1000) {}
        kill(doomed_pid, SIGKILL);
        waitpid(doomed_pid, &doomed_status, 0);
    }
    unsigned after = ((spin_fn)code)(SPIN);

    unsigned long expected = 0;
    for (int i = 0; i < 4; i++) {
        printf("thread %d: spin %u, loop %u, spin %u\n", i, spins[i][0], loops[i], spins[i][1]);
        expected += 3 * (spins[i][0] + spins[i][1]) + 4 + 5 * loops[i] + 10;
    }
    printf("clone_vm child: spin %u (exit status %d)\n", child_spins, status);
    printf("main: loop %u\n", calls);
    printf("after a clone_vm child %s inside written code: spin %u\n",
           WIFSIGNALED(doomed_status) && WTERMSIG(doomed_status) == SIGKILL ? "killed" : "NOT killed", after);
    expected += 3 * child_spins + 2 + 5 * calls + 10 + 3 * after + 2;
    printf("instructions in the written page: %lu\n", expected);
    return 0;
}
