/* ptrace(PTRACE_TRACEME) fails when a tracer is already attached: the classic one-line Linux
 * anti-debug trick (and the first check in many ELF packers and crackmes). */
#include "tlib.h"

int main(void)
{
    i64 r = sys4(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
    check(r == 0, "PTRACE_TRACEME failed");
    clean();
    return 0;
}
