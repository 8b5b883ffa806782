/* The usual timing checks in a dynamically linked program (the loader itself reads the TSC at
 * start-up, and libc finds the vDSO through the loader): clock_gettime, gettimeofday and time()
 * agree; a 3,000-iteration loop takes under 50 ms by the clock and under 100 M TSC cycles; a 20 ms
 * nanosleep takes at least 20 ms by both. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <x86intrin.h>

static long ns(struct timespec t) { return t.tv_sec * 1000000000L + t.tv_nsec; }

int main(void)
{
    long best = 1L << 62;
    unsigned long best_tsc = ~0UL;
    for (int t = 0; t < 3; t++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        unsigned long ta = __rdtsc();
        volatile unsigned long x = 0;
        for (int i = 0; i < 3000; i++) x += i;
        unsigned long tb = __rdtsc();
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ns(b) - ns(a) < best) best = ns(b) - ns(a);
        if (tb - ta < best_tsc) best_tsc = tb - ta;
    }
    if (best > 50000000) { printf("DETECTED: loop took %ld ns\n", best); return 1; }
    if (best_tsc > 100000000) { printf("DETECTED: loop took %lu cycles\n", best_tsc); return 1; }
    struct timespec rt, a, b;
    struct timeval tv;
    clock_gettime(CLOCK_REALTIME, &rt);
    gettimeofday(&tv, NULL);
    time_t now = time(NULL);
    /* time() reads the coarse clock, which the kernel moves at each tick: for the few ms between a second's start and
     * the next tick it still shows the previous second (natively ~0.5 % of calls here, HZ 250), so it may trail. */
    if (now < rt.tv_sec - 1 || now > rt.tv_sec + 1) { puts("DETECTED: time() disagrees"); return 1; }
    if (tv.tv_sec < rt.tv_sec || tv.tv_sec > rt.tv_sec + 1) { puts("DETECTED: gettimeofday disagrees"); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &a);
    unsigned long ta = __rdtsc();
    struct timespec d = { 0, 20000000 };
    nanosleep(&d, NULL);
    unsigned long tb = __rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &b);
    long slept = ns(b) - ns(a);
    if (slept < 20000000) { printf("DETECTED: nanosleep(20 ms) took %ld ns\n", slept); return 1; }
    double ghz = (double)(tb - ta) / (double)slept;
    if (ghz < 0.2 || ghz > 20) { printf("DETECTED: TSC did not follow the sleep\n"); return 1; }
    puts("CLEAN");
    return 0;
}
