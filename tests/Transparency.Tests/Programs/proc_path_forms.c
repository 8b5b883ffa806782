/* TracerPid and the process state through every path form of /proc: /proc/self, /proc/<pid>,
 * /proc/thread-self, /proc/self/task/<tid>, /proc/<pid>/task/<tid>, an openat relative to a /proc
 * directory descriptor, a relative path after chdir into /proc, and the /proc/self/root detour.
 * Tools that hide TracerPid by matching the literal string "/proc/self/status" miss the others. */
#include "tlib.h"

static char text[8192];

static void check_status_text(const char *what)
{
    i64 tracer = status_field(text, "TracerPid");
    if (tracer != 0) { reason(what); reason(": "); detected_v("TracerPid", tracer); }
    char state[64];
    if (!status_text(text, "State", state, sizeof state)) { reason(what); detected(": no State"); }
    if (state[0] != 'R') { reason(what); reason(": State "); detected(state); }
}

static void check_stat_text(const char *what)
{
    char state[8];
    if (!stat_field(text, 3, state, sizeof state)) { reason(what); detected(": no state field"); }
    if (state[0] != 'R') { reason(what); reason(": stat state "); detected(state); }
}

static void read_fd(i64 fd, const char *what)
{
    if (fd < 0) { reason(what); detected_v(": open failed", fd); }
    size_t n = 0;
    for (;;) {
        i64 r = sys3(SYS_read, fd, text + n, sizeof text - 1 - n);
        if (r < 0) { reason(what); detected_v(": read failed", r); }
        if (r == 0) break;
        n += r;
    }
    text[n] = 0;
    t_close(fd);
}

static void both(const char *dir)
{
    char path[256];
    char *e = path_cat(path, dir);
    path_cat(e, "/status");
    read_fd(t_open(path, O_RDONLY), path);
    check_status_text(path);
    path_cat(e, "/stat");
    read_fd(t_open(path, O_RDONLY), path);
    check_stat_text(path);
}

int main(void)
{
    i64 pid = sys0(SYS_getpid), tid = sys0(SYS_gettid);
    char dir[128], *e;

    both("/proc/self");
    both("/proc/thread-self");
    e = path_num(path_cat(dir, "/proc/"), pid); (void)e;
    both(dir);
    e = path_num(path_cat(path_cat(dir, "/proc/self/task/"), ""), tid);
    both(dir);
    e = path_num(path_cat(path_num(path_cat(dir, "/proc/"), pid), "/task/"), tid);
    both(dir);
    both("/proc/self/root/proc/self");
    both("/proc/self/root/proc/thread-self");

    /* openat relative to a directory descriptor on /proc/self */
    i64 dfd = t_open("/proc/self", O_RDONLY | O_DIRECTORY);
    check(dfd >= 0, "cannot open /proc/self");
    read_fd(sys4(SYS_openat, dfd, "status", O_RDONLY, 0), "openat(/proc/self, status)");
    check_status_text("openat(/proc/self, status)");
    t_close(dfd);

    /* a relative path from inside /proc */
    char cwd[512];
    i64 n = sys2(SYS_getcwd, cwd, sizeof cwd);
    check(n > 0, "getcwd failed");
    check(sys1(SYS_chdir, "/proc") == 0, "chdir /proc failed");
    read_fd(t_open("self/task/../status", O_RDONLY), "self/task/../status");
    check_status_text("self/task/../status");
    check(sys1(SYS_chdir, cwd) == 0, "chdir back failed");
    clean();
    return 0;
}
