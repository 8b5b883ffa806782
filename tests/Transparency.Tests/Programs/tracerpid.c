/* TracerPid in /proc/self/status: the most common Linux anti-debug check (seen in Linux malware
 * such as Mirai variants and in every anti-debug collection): a non-zero TracerPid means a tracer. */
#include "tlib.h"

int main(void)
{
    static char text[8192];
    i64 n = read_file("/proc/self/status", text, sizeof text);
    check(n > 0, "cannot read /proc/self/status");
    i64 tracer = status_field(text, "TracerPid");
    check(tracer == 0, "TracerPid is not 0");
    clean();
    return 0;
}
