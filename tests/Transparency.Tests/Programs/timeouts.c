/* Timeouts of waiting calls: poll(no fds, 30 ms), select(nothing, 20 ms) — which writes back the
 * time left, zero — and epoll_wait(empty, 10 ms) must each take at least their timeout, and not
 * seconds. Sandboxes that shorten or skip waits without moving the clocks are caught. */
#include "tlib.h"

int main(void)
{
    i64 a = now_ns(CLOCK_MONOTONIC);
    i64 r = sys3(SYS_poll, NULL, 0, 30);
    i64 b = now_ns(CLOCK_MONOTONIC);
    check(r == 0, "poll did not time out");
    if (b - a < 30000000) detected_v("poll(30 ms) took (us)", (b - a) / 1000);
    if (b - a > 5000000000L) detected("poll(30 ms) took seconds");

    struct t_timeval tv = { 0, 20000 };
    a = now_ns(CLOCK_MONOTONIC);
    r = sys5(SYS_select, 0, NULL, NULL, NULL, &tv);
    b = now_ns(CLOCK_MONOTONIC);
    check(r == 0, "select did not time out");
    if (b - a < 20000000) detected_v("select(20 ms) took (us)", (b - a) / 1000);
    if (tv.sec != 0 || tv.usec != 0) detected("select left time in its timeval");

    i64 ep = sys1(SYS_epoll_create, 1);
    check(ep >= 0, "epoll_create failed");
    char events[64];
    a = now_ns(CLOCK_MONOTONIC);
    r = sys4(SYS_epoll_wait, ep, events, 4, 10);
    b = now_ns(CLOCK_MONOTONIC);
    check(r == 0, "epoll_wait did not time out");
    if (b - a < 10000000) detected_v("epoll_wait(10 ms) took (us)", (b - a) / 1000);
    t_close(ep);
    clean();
    return 0;
}
