/* Sandbox tells in the working directory's name: analysis sandboxes run samples in directories
 * named after themselves (cuckoo, sandbox, analysis, sample, malware, ether-record-...). */
#include "tlib.h"

int main(void)
{
    char cwd[1024];
    i64 n = sys2(SYS_getcwd, cwd, sizeof cwd);
    check(n > 0, "getcwd failed");
    for (char *p = cwd; *p; p++) *p = t_lower(*p);
    static const char *words[] = { "ether", "record", "sandbox", "sample", "malware", "analysis", "cuckoo", "trace", "virus", "sbx" };
    for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++)
        if (t_strstr(cwd, words[i])) { reason("working directory names "); detected(words[i]); }
    clean();
    return 0;
}
