/* The TSC mode: prctl(PR_GET_TSC) must say rdtsc is allowed (a tool that traps rdtsc with
 * PR_SET_TSC shows PR_TSC_SIGSEGV here), and a program that sets PR_TSC_SIGSEGV itself must get
 * SIGSEGV from its rdtsc, and a working rdtsc again after PR_TSC_ENABLE. */
#include "tlib.h"

static volatile int segv;
static void on_segv(int sig, t_siginfo *info, void *uc_) { (void)sig; (void)info; t_ucontext *uc = uc_; segv++; uc->gregs[REG_RIP] += 2; }

int main(void)
{
    int mode = -1;
    check(sys2(SYS_prctl, 25 /* PR_GET_TSC */, &mode) == 0, "PR_GET_TSC failed");
    if (mode != 1 /* PR_TSC_ENABLE */) detected_v("PR_GET_TSC says", mode);
    check(on_signal(SIGSEGV, on_segv, 0) == 0, "sigaction failed");
    check(sys2(SYS_prctl, 26 /* PR_SET_TSC */, 2 /* PR_TSC_SIGSEGV */) == 0, "PR_SET_TSC failed");
    mode = -1;
    sys2(SYS_prctl, 25, &mode);
    if (mode != 2) detected_v("PR_GET_TSC after setting SIGSEGV says", mode);
    __asm__ volatile("rdtsc" ::: "rax", "rdx", "memory");
    if (segv != 1) detected_v("rdtsc under PR_TSC_SIGSEGV raised SIGSEGV times:", segv);
    check(sys2(SYS_prctl, 26, 1) == 0, "PR_SET_TSC enable failed");
    u64 a = rdtsc(), b = rdtsc();
    if (segv != 1) detected("rdtsc faulted after PR_TSC_ENABLE");
    if (b < a) detected("rdtsc went backwards");
    clean();
    return 0;
}
