/* CPU time against elapsed time: a program cannot have used more CPU than time has passed since it
 * started (it has one thread). Single-stepping burns seconds of system time in the kernel for each
 * millisecond of program; clock_gettime(CLOCK_PROCESS_CPUTIME_ID), getrusage(), times() and the
 * utime/stime fields of /proc/self/stat all show it, against a clock that says little time passed. */
#include "tlib.h"

struct rusage { struct t_timeval utime, stime; i64 rest[14]; };
struct tms { i64 utime, stime, cutime, cstime; };

int main(void)
{
    static char text[4096];
    check(read_file("/proc/self/stat", text, sizeof text) > 0, "cannot read stat");
    char field[32];
    check(stat_field(text, 22, field, sizeof field), "no starttime");
    i64 start_ticks = parse_i(field, NULL);
    volatile u64 x = 0;
    for (int i = 0; i < 3000; i++) x += i;

    struct t_timespec boot;
    sys2(SYS_clock_gettime, CLOCK_BOOTTIME, &boot);
    i64 age_ns = ts_ns(boot) - start_ticks * 10000000L; /* USER_HZ = 100 */
    check(age_ns > -20000000, "the process started in the future");

    i64 cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    struct rusage ru;
    sys2(SYS_getrusage, 0, &ru);
    i64 ru_ns = (ru.utime.sec + ru.stime.sec) * 1000000000L + (ru.utime.usec + ru.stime.usec) * 1000L;
    struct tms tms;
    sys1(SYS_times, &tms);
    check(read_file("/proc/self/stat", text, sizeof text) > 0, "cannot read stat");
    check(stat_field(text, 14, field, sizeof field), "no utime");
    i64 ut = parse_i(field, NULL);
    check(stat_field(text, 15, field, sizeof field), "no stime");
    i64 st = parse_i(field, NULL);
    /* Allow one clock tick (10 ms) of rounding, and 20 ms of starttime granularity. */
    i64 limit = age_ns + 30000000;
    if (cpu > limit) detected_v("CPU clock above the process age (ms)", cpu / 1000000);
    if (ru_ns > limit) detected_v("getrusage CPU above the process age (ms)", ru_ns / 1000000);
    if ((tms.utime + tms.stime) * 10000000L > limit) detected("times() CPU above the process age");
    if ((ut + st) * 10000000L > limit) detected("/proc/self/stat CPU above the process age");
    clean();
    return 0;
}
