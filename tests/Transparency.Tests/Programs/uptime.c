/* Uptime, three ways: /proc/uptime, sysinfo() and CLOCK_BOOTTIME must agree (within 1 s). Sandboxes
 * that fake one (a young machine, or a clock slowed for the sample) are caught; so is a recorder
 * whose virtual clock and the kernel's uptime drift apart. */
#include "tlib.h"

struct sysinfo_t { i64 uptime; u64 loads[3]; u64 totalram, freeram, sharedram, bufferram, totalswap, freeswap; u16 procs, pad; u64 totalhigh, freehigh; u32 mem_unit; char f[8]; };

int main(void)
{
    volatile u64 x = 0;
    for (int i = 0; i < 2000; i++) x += i;
    static char text[128];
    check(read_file("/proc/uptime", text, sizeof text) > 0, "cannot read /proc/uptime");
    const char *p;
    i64 secs = parse_i(text, &p);
    i64 centi = *p == '.' ? parse_i(p + 1, NULL) : 0;
    i64 proc_ms = secs * 1000 + centi * 10;
    i64 boot_ms = now_ns(CLOCK_BOOTTIME) / 1000000;
    struct sysinfo_t si;
    check(sys1(SYS_sysinfo, &si) == 0, "sysinfo failed");
    if (proc_ms > boot_ms + 20 || boot_ms - proc_ms > 1000) detected_v("/proc/uptime vs CLOCK_BOOTTIME (ms)", boot_ms - proc_ms);
    if (si.uptime * 1000 > boot_ms + 1000 || boot_ms - si.uptime * 1000 > 2000) detected_v("sysinfo uptime vs CLOCK_BOOTTIME (ms)", boot_ms - si.uptime * 1000);
    clean();
    return 0;
}
