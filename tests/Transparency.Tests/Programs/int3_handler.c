/* A SIGTRAP handler counts 64 int3 instructions (each handler run with SIGTRAP blocked, as is the
 * default). Debuggers take the breakpoint themselves (gdb stops, strace passes it on), and a
 * single-stepper that traps inside the handler — where SIGTRAP is blocked — makes the kernel reset
 * the handler to SIG_DFL, so the program dies at its next int3. */
#include "tlib.h"
#include "trap_log.h"

static void on_trap(int sig, t_siginfo *info, void *uc_)
{
    (void)sig;
    log_trap(info, uc_);
    /* some work with SIGTRAP blocked */
    volatile u64 x = 0;
    for (int i = 0; i < 20; i++) x += i;
}

int main(void)
{
    check(on_signal(SIGTRAP, on_trap, 0) == 0, "sigaction failed");
    u64 expect = 0;
    for (int i = 0; i < 64; i++) {
        __asm__ volatile("lea 1f(%%rip), %0\n int3\n1:\n" : "=r"(expect) :: "memory");
        if (last_rip != expect) detected("int3 handler saw the wrong rip");
    }
    put("traps "); put_i(traps); put(", si_code "); put_x((u64)(u32)last_code); put("\n");
    check(traps == 64, "not every int3 reached the handler");
    clean();
    return 0;
}
