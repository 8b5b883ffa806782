/* Injected analysis code in the address space: /proc/self/maps naming frida, valgrind's preloads,
 * sanitizers or instrumentation runtimes (DynamoRIO, Pin). Valgrind and frida are caught. */
#include "tlib.h"

int main(void)
{
    static char maps[32768];
    check(read_file("/proc/self/maps", maps, sizeof maps) > 0, "cannot read maps");
    static const char *tools[] = { "frida", "valgrind", "vgpreload", "libasan", "libpinvm", "pinbin", "dynamorio", "libdynamorio", "gum-js" };
    char lower[512];
    for (const char *p = maps; *p; ) {
        size_t k = 0;
        while (*p && *p != '\n') { if (k + 1 < sizeof lower) lower[k++] = t_lower(*p); p++; }
        lower[k] = 0;
        if (*p) p++;
        for (unsigned i = 0; i < sizeof tools / sizeof tools[0]; i++)
            if (t_strstr(lower, tools[i])) { reason("mapping names "); detected(tools[i]); }
    }
    clean();
    return 0;
}
