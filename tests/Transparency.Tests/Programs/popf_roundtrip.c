/* pushfq; popfq restoring the flags unchanged — what any code saving and restoring flags does.
 * Under a careless single-stepper the popped image carries the stepper's TF, the kernel then
 * counts TF as the program's own, and the program gets a SIGTRAP it never asked for. */
#include "tlib.h"

int main(void)
{
    u64 acc = 0;
    for (int i = 0; i < 100; i++) {
        u64 flags;
        __asm__ volatile("pushfq\n popfq\n pushfq\n pop %0" : "=r"(flags) :: "cc");
        acc |= flags;
        __asm__ volatile("pushfw\n popfw" ::: "cc");
    }
    check(!(acc & 0x100), "TF set after popf round trips");
    clean();
    return 0;
}
