/* A user-mode iretq to the next instruction (used by obfuscators as an indirect jump, and by
 * anti-debug code because it reloads RFLAGS from memory). The flags after it must be the ones
 * the frame held, without TF, and the program must not get a stray SIGTRAP. */
#include "tlib.h"

int main(void)
{
    for (int i = 0; i < 50; i++) {
        u64 after;
        __asm__ volatile(
            "mov %%ss, %%rax\n push %%rax\n"   /* ss */
            "lea 8(%%rsp), %%rax\n push %%rax\n" /* rsp after the iret = rsp before the pushes */
            "pushfq\n"
            "mov %%cs, %%rax\n push %%rax\n"
            "lea 1f(%%rip), %%rax\n push %%rax\n"
            "iretq\n"
            "1: pushfq\n pop %0\n"
            : "=r"(after) :: "rax", "cc", "memory");
        if (after & 0x100) detected("TF set after iretq");
    }
    clean();
    return 0;
}
