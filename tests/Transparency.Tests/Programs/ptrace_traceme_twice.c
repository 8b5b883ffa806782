/* The careful PTRACE_TRACEME check: the first call must succeed, a second must fail with EPERM
 * (a tracer that simply makes every TRACEME "succeed" is caught), and afterwards /proc/self/status
 * must name the parent as TracerPid, as it does natively. */
#include "tlib.h"

int main(void)
{
    i64 first = sys4(SYS_ptrace, 0, 0, 0, 0);
    i64 second = sys4(SYS_ptrace, 0, 0, 0, 0);
    put("first "); put_i(first); put(", second "); put_i(second); put("\n");
    check(first == 0, "first PTRACE_TRACEME failed");
    check(second == -1, "second PTRACE_TRACEME did not fail with EPERM");
    static char text[8192];
    check(read_file("/proc/self/status", text, sizeof text) > 0, "cannot read status");
    check(status_field(text, "TracerPid") == sys0(SYS_getppid), "TracerPid is not the parent");
    clean();
    return 0;
}
