/* Sleep acceleration: sandboxes that skip sleeps without moving the clocks are caught by timing
 * the sleep itself. nanosleep(50 ms) must take at least 50 ms on CLOCK_MONOTONIC and by rdtsc
 * (checked against the TSC frequency measured on a sleep-free stretch), and at most a few seconds. */
#include "tlib.h"

int main(void)
{
    struct tsc_span busy;
    tsc_span_start(&busy);
    volatile u64 x = 0;
    for (int i = 0; i < 3000; i++) x += i;
    tsc_span_end(&busy);
    check(busy.ns1 > busy.ns0 && busy.tsc1 > busy.tsc0, "clocks do not advance");

    struct tsc_span sleep;
    tsc_span_start(&sleep);
    sleep_ns(50000000);
    tsc_span_end(&sleep);
    i64 took = sleep.ns1 - sleep.ns0;
    if (took < 50000000) detected_v("nanosleep(50 ms) took (us)", took / 1000);
    if (took > 5000000000L) detected_v("nanosleep(50 ms) took (us)", took / 1000);
    /* the TSC frequency over the clock-checked sleep itself must be plausible (0.2-20 GHz) */
    u64 ghz_x100 = tsc_ghz_x100(&sleep);
    if (ghz_x100 < 20 || ghz_x100 > 2000) detected_v("TSC did not follow the sleep (GHz x100)", (i64)ghz_x100);
    clean();
    return 0;
}
