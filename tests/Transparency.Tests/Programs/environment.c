/* The environment a shell gives a program: "_" holds the program's path (bash sets it), and no
 * variable a debugger or injector adds: LINES and COLUMNS (gdb sets them in the inferior),
 * LD_PRELOAD / LD_AUDIT / LD_DEBUG (injection), and nothing that names a tracer. */
#include "tlib.h"

int main(int argc, char **argv)
{
    (void)argc;
    const char *underscore = t_getenv("_");
    if (!underscore) detected("no _ in the environment");
    if (t_strcmp(t_basename(underscore), t_basename(argv[0]))) { reason("_ is "); detected(underscore); }
    static const char *bad[] = { "LINES", "COLUMNS", "LD_PRELOAD", "LD_AUDIT", "LD_DEBUG", "LD_LIBRARY_PATH" };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (t_getenv(bad[i])) { reason("variable "); detected(bad[i]); }
    for (char **e = t_envp; *e; e++) {
        char name[128];
        size_t k = 0;
        while ((*e)[k] && (*e)[k] != '=' && k + 1 < sizeof name) { name[k] = t_lower((*e)[k]); k++; }
        name[k] = 0;
        if (!t_strncmp(name, "ether", 5) || t_strstr(name, "strace") || t_strstr(name, "ltrace") || t_strstr(name, "frida") || t_strstr(name, "valgrind"))
        { reason("variable "); detected(name); }
    }
    clean();
    return 0;
}
