/*
 * Back-pressure: ether-agent writes into a one-page pipe that nobody reads for a while.  With
 * --timeout-ms 100 it must let the waiting vCPU go (answer the request) after ~100 ms, say so on
 * stderr, keep the stream intact, and add a "stall" frame; with a reader that keeps up, no stall.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "check.h"
#include "frame_reader.h"
#include "sink.h"
#include "tracer.h"

static const char *session, *agent;

static uint8_t *run_signal(int timeout_ms, unsigned sleep_ms, int signo, int *status,
                           char *err_text, size_t err_cap, size_t *len);

static uint8_t *run(int timeout_ms, unsigned sleep_ms, int *status, char *err_text, size_t err_cap,
                    size_t *len)
{
    return run_signal(timeout_ms, sleep_ms, 0, status, err_text, err_cap, len);
}

/* Starts the agent on a one-page pipe, waits sleep_ms (then sends signo, if any), reads all. */
static uint8_t *run_signal(int timeout_ms, unsigned sleep_ms, int signo, int *status,
                           char *err_text, size_t err_cap, size_t *len)
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
    if (signo)
        kill(pid, signo);
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

/*
 * In process: ObservingBackend wraps the replay backend and notes how many bytes had reached the
 * pipe when each response (the vCPU's release) was given.  The request whose frames stalled must
 * have been answered while its frames were still being written, not after.
 */
struct observing {
    struct backend be;
    struct backend_ops ops;
    struct backend *inner;
    struct sink *sink;
    uint64_t at[8192];
    size_t n;
};

static struct observing *observer;

static int obs_put_response(void *self, const vm_event_response_t *rsp)
{
    struct observing *o = self;
    if (o->n < sizeof o->at / sizeof o->at[0])
        o->at[o->n++] = o->sink->bytes_written;
    return o->inner->ops->put_response(o->inner->self, rsp);
}
#define FORWARD(name, ...) o->inner->ops->name(o->inner->self, __VA_ARGS__)
static int obs_describe(void *self, struct guest_facts *f) { struct observing *o = self; return FORWARD(describe, f); }
static int obs_enable(void *self, const struct monitor_plan *p) { struct observing *o = self; return FORWARD(enable, p); }
static int obs_next(void *self, vm_event_request_t *r, int t) { struct observing *o = self; return FORWARD(next_request, r, t); }
static int obs_read(void *self, uint64_t a, void *b, size_t l) { struct observing *o = self; return FORWARD(read_phys, a, b, l); }
static int obs_access(void *self, uint64_t g, enum page_access a) { struct observing *o = self; return FORWARD(set_page_access, g, a); }
static void obs_shutdown(void *self) { struct observing *o = self; o->inner->ops->shutdown(o->inner->self); }
static void obs_destroy(void *self) { (void)self; }
static const char *obs_error(void *self) { struct observing *o = self; return o->inner->ops->last_error(o->inner->self); }

struct reader {
    int fd;
    uint8_t *buf;
    size_t len, cap;
};

static void *slow_reader(void *arg)
{
    struct reader *r = arg;
    struct timespec ts = { 0, 500 * 1000000L };
    nanosleep(&ts, NULL);
    for (;;) {
        if (r->len == r->cap)
            r->buf = realloc(r->buf, r->cap = r->cap ? r->cap * 2 : 65536);
        ssize_t got = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (got <= 0)
            break;
        r->len += (size_t)got;
    }
    return NULL;
}

static void test_release_is_early(void)
{
    char err[256];
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
    struct backend *replay = replay_backend_open(session, err, sizeof err);
    CHECK(replay != NULL);
    if (!replay)
        return;
    struct sink out;
    sink_init_fd(&out, p[1], 100);
    observer = calloc(1, sizeof *observer);
    observer->inner = replay;
    observer->sink = &out;
    observer->ops = (struct backend_ops){ "observing", obs_describe, obs_enable, obs_next,
                                          obs_put_response, obs_read, obs_access, obs_shutdown,
                                          obs_destroy, obs_error };
    observer->be.ops = &observer->ops;
    observer->be.self = observer;

    struct reader rd = { .fd = p[0] };
    pthread_t th;
    pthread_create(&th, NULL, slow_reader, &rd);
    struct tracer_options o = { .singlestep = true, .syscalls = true, .memwrites = true,
                                .unpack = true, .process = "sample.exe",
                                .guest = GUEST_WINXP_SP2, .timeout_ms = 100 };
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");   /* the stall notice is checked in the CLI test */
    struct tracer *t = tracer_new(&observer->be, &out, &o);
    CHECK(tracer_start(t) == 0);
    while (tracer_poll(t, 0) == BACKEND_REQUEST)
        ;
    CHECK(tracer_finish(t, "done") == 0);
    fclose(stderr);
    stderr = saved;
    close(p[1]);
    pthread_join(th, NULL);
    close(p[0]);

    struct frame_list l;
    CHECK(frames_decode(rd.buf, rd.len, &l, err, sizeof err) == 0);
    bool checked = false;
    uint64_t offset = 0;   /* byte offset of frame i in the stream */
    uint64_t *start = calloc(l.count + 1, sizeof *start);
    for (size_t i = 0; i < l.count; i++) {
        start[i] = offset;
        offset += 4 + l.frames[i].bytes;
    }
    start[l.count] = offset;
    for (size_t i = 0; i < l.count && !checked; i++) {
        uint64_t first;
        if (strcmp(l.frames[i].type, "stall") != 0 ||
            !frame_get_uint(l.frames[i].map, "frame_seq", &first))
            continue;
        /* The stalled batch ran from frame `first` to the frame before the stall frame. */
        uint64_t batch_begin = start[first], batch_end = start[i];
        bool released_inside = false;
        for (size_t k = 0; k < observer->n; k++)
            if (observer->at[k] >= batch_begin && observer->at[k] < batch_end)
                released_inside = true;
        CHECK(released_inside);
        checked = true;
    }
    CHECK(checked);
    free(start);
    frames_free(&l);
    tracer_free(t);
    backend_close(replay);
    free(observer);
    free(rd.buf);
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

    /* SIGTERM while the agent is blocked on the consumer: it finishes the frame, gives the guest
     * back and ends the stream with reason "signal" before the session is over. */
    buf = run_signal(0, 300, SIGTERM, &status, stderr_text, sizeof stderr_text, &len);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(frames_decode(buf, len, &l, err, sizeof err) == 0);
    CHECK(l.count > 1 && strcmp(l.frames[l.count - 1].type, "end") == 0);
    CHECK(l.count > 1 && frame_str_eq(l.frames[l.count - 1].map, "reason", "signal"));
    CHECK(l.count > 1 && frame_get_uint(l.frames[l.count - 1].map, "requests", &v) && v < 87);
    frames_free(&l);
    free(buf);

    test_release_is_early();
    return check_report("backpressure");
}
