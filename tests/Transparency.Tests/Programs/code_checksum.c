/* Software breakpoints in the program's own code: a debugger's int3 (0xCC) patched over an
 * instruction changes the code's checksum and its first byte. The program checksums its own
 * functions before and after some work, and looks for 0xCC at their entries. */
#include "tlib.h"

static u64 fnv(const u8 *p, size_t n) { u64 h = 1469598103934665603UL; while (n--) { h ^= *p++; h *= 1099511628211UL; } return h; }

__attribute__((noinline)) static u64 work(u64 x) { for (int i = 0; i < 100; i++) x = x * 6364136223846793005UL + 1442695040888963407UL; return x; }

int main(void)
{
    const u8 *start = (const u8 *)work, *m = (const u8 *)main;
    u64 before = fnv(start, 64) ^ fnv(m, 64);
    if (*start == 0xcc || *m == 0xcc) detected("int3 at a function entry");
    volatile u64 r = work(42);
    (void)r;
    u64 after = fnv(start, 64) ^ fnv(m, 64);
    if (before != after) detected("the code changed while it ran");
    clean();
    return 0;
}
