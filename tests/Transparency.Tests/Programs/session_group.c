/* The session and process group a shell gives a program: it is not a session leader (sandboxes
 * that start the sample with setsid() make it one), it shares its parent's session, and its
 * process group is its parent's (sh -c) or its own (an interactive shell's job). */
#include "tlib.h"

int main(void)
{
    i64 pid = sys0(SYS_getpid), ppid = sys0(SYS_getppid);
    i64 sid = sys1(SYS_getsid, 0), psid = sys1(SYS_getsid, ppid);
    i64 pgrp = sys0(SYS_getpgrp);
    if (sid == pid) detected("the program is a session leader");
    if (sid != psid) detected("the program is not in its parent's session");
    static char text[4096], field[32], path[64];
    path_cat(path_num(path_cat(path, "/proc/"), ppid), "/stat");
    check(read_file(path, text, sizeof text) > 0, "cannot read the parent's stat");
    check(stat_field(text, 5, field, sizeof field), "no pgrp field");
    i64 ppgrp = parse_i(field, NULL);
    if (pgrp != ppgrp && pgrp != pid) detected("process group is neither the parent's nor its own");
    clean();
    return 0;
}
