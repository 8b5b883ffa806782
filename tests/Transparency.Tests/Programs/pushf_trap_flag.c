/* pushf shows the trap flag: a debugger single-stepping with TF leaves it in every flags image
 * the program pushes (the "trap flag check" of anti-debug collections). Checked 100 times, also
 * with the 16-bit pushf. */
#include "tlib.h"

int main(void)
{
    for (int i = 0; i < 100; i++) {
        u64 flags;
        u16 flags16;
        __asm__ volatile("pushfq\n pop %0" : "=r"(flags));
        __asm__ volatile("pushfw\n popw %0" : "=r"(flags16));
        if (flags & 0x100) detected("TF set in pushfq");
        if (flags16 & 0x100) detected("TF set in pushfw");
    }
    clean();
    return 0;
}
