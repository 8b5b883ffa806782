/* A thread looks at its sibling through /proc/self/task/<tid>/stat and status: a thread that a
 * tracer holds shows "t (tracing stop)"; natively a spinning sibling is running or runnable (R). */
#include "tlib.h"

static volatile int go = 1, started;
static int tid_word;

static void spin(void *arg)
{
    (void)arg;
    started = 1;
    volatile u64 n = 0;
    while (go) n++;
}

int main(void)
{
    i64 tid = spawn_thread(spin, NULL, &tid_word);
    check(tid > 0, "clone failed");
    while (!started) sys0(SYS_sched_yield);
    static char text[8192];
    char path[128], state[64];
    for (int i = 0; i < 20; i++) {
        path_cat(path_num(path_cat(path, "/proc/self/task/"), tid), "/stat");
        check(read_file(path, text, sizeof text) > 0, "cannot read sibling stat");
        check(stat_field(text, 3, state, sizeof state), "no state field");
        if (state[0] != 'R') { go = 0; detected(state); }
        path_cat(path_num(path_cat(path, "/proc/self/task/"), tid), "/status");
        check(read_file(path, text, sizeof text) > 0, "cannot read sibling status");
        check(status_text(text, "State", state, sizeof state), "no State line");
        if (state[0] != 'R') { go = 0; detected(state); }
        check(status_field(text, "TracerPid") == 0, "sibling TracerPid is not 0");
        sys0(SYS_sched_yield);
    }
    go = 0;
    join_thread(&tid_word);
    clean();
    return 0;
}
