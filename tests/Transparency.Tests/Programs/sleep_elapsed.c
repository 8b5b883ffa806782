/* Sleep acceleration: sandboxes that skip sleeps without moving the clocks are caught by timing
 * the sleep itself. nanosleep(50 ms) must take at least 50 ms on CLOCK_MONOTONIC and by rdtsc
 * (checked against the TSC frequency measured on a sleep-free stretch), and at most a few seconds. */
#include "tlib.h"

int main(void)
{
    i64 c0 = now_ns(CLOCK_MONOTONIC);
    u64 t0 = rdtsc();
    volatile u64 x = 0;
    for (int i = 0; i < 3000; i++) x += i;
    u64 t1 = rdtsc();
    i64 c1 = now_ns(CLOCK_MONOTONIC);
    check(c1 > c0 && t1 > t0, "clocks do not advance");

    i64 a = now_ns(CLOCK_MONOTONIC);
    u64 ta = rdtsc();
    sleep_ns(50000000);
    u64 tb = rdtsc();
    i64 b = now_ns(CLOCK_MONOTONIC);
    if (b - a < 50000000) detected_v("nanosleep(50 ms) took (us)", (b - a) / 1000);
    if (b - a > 5000000000L) detected_v("nanosleep(50 ms) took (us)", (b - a) / 1000);
    /* TSC ticks per ns, from the sleep, against the clock over the same sleep: within 20 %. */
    u64 expect = (u64)(b - a);
    u64 got_ns_x = (tb - ta);
    /* frequency from the clock-checked sleep itself must be plausible (0.2-20 GHz) */
    u64 ghz_x100 = got_ns_x * 100 / expect;
    if (ghz_x100 < 20 || ghz_x100 > 2000) detected_v("TSC did not follow the sleep (GHz x100)", (i64)ghz_x100);
    clean();
    return 0;
}
