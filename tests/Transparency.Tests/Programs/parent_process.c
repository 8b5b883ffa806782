/* Who started me? Linux malware reads /proc/<ppid>/comm, exe and cmdline and quits when the parent
 * is a debugger or tracer (gdb, strace, ltrace, valgrind, frida, radare2, ...). Stricter here: the
 * parent must be a shell (sh, dash, bash, zsh, ksh, fish, busybox) by comm and by executable, and its
 * command line must not name an analysis tool. */
#include "tlib.h"

static int is_shell(const char *name)
{
    static const char *shells[] = { "sh", "dash", "bash", "zsh", "ksh", "mksh", "fish", "busybox", "ash" };
    for (unsigned i = 0; i < sizeof shells / sizeof shells[0]; i++) if (!t_strcmp(name, shells[i])) return 1;
    return 0;
}

int main(void)
{
    i64 ppid = sys0(SYS_getppid);
    char path[64], text[4096], exe[512];
    path_cat(path_num(path_cat(path, "/proc/"), ppid), "/comm");
    check(read_file(path, text, sizeof text) > 0, "cannot read the parent's comm");
    for (char *p = text; *p; p++) if (*p == '\n') *p = 0;
    if (!is_shell(text)) { reason("parent comm "); detected(text); }

    path_cat(path_num(path_cat(path, "/proc/"), ppid), "/exe");
    i64 n = sys3(SYS_readlink, path, exe, sizeof exe - 1);
    check(n > 0, "cannot read the parent's exe link");
    exe[n] = 0;
    if (!is_shell(t_basename(exe))) { reason("parent exe "); detected(exe); }

    path_cat(path_num(path_cat(path, "/proc/"), ppid), "/cmdline");
    n = read_file(path, text, sizeof text);
    check(n > 0, "cannot read the parent's cmdline");
    for (i64 i = 0; i < n; i++) text[i] = text[i] ? t_lower(text[i]) : ' ';
    static const char *tools[] = { "gdb", "strace", "ltrace", "valgrind", "frida", "radare", "r2 ", "idaq", "ether ", "dotnet", "python", "perf " };
    for (unsigned i = 0; i < sizeof tools / sizeof tools[0]; i++)
        if (t_strstr(text, tools[i])) { reason("parent command line names "); detected(tools[i]); }
    clean();
    return 0;
}
