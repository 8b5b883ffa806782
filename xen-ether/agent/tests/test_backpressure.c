/*
 * Back-pressure: ether-agent writes into a one-page pipe that nobody reads for a while.  With
 * --timeout-ms 100 it must let the waiting vCPU go (answer the request) after ~100 ms, say so on
 * stderr, keep the stream intact, and add a "stall" frame; with a reader that keeps up, no stall.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "frame_reader.h"

static const char *session, *agent;

static uint8_t *run(int timeout_ms, unsigned sleep_ms, int *status, char *err_text, size_t err_cap,
                    size_t *len)
{
    int out[2], err[2];
    CHECK(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0);
    /* The smallest pipe Linux allows: one page. */
    CHECK(fcntl(out[1], F_SETPIPE_SZ, 4096) >= 4096);
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", timeout_ms);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        execl(agent, agent, "--replay", session, "--process", "sample.exe", "--singlestep",
              "--syscalls", "--memwrites", "--unpack", "--timeout-ms", timeout, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    struct timespec ts = { sleep_ms / 1000, (long)(sleep_ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(out[0], buf + n, cap - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    ssize_t e = read(err[0], err_text, err_cap - 1);
    err_text[e > 0 ? e : 0] = '\0';
    waitpid(pid, status, 0);
    close(out[0]);
    close(err[0]);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_backpressure SESSION AGENT\n");
        return 2;
    }
    session = argv[1];
    agent = argv[2];
    int status;
    char stderr_text[4096], err[256];
    size_t len;
    struct frame_list l;

    /* A consumer that sleeps 1.5 s: the agent blocks on a full pipe while holding a vCPU. */
    uint8_t *buf = run(100, 1500, &status, stderr_text, sizeof stderr_text, &len);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(frames_decode(buf, len, &l, err, sizeof err) == 0);   /* nothing cut or lost */
    unsigned stalls = 0;
    uint64_t v;
    for (size_t i = 0; i < l.count; i++) {
        if (strcmp(l.frames[i].type, "stall") != 0)
            continue;
        stalls++;
        const msgpack_object *m = l.frames[i].map;
        CHECK(frame_get_uint(m, "waited_ms", &v) && v >= 100 && v < 1500);
        CHECK(frame_get_uint(m, "frame_seq", &v) && v < l.frames[i].seq);
        /* The stall frame follows the frame(s) that stalled. */
        CHECK(i > 0 && l.frames[i - 1].seq >= v);
        CHECK(frame_get_uint(m, "vcpu", &v) && v == 0);
    }
    CHECK(stalls >= 1);
    CHECK(l.count > 0 && strcmp(l.frames[l.count - 1].type, "end") == 0);
    CHECK(l.count > 0 && frame_get_uint(l.frames[l.count - 1].map, "stalls", &v) && v == stalls);
    CHECK(strstr(stderr_text, "letting vCPU 0 run on") != NULL);
    CHECK(strstr(stderr_text, "within 100 ms") != NULL);
    frames_free(&l);
    free(buf);

    /* A consumer that keeps up: no stall. */
    buf = run(5000, 0, &status, stderr_text, sizeof stderr_text, &len);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(frames_decode(buf, len, &l, err, sizeof err) == 0);
    for (size_t i = 0; i < l.count; i++)
        CHECK(strcmp(l.frames[i].type, "stall") != 0);
    CHECK(stderr_text[0] == '\0');
    frames_free(&l);
    free(buf);
    return check_report("backpressure");
}
