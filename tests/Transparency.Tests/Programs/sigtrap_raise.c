/* raise(SIGTRAP) with a handler installed: a debugger takes the SIGTRAP for itself (gdb stops and
 * by default does not pass it on), so the handler never runs — a classic Linux anti-debug check.
 * The handler must run once per kill, with si_code SI_USER and the program's own pid. */
#include "tlib.h"

static volatile int traps, code, sender;

static void on_trap(int sig, t_siginfo *info, void *uc)
{
    (void)sig; (void)uc;
    traps++;
    code = info->si_code;
    sender = info->u.kill.pid;
}

int main(void)
{
    check(on_signal(SIGTRAP, on_trap, 0) == 0, "sigaction failed");
    i64 me = sys0(SYS_getpid);
    for (int i = 0; i < 5; i++) sys2(SYS_kill, me, SIGTRAP);
    put("traps "); put_i(traps); put(", si_code "); put_i(code); put("\n");
    check(traps == 5, "the SIGTRAP handler did not run");
    check(sender == me, "the sender is not the program");
    clean();
    return 0;
}
