/* A forked child seizes its parent (PTRACE_SEIZE), stops it with PTRACE_INTERRUPT, and reads the
 * parent's debug registers with PTRACE_PEEKUSER: hardware breakpoints (DR0-DR3 and DR7 enable bits)
 * betray a debugger. Natively all succeed and the debug registers are clear. */
#include "tlib.h"

int main(void)
{
    i64 parent = sys0(SYS_getpid);
    i64 child = sys0(SYS_fork);
    check(child >= 0, "fork failed");
    if (child == 0) {
        if (sys4(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, parent, 0, 0) != 0) exit_group(10);
        if (sys4(SYS_ptrace, 0x4207 /* PTRACE_INTERRUPT */, parent, 0, 0) != 0) exit_group(11);
        int status = 0;
        if (sys4(SYS_wait4, parent, &status, 0x40000000, 0) != parent) exit_group(12);
        if ((status & 0xff) != 0x7f || (status >> 16) != 128 /* PTRACE_EVENT_STOP */) exit_group(13);
        for (int i = 0; i < 8; i++) {
            if (i == 4 || i == 5) continue; /* DR4/DR5 do not exist */
            u64 v = 1;
            if (sys4(SYS_ptrace, 3 /* PTRACE_PEEKUSER */, parent, 848 + 8 * i, &v) != 0) exit_group(14);
            if (i < 4 && v != 0) exit_group(20 + i);
            if (i == 7 && (v & 0xff) != 0) exit_group(27);
        }
        if (sys4(SYS_ptrace, 17 /* PTRACE_DETACH */, parent, 0, 0) != 0) exit_group(15);
        exit_group(0);
    }
    int status = 0;
    check(sys4(SYS_wait4, child, &status, 0, 0) == child, "waitpid failed");
    int code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 100 + (status & 0x7f);
    put("child exit "); put_i(code); put("\n");
    check(code == 0, "the child could not inspect its parent");
    clean();
    return 0;
}
