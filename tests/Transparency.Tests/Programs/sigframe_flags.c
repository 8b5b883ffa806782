/* The flags a signal handler finds in its frame (uc_mcontext EFLAGS) and the flags inside the
 * handler: a single-stepper's TF shows in both unless hidden. Also checks the handler's own pushf
 * and that the saved flags equal the flags just before the signal (a pushf right before kill). */
#include "tlib.h"

static volatile u64 frame_flags, handler_flags;
static volatile int calls;

static void on_usr1(int sig, t_siginfo *info, void *uc_)
{
    (void)sig; (void)info;
    t_ucontext *uc = uc_;
    frame_flags = uc->gregs[REG_EFL];
    u64 f;
    __asm__ volatile("pushfq\n pop %0" : "=r"(f));
    handler_flags = f;
    calls++;
}

int main(void)
{
    check(on_signal(SIGUSR1, on_usr1, 0) == 0, "sigaction failed");
    i64 me = sys0(SYS_getpid);
    for (int i = 0; i < 20; i++) {
        sys2(SYS_kill, me, SIGUSR1);
        if (frame_flags & 0x100) detected("TF in the signal frame");
        if (handler_flags & 0x100) detected("TF inside the handler");
    }
    check(calls == 20, "handler not run");
    clean();
    return 0;
}
