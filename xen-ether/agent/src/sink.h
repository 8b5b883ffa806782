/*
 * sink.h: where frames go (stdout, a UNIX socket, or memory for tests), with Ether's
 * back-pressure: the caller holds a paused vCPU while a frame is written, and after timeout_ms
 * the sink calls on_stall once so the caller can let the vCPU go; the write itself then goes on
 * (a frame is never dropped or cut).
 */
#ifndef ETHER_SINK_H
#define ETHER_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sink {
    int fd;              /* -1 for a memory sink */
    bool is_socket;
    int timeout_ms;      /* <= 0: wait forever */
    uint8_t *mem;        /* memory sink */
    size_t mem_len, mem_cap;
    uint64_t bytes_written;
};

void sink_init_fd(struct sink *s, int fd, int timeout_ms);
void sink_init_memory(struct sink *s);
void sink_free(struct sink *s);

/* Connects to a listening UNIX stream socket.  -1 with a reason in err. */
int sink_connect_unix(struct sink *s, const char *path, int timeout_ms, char *err, size_t errlen);

typedef void (*stall_fn)(void *ctx, unsigned waited_ms);

/*
 * Writes all len bytes.  If they are not all written after timeout_ms, calls on_stall(ctx, ms)
 * once and keeps writing.  *waited_ms (if given) is the total time spent blocked.  Returns 0, or
 * -1 when the consumer is gone (EPIPE, closed socket) or the write failed.
 */
int sink_write(struct sink *s, const void *data, size_t len, stall_fn on_stall, void *ctx,
               unsigned *waited_ms);

#endif
