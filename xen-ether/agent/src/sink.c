#include "sink.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A pipe that polls writable has room for at least this much (Linux: one free pipe buffer). */
#define PIPE_CHUNK 4096

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sink_init_fd(struct sink *s, int fd, int timeout_ms)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->timeout_ms = timeout_ms;
    s->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

void sink_init_memory(struct sink *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

void sink_free(struct sink *s)
{
    free(s->mem);
    s->mem = NULL;
    s->mem_len = s->mem_cap = 0;
}

int sink_connect_unix(struct sink *s, const char *path, int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, errlen, "socket path too long: %s", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        snprintf(err, errlen, "cannot connect to %s: %s (the recorder must listen there first)",
                 path, strerror(errno));
        close(fd);
        return -1;
    }
    sink_init_fd(s, fd, timeout_ms);
    return 0;
}

static int memory_write(struct sink *s, const void *data, size_t len)
{
    if (s->mem_len + len > s->mem_cap) {
        size_t cap = s->mem_cap ? s->mem_cap : 4096;
        while (cap < s->mem_len + len)
            cap *= 2;
        uint8_t *m = realloc(s->mem, cap);
        if (!m)
            return -1;
        s->mem = m;
        s->mem_cap = cap;
    }
    memcpy(s->mem + s->mem_len, data, len);
    s->mem_len += len;
    s->bytes_written += len;
    return 0;
}

int sink_write(struct sink *s, const void *data, size_t len, stall_fn on_stall, void *ctx,
               unsigned *waited_ms)
{
    const uint8_t *p = data;
    size_t done = 0;
    uint64_t start = now_ms();
    bool stalled = false;

    if (waited_ms)
        *waited_ms = 0;
    if (s->fd < 0)
        return memory_write(s, data, len);

    while (done < len) {
        /*
         * Wait until the consumer has room, for at most what is left of the timeout.  The fd is
         * never switched to O_NONBLOCK: stdout may be shared with the process that started us.
         */
        int wait = -1;
        if (!stalled && s->timeout_ms > 0) {
            uint64_t spent = now_ms() - start;
            wait = spent >= (uint64_t)s->timeout_ms ? 0 : (int)(s->timeout_ms - spent);
        }
        struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };
        int r = poll(&pfd, 1, wait);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            stalled = true;
            if (on_stall)
                on_stall(ctx, (unsigned)(now_ms() - start));
            continue;
        }
        if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
            if (!(pfd.revents & POLLOUT))
                return -1;

        ssize_t n;
        size_t chunk = len - done;
        if (s->is_socket) {
            n = send(s->fd, p + done, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                continue;
        } else {
            /* Pipes: a write no larger than one pipe buffer cannot block after POLLOUT. */
            if (chunk > PIPE_CHUNK)
                chunk = PIPE_CHUNK;
            n = write(s->fd, p + done, chunk);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)n;
        s->bytes_written += (uint64_t)n;
    }
    if (waited_ms)
        *waited_ms = (unsigned)(now_ms() - start);
    return 0;
}
