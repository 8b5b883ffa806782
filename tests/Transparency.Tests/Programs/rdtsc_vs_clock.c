/* The TSC against the clock: (rdtsc difference) / (clock_gettime difference) across a short busy
 * loop gives the TSC frequency, which must be plausible (0.2 - 20 GHz). A tool that slows rdtsc
 * down (or fakes it) but not the clock, or the other way round, shows an absurd frequency.
 * Three tries, the median kept. */
#include "tlib.h"

int main(void)
{
    u64 ghz_x100[3];
    for (int t = 0; t < 3; t++) {
        struct tsc_span span;
        tsc_span_start(&span);
        volatile u64 x = 0;
        for (int i = 0; i < 4000; i++) x += i;
        tsc_span_end(&span);
        if (span.ns1 - span.ns0 <= 0) detected("the clock did not advance");
        ghz_x100[t] = tsc_ghz_x100(&span);
    }
    u64 lo = ghz_x100[0], mid = ghz_x100[1], hi = ghz_x100[2], s;
    if (lo > mid) { s = lo; lo = mid; mid = s; }
    if (mid > hi) { s = mid; mid = hi; hi = s; }
    if (lo > mid) { s = lo; lo = mid; mid = s; }
    if (mid < 20 || mid > 2000) detected_v("implausible TSC frequency (GHz x100)", (i64)mid);
    clean();
    return 0;
}
