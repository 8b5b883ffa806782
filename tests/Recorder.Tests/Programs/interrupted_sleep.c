/* A sleep a signal interrupts: the kernel writes the time left into rem before the call fails
 * (EINTR), so rem is memory the kernel wrote on a failed call. Prints whether time was left. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static void on_alarm(int signo) { (void)signo; }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: the sleep fails with EINTR */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval timer = { .it_value = { .tv_usec = 50000 } };
    setitimer(ITIMER_REAL, &timer, NULL);
    struct timespec request = { .tv_sec = 30 }, rem = { 0, 0 };
    int r = nanosleep(&request, &rem);
    printf("%d %d\n", r, rem.tv_sec > 0);
    return 0;
}
