/* TracerPid the way most C malware reads it: fopen("/proc/self/status") and fgets line by line
 * (glibc's stdio reads the file in 1 KB/4 KB blocks), then strncmp "TracerPid:". Static glibc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) { puts("DETECTED: cannot open /proc/self/status"); return 1; }
    char line[256];
    int tracer = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "TracerPid:", 10)) tracer = atoi(line + 10);
    fclose(f);
    if (tracer != 0) { printf("DETECTED: TracerPid %d\n", tracer); return 1; }
    puts("CLEAN");
    return 0;
}
