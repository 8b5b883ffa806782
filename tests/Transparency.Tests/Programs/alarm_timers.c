/* Timers: alarm(1) then pause() must end with SIGALRM (si_code SI_KERNEL) after at least 1 s;
 * setitimer(ITIMER_REAL, 30 ms) must fire after at least 30 ms, and getitimer right after setting
 * it must show close to 30 ms left. A sandbox that fires timers early or not at all is caught. */
#include "tlib.h"

static volatile int alarms, code;

static void on_alarm(int sig, t_siginfo *info, void *uc) { (void)sig; (void)uc; alarms++; code = info->si_code; }

struct itimerval { struct t_timeval interval, value; };

int main(void)
{
    check(on_signal(SIGALRM, on_alarm, 0) == 0, "sigaction failed");
    i64 a = now_ns(CLOCK_MONOTONIC);
    check(sys1(SYS_alarm, 1) == 0, "alarm returned a previous alarm");
    while (!alarms) sys0(SYS_pause);
    i64 b = now_ns(CLOCK_MONOTONIC);
    if (b - a < 1000000000L) detected_v("alarm(1) fired after (ms)", (b - a) / 1000000);
    put("alarm si_code "); put_x((u64)(u32)code); put("\n");

    struct itimerval it = { { 0, 0 }, { 0, 30000 } }, left;
    a = now_ns(CLOCK_MONOTONIC);
    check(sys3(SYS_setitimer, 0, &it, NULL) == 0, "setitimer failed");
    check(sys2(SYS_getitimer, 0, &left) == 0, "getitimer failed");
    i64 left_us = left.value.sec * 1000000 + left.value.usec;
    if (left_us > 30000 || left_us < 20000) detected_v("getitimer right after setitimer(30 ms) (us)", left_us);
    while (alarms < 2) sys0(SYS_pause);
    b = now_ns(CLOCK_MONOTONIC);
    if (b - a < 30000000) detected_v("ITIMER_REAL(30 ms) fired after (us)", (b - a) / 1000);
    clean();
    return 0;
}
