/* The forked-child check: a child attaches to its parent with PTRACE_ATTACH. A traced parent
 * cannot be attached (EPERM): the classic "self-debugging" anti-debug trick of Linux packers.
 * Natively the attach succeeds, the child's waitpid sees the parent stopped by SIGSTOP, the
 * parent's /proc status shows the child as TracerPid and "t (tracing stop)", PTRACE_PEEKDATA reads
 * the parent's memory, and PTRACE_DETACH lets it go on. */
#include "tlib.h"

static volatile u64 secret = 0x5eC12e7c0ffee;

int main(void)
{
    i64 parent = sys0(SYS_getpid);
    i64 child = sys0(SYS_fork);
    check(child >= 0, "fork failed");
    if (child == 0) {
        if (sys4(SYS_ptrace, 16 /* PTRACE_ATTACH */, parent, 0, 0) != 0) exit_group(10);
        int status = 0;
        if (sys4(SYS_wait4, parent, &status, 0x40000000 /* __WALL */, 0) != parent) exit_group(11);
        if ((status & 0xff) != 0x7f || ((status >> 8) & 0xff) != SIGSTOP) exit_group(12);
        static char text[8192], state[64], path[64];
        path_cat(path_num(path_cat(path, "/proc/"), parent), "/status");
        if (read_file(path, text, sizeof text) <= 0) exit_group(13);
        if (status_field(text, "TracerPid") != sys0(SYS_getpid)) exit_group(14);
        if (!status_text(text, "State", state, sizeof state) || state[0] != 't') exit_group(15);
        u64 word = 0;
        if (sys4(SYS_ptrace, 2 /* PTRACE_PEEKDATA */, parent, &secret, &word) != 0) exit_group(16);
        if (word != secret) exit_group(17);
        if (sys4(SYS_ptrace, 17 /* PTRACE_DETACH */, parent, 0, 0) != 0) exit_group(18);
        exit_group(0);
    }
    int status = 0;
    check(sys4(SYS_wait4, child, &status, 0, 0) == child, "waitpid failed");
    int code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 100 + (status & 0x7f);
    put("child exit "); put_i(code); put("\n");
    check(code == 0, "the child could not debug its parent");
    clean();
    return 0;
}
