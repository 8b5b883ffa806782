/* Prints time values as the program saw them, for a test that finds each one in the trace: two
 * CLOCK_MONOTONIC readings through the vDSO around a fixed loop, and an rdtsc. */
#include "tlib.h"

int main(void)
{
    struct t_timespec a, b;
    clock_gettime_fn f = vdso_clock_gettime();
    f(CLOCK_MONOTONIC, &a);
    volatile u64 x = 0;
    for (int i = 0; i < 1000; i++) x += i;
    f(CLOCK_MONOTONIC, &b);
    u64 tsc = rdtsc();
    put("a "); put_i(ts_ns(a)); put("\n");
    put("b "); put_i(ts_ns(b)); put("\n");
    put("tsc "); put_u(tsc); put("\n");
    flush();
    return 0;
}
