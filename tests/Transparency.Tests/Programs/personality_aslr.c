/* gdb starts programs with address randomization off (personality ADDR_NO_RANDOMIZE): malware
 * checks the flag with personality(0xffffffff), and in /proc/self/personality. */
#include "tlib.h"

int main(void)
{
    i64 p = sys1(SYS_personality, 0xffffffff);
    check(p >= 0, "personality failed");
    if (p & 0x0040000) detected("ADDR_NO_RANDOMIZE is set");
    static char text[64];
    check(read_file("/proc/self/personality", text, sizeof text) > 0, "cannot read /proc/self/personality");
    i64 v = 0;
    for (const char *s = text; *s && *s != '\n'; s++) v = v * 16 + (*s <= '9' ? *s - '0' : (*s | 32) - 'a' + 10);
    if (v != p) detected("/proc/self/personality disagrees with personality()");
    clean();
    return 0;
}
