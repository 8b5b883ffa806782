/* The program sets TF itself (pushf; or 0x100; popf) and expects exactly one SIGTRAP, right after
 * the instruction that follows the popf (si_code TRAP_TRACE, si_addr and the saved rip just past
 * it). A debugger that single-steps swallows it or reports it at the wrong place. */
#include "tlib.h"

static volatile int traps;
static volatile u64 trap_rip, trap_addr;
static volatile int trap_code;
extern char after_nop[];

static void on_trap(int sig, t_siginfo *info, void *uc_)
{
    (void)sig;
    t_ucontext *uc = uc_;
    traps++;
    trap_rip = uc->gregs[REG_RIP];
    trap_addr = (u64)info->u.addr;
    trap_code = info->si_code;
    uc->gregs[REG_EFL] &= ~0x100UL; /* stop single-stepping on return */
}

int main(void)
{
    check(on_signal(SIGTRAP, on_trap, 0) == 0, "sigaction failed");
    for (int i = 0; i < 10; i++) {
        traps = 0;
        __asm__ volatile(
            "pushfq\n orq $0x100, (%%rsp)\n popfq\n"
            "nop\n"
            ".globl after_nop\nafter_nop:\n"
            "nop\n nop\n" ::: "cc", "memory");
        if (traps != 1) detected_v("SIGTRAP count", traps);
        if (trap_rip != (u64)after_nop) detected("trap at the wrong instruction");
        if (trap_code != 2 /* TRAP_TRACE */) detected_v("si_code", trap_code);
    }
    put("si_code "); put_i(trap_code); put(", si_addr at the trap: "); put(trap_addr == (u64)after_nop ? "yes" : "no"); put("\n");
    clean();
    return 0;
}
