/* Sleeps ten minutes (the evasion a sandbox must skip) and prints how long the clock says it slept. */
#include "tlib.h"

int main(void)
{
    i64 a = sys_now_ns(CLOCK_MONOTONIC);
    sleep_ns(600L * 1000000000L);
    i64 b = sys_now_ns(CLOCK_MONOTONIC);
    put("slept_ms "); put_i((b - a) / 1000000); put("\n");
    flush();
    return 0;
}
