/* Exception-driven control flow (the Linux counterpart of SEH tricks): SIGSEGV from a null read,
 * SIGILL from ud2 and SIGFPE from a division by zero, each handled and skipped, 16 times. A
 * debugger that stops on each (gdb) or swallows one changes the count. */
#include "tlib.h"

static volatile int segv, ill, fpe;

static void on_fault(int sig, t_siginfo *info, void *uc_)
{
    (void)info;
    t_ucontext *uc = uc_;
    if (sig == SIGSEGV) { segv++; uc->gregs[REG_RIP] += 3; }      /* mov (%rax),%rax */
    else if (sig == SIGILL) { ill++; uc->gregs[REG_RIP] += 2; }  /* ud2 */
    else { fpe++; uc->gregs[REG_RIP] += 3; }                     /* div %rcx */
}

int main(void)
{
    check(on_signal(SIGSEGV, on_fault, 0) == 0, "sigaction failed");
    check(on_signal(SIGILL, on_fault, 0) == 0, "sigaction failed");
    check(on_signal(8 /* SIGFPE */, on_fault, 0) == 0, "sigaction failed");
    for (int i = 0; i < 16; i++) {
        __asm__ volatile("xor %%eax,%%eax\n mov (%%rax),%%rax" ::: "rax", "memory");
        __asm__ volatile("ud2" ::: "memory");
        __asm__ volatile("xor %%edx,%%edx\n mov $1,%%eax\n xor %%ecx,%%ecx\n div %%rcx" ::: "rax", "rcx", "rdx", "memory");
    }
    put("segv "); put_i(segv); put(", ill "); put_i(ill); put(", fpe "); put_i(fpe); put("\n");
    check(segv == 16 && ill == 16 && fpe == 16, "an exception was lost");
    clean();
    return 0;
}
