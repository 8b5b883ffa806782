/* icebp (0xF1, "INT1"): the undocumented one-byte debug trap. Natively the program's SIGTRAP
 * handler gets it once, with si_code TRAP_BRKPT and rip just past it; single-steppers see it as an
 * ordinary step and swallow it (an anti-debug trick of al-khaser and many packers). */
#include "tlib.h"
#include "trap_log.h"

static void on_trap(int sig, t_siginfo *info, void *uc_)
{
    (void)sig;
    log_trap(info, uc_);
}

int main(void)
{
    check(on_signal(SIGTRAP, on_trap, 0) == 0, "sigaction failed");
    for (int i = 0; i < 8; i++) {
        u64 expect;
        __asm__ volatile("lea 1f(%%rip), %0\n .byte 0xf1\n1:\n" : "=r"(expect) :: "memory");
        if (traps != i + 1) detected_v("icebp traps", traps);
        if (last_rip != expect) detected("icebp trap at the wrong rip");
    }
    put("si_code "); put_i(last_code); put("\n");
    clean();
    return 0;
}
