/* pafish's rdtsc_diff: the average of 10 back-to-back rdtsc differences must be below 750 cycles
 * (single-stepping puts a trap and a tracer round trip between them: tens of thousands). Repeated
 * 20 times and the smallest average kept, so that a native run preempted once is not "detected". */
#include "tlib.h"

int main(void)
{
    u64 best = ~0UL;
    for (int round = 0; round < 20; round++) {
        u64 sum = 0;
        for (int i = 0; i < 10; i++) {
            u64 a = rdtsc();
            u64 b = rdtsc();
            sum += b - a;
        }
        if (sum / 10 < best) best = sum / 10;
    }
    check(best > 0, "rdtsc does not advance");
    if (best >= 750) detected_v("rdtsc difference", (i64)best);
    clean();
    return 0;
}
