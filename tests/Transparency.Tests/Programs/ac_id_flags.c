/* EFLAGS round trips through popf/pushf: AC (alignment check) and ID (the CPUID-support bit) must
 * toggle and read back exactly; an emulating or stepping tool that rewrites the flags image gets
 * them wrong. Prints the bits it saw. */
#include "tlib.h"

static u64 flags_now(void) { u64 f; __asm__ volatile("pushfq\n pop %0" : "=r"(f)); return f; }
static void flags_set(u64 f) { __asm__ volatile("push %0\n popfq" :: "r"(f) : "cc"); }

int main(void)
{
    const u64 AC = 1UL << 18, ID = 1UL << 21, TF = 0x100;
    u64 orig = flags_now();
    flags_set(orig ^ AC);
    u64 ac = flags_now();
    flags_set(orig);
    flags_set(orig ^ ID);
    u64 id = flags_now();
    flags_set(orig);
    u64 back = flags_now();
    put("AC toggles: "); put((ac ^ orig) & AC ? "yes" : "no");
    put(", ID toggles: "); put((id ^ orig) & ID ? "yes" : "no");
    put(", restored: "); put(back == orig ? "yes" : "no"); put("\n");
    check(!((ac | id | back | orig) & TF), "TF visible");
    check((ac ^ orig) & AC, "AC did not toggle");
    check((id ^ orig) & ID, "ID did not toggle");
    check(back == orig, "flags not restored");
    clean();
    return 0;
}
