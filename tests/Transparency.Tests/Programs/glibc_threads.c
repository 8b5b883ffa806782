/* Threads with glibc (pthread): a sibling spins while the main thread sleeps with usleep(); the
 * sibling's CPU-time clock (pthread_getcpuclockid) and its counter must advance meanwhile, and its
 * /proc state must never be "tracing stop". Static glibc. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static volatile int go = 1, started;
static volatile unsigned long counter;
static volatile pid_t sibling_tid;

static void *spin(void *arg)
{
    (void)arg;
    sibling_tid = (pid_t)syscall(SYS_gettid);
    started = 1;
    while (go) counter++;
    return NULL;
}

static char sibling_state(void)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)sibling_tid);
    FILE *f = fopen(path, "r");
    if (!f) return '?';
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *close = strrchr(text, ')');
    return close ? close[2] : '?';
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
    while (!started) sched_yield();
    clockid_t cid;
    pthread_getcpuclockid(t, &cid);
    int moved = 0, cpu_moved = 0;
    for (int i = 0; i < 2000 && (moved < 3 || cpu_moved < 3); i++) {
        struct timespec a, b;
        unsigned long before = counter;
        clock_gettime(cid, &a);
        usleep(200);
        clock_gettime(cid, &b);
        if (counter != before) moved++;
        if (b.tv_sec != a.tv_sec || b.tv_nsec != a.tv_nsec) cpu_moved++;
        char s = sibling_state();
        if (s != 'R') { go = 0; printf("DETECTED: sibling state %c\n", s); return 1; }
    }
    go = 0;
    pthread_join(t, NULL);
    if (moved < 3) { puts("DETECTED: the sibling did not progress"); return 1; }
    if (cpu_moved < 3) { puts("DETECTED: the sibling's CPU clock did not move"); return 1; }
    puts("CLEAN");
    return 0;
}
