/* pushfq; popfq restoring the flags unchanged — what any code saving and restoring flags does.
 * Under a careless single-stepper the popped image carries the stepper's TF, the kernel then
 * counts TF as the program's own, and the program gets a SIGTRAP it never asked for. Even when the
 * image is clean, stepping popf makes the kernel forget that TF is the stepper's: it then shows in
 * r11 after the next system call (r11 holds the flags the syscall instruction saw) and in the next
 * signal frame. All three are checked after each round trip. */
#include "tlib.h"

static volatile u64 frame_flags;

static void on_usr1(int sig, t_siginfo *info, void *uc_) { (void)sig; (void)info; frame_flags = ((t_ucontext *)uc_)->gregs[REG_EFL]; }

int main(void)
{
    check(on_signal(SIGUSR1, on_usr1, 0) == 0, "sigaction failed");
    i64 me = sys0(SYS_getpid);
    u64 acc = 0;
    for (int i = 0; i < 20; i++) {
        u64 flags, r11;
        __asm__ volatile("pushfq\n popfq\n pushfq\n pop %0" : "=r"(flags) :: "cc");
        acc |= flags;
        __asm__ volatile("pushfw\n popfw" ::: "cc");
        __asm__ volatile("syscall" : "=r"(r11) : "a"(SYS_getppid) : "rcx", "r11", "memory");
        __asm__ volatile("mov %%r11, %0" : "=r"(r11));
        if (r11 & 0x100) detected("TF in r11 after a system call");
        __asm__ volatile("pushfq\n popfq" ::: "cc");
        frame_flags = 0;
        sys2(SYS_kill, me, SIGUSR1);
        if (frame_flags & 0x100) detected("TF in a signal frame after popf");
    }
    check(!(acc & 0x100), "TF set after popf round trips");
    clean();
    return 0;
}
