/* A sibling thread spinning a counter must make progress while the main thread sleeps: a recorder
 * that runs one thread at a time, or skips sleeps without letting other threads run for the time
 * skipped, freezes it. The main thread sleeps 200 us at a time (at most 2000 times) until the
 * counter has moved on at least 3 separate sleeps. */
#include "tlib.h"

static volatile int go = 1, started;
static volatile u64 counter;
static int tid_word;

static void spin(void *arg)
{
    (void)arg;
    started = 1;
    while (go) counter++;
}

int main(void)
{
    i64 tid = spawn_thread(spin, NULL, &tid_word);
    check(tid > 0, "clone failed");
    while (!started) sys0(SYS_sched_yield);
    int moved = 0;
    for (int i = 0; i < 2000 && moved < 3; i++) {
        u64 before = counter;
        sleep_ns(200000);
        if (counter != before) moved++;
    }
    go = 0;
    join_thread(&tid_word);
    check(moved == 3, "the sibling thread did not progress while main slept");
    clean();
    return 0;
}
