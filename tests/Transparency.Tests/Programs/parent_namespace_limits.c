/* The parent must live where the program lives: the same network namespace, the same resource
 * limits, the same CPU affinity (a recorder that pins the sample to one CPU, or starts it through a
 * helper in another namespace, is visible here), and the program's own affinity must equal what
 * /proc/self/status says. */
#include "tlib.h"

static void same_link(const char *what, i64 ppid)
{
    char a[256], b[256], path[128];
    path_cat(path_cat(path, "/proc/self/"), what);
    i64 n = sys3(SYS_readlink, path, a, sizeof a - 1);
    check(n > 0, "readlink failed");
    a[n] = 0;
    path_cat(path_cat(path_num(path_cat(path, "/proc/"), ppid), "/"), what);
    n = sys3(SYS_readlink, path, b, sizeof b - 1);
    check(n > 0, "readlink of the parent failed");
    b[n] = 0;
    if (t_strcmp(a, b)) { reason(what); detected(" differs from the parent's"); }
}

int main(void)
{
    i64 ppid = sys0(SYS_getppid);
    same_link("ns/net", ppid);
    same_link("ns/pid", ppid);
    same_link("ns/mnt", ppid);
    same_link("ns/uts", ppid);

    static char mine[4096], theirs[4096], path[64];
    check(read_file("/proc/self/limits", mine, sizeof mine) > 0, "cannot read limits");
    path_cat(path_num(path_cat(path, "/proc/"), ppid), "/limits");
    check(read_file(path, theirs, sizeof theirs) > 0, "cannot read the parent's limits");
    if (t_strcmp(mine, theirs)) detected("resource limits differ from the parent's");
    for (int r = 0; r < 16; r++) {
        u64 a[2], b[2];
        check(sys4(SYS_prlimit64, 0, r, NULL, a) == 0, "prlimit failed");
        check(sys4(SYS_prlimit64, ppid, r, NULL, b) == 0, "prlimit of the parent failed");
        if (a[0] != b[0] || a[1] != b[1]) detected_v("rlimit differs from the parent's", r);
    }

    u64 me[16] = { 0 }, parent[16] = { 0 };
    i64 n1 = sys3(SYS_sched_getaffinity, 0, sizeof me, me);
    i64 n2 = sys3(SYS_sched_getaffinity, ppid, sizeof parent, parent);
    check(n1 > 0 && n2 > 0, "sched_getaffinity failed");
    if (n1 != n2 || memcmp(me, parent, n1)) detected("CPU affinity differs from the parent's");
    static char status[8192], cpus[128], pcpus[128];
    check(read_file("/proc/self/status", status, sizeof status) > 0, "cannot read status");
    check(status_text(status, "Cpus_allowed_list", cpus, sizeof cpus), "no Cpus_allowed_list");
    path_cat(path_num(path_cat(path, "/proc/"), ppid), "/status");
    check(read_file(path, status, sizeof status) > 0, "cannot read the parent's status");
    check(status_text(status, "Cpus_allowed_list", pcpus, sizeof pcpus), "no Cpus_allowed_list");
    if (t_strcmp(cpus, pcpus)) { reason("Cpus_allowed_list "); reason(cpus); reason(" vs the parent's "); detected(pcpus); }
    int count = 0;
    for (int i = 0; i < 16; i++) for (u64 m = me[i]; m; m &= m - 1) count++;
    int listed = 0;
    /* count the CPUs in the list "0-1,3" */
    for (const char *p = cpus; *p; ) {
        i64 lo = parse_i(p, &p), hi = lo;
        if (*p == '-') hi = parse_i(p + 1, &p);
        listed += (int)(hi - lo + 1);
        if (*p == ',') p++; else break;
    }
    if (count != listed) detected("sched_getaffinity disagrees with /proc/self/status");
    clean();
    return 0;
}
