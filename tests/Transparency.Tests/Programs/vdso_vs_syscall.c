/* clock_gettime through the vDSO and through the system call, interleaved: the two must give one
 * consistent clock (never going back, within 20 ms of each other in most samples). A tool that fakes one form but
 * not the other (typically the system call but not the vDSO) is caught, for every common clock. */
#include "tlib.h"

int main(void)
{
    clock_gettime_fn vdso = vdso_clock_gettime();
    check(vdso != NULL, "no vDSO clock_gettime");
    static const int clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_TAI };
    for (unsigned c = 0; c < sizeof clocks / sizeof clocks[0]; c++) {
        i64 last = 0;
        int apart = 0;
        for (int i = 0; i < 20; i++) {
            struct t_timespec v = { 0, 0 }, s = { 0, 0 };
            vdso(clocks[c], &v);
            sys2(SYS_clock_gettime, clocks[c], &s);
            i64 vn = ts_ns(v), sn = ts_ns(s);
            if (vn < last || sn < vn) detected_v("clock went backwards between the vDSO and the system call, clock", clocks[c]);
            if (sn - vn > 20000000) apart++; /* natively only when preempted in between */
            last = sn;
        }
        if (apart > 10) detected_v("vDSO and system call disagree, clock", clocks[c]);
    }
    clean();
    return 0;
}
