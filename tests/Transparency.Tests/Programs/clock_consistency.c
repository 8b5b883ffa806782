/* Every clock against the others (the vDSO forms, as libc uses them): gettimeofday and time() (within its tick)
 * agree with CLOCK_REALTIME; MONOTONIC <= BOOTTIME; MONOTONIC_RAW and MONOTONIC advance alike; the
 * coarse clocks trail their precise clocks by less than a tick or two; TAI - REALTIME is the same
 * offset every time (printed: it must be the native one); the CPU-time clocks stay below the time
 * that passed since the program started. A tool that fakes some clocks but not others is caught. */
#include "tlib.h"

int main(void)
{
    clock_gettime_fn cg = vdso_clock_gettime();
    gettimeofday_fn gtod = (gettimeofday_fn)vdso_sym("__vdso_gettimeofday");
    time_fn tm = (time_fn)vdso_sym("__vdso_time");
    check(cg && gtod && tm, "vDSO time functions missing");
    struct t_timespec t;
    cg(CLOCK_MONOTONIC, &t);
    i64 start_mono = ts_ns(t);
    volatile u64 x = 0;
    for (int i = 0; i < 2000; i++) x += i;

    int far = 0;
    i64 first_raw = 0, first_mono = 0, last_raw = 0, last_mono = 0;
    i64 tai_offset = 0;
    for (int i = 0; i < 10; i++) {
        struct t_timespec rt, rtc, mono, monoc, raw, boot, tai, pcpu, tcpu;
        struct t_timeval tv;
        cg(CLOCK_REALTIME_COARSE, &rtc);
        cg(CLOCK_MONOTONIC_COARSE, &monoc);
        cg(CLOCK_REALTIME, &rt);
        gtod(&tv, NULL);
        i64 secs = tm(NULL);
        cg(CLOCK_MONOTONIC, &mono);
        cg(CLOCK_BOOTTIME, &boot);
        cg(CLOCK_MONOTONIC_RAW, &raw);
        cg(CLOCK_TAI, &tai);
        cg(CLOCK_THREAD_CPUTIME_ID, &tcpu);
        cg(CLOCK_PROCESS_CPUTIME_ID, &pcpu);
        i64 rt_ns = ts_ns(rt), tv_ns = tv.sec * 1000000000L + tv.usec * 1000;
        if (tv_ns < rt_ns - 1000) detected("gettimeofday before CLOCK_REALTIME");
        if (tv_ns - rt_ns > 20000000) far++;
        /* time() is the coarse clock (moved at each tick): just after a second starts it still shows the one before. */
        if (secs < rt.sec - 1 || secs - rt.sec > 1) detected("time() disagrees with CLOCK_REALTIME");
        if (ts_ns(rtc) > rt_ns) detected("REALTIME_COARSE ahead of REALTIME");
        if (rt_ns - ts_ns(rtc) > 50000000) far++;
        if (ts_ns(monoc) > ts_ns(mono)) detected("MONOTONIC_COARSE ahead of MONOTONIC");
        if (ts_ns(boot) < ts_ns(mono)) detected("BOOTTIME behind MONOTONIC");
        i64 offset = (ts_ns(tai) - rt_ns + 500000000) / 1000000000;
        if (i == 0) tai_offset = offset;
        else if (offset != tai_offset) detected("TAI offset changed");
        if (ts_ns(tcpu) > ts_ns(pcpu)) detected("thread CPU time above process CPU time");
        if (ts_ns(pcpu) > ts_ns(mono) - start_mono + 30000000) detected("more CPU time than time since the start");
        if (i == 0) first_raw = ts_ns(raw), first_mono = ts_ns(mono);
        last_raw = ts_ns(raw), last_mono = ts_ns(mono);
    }
    if (far > 5) detected("clocks far apart");
    i64 d_raw = last_raw - first_raw, d_mono = last_mono - first_mono;
    if (d_raw <= 0 || d_mono <= 0) detected("MONOTONIC or MONOTONIC_RAW did not advance");
    if (d_raw > 2 * d_mono + 1000000 || d_mono > 2 * d_raw + 1000000) detected("MONOTONIC_RAW and MONOTONIC advance at different rates");
    put("TAI - UTC = "); put_i(tai_offset); put(" s\n");
    clean();
    return 0;
}
