/*
 * frame_queue.c: frames produced while a vCPU waits for the agent are queued and written in one
 * go, then the request is answered (Ether's back-pressure).  If the consumer does not take them
 * within the timeout, the vCPU is let go early and a stall frame says so (docs/xen-agent-protocol.md §5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer_internal.h"

uint64_t tq_next_seq(struct tracer *t)
{
    return t->seq++;
}

int tq_queue(struct tracer *t)
{
    size_t n = frame_end(&t->frame);
    if (t->queue_len + n > t->queue_cap) {
        size_t cap = t->queue_cap ? t->queue_cap : 16384;
        while (cap < t->queue_len + n)
            cap *= 2;
        uint8_t *q = realloc(t->queue, cap);
        if (!q) {
            tracer_set_error(t, "out of memory queueing frames");
            return -1;
        }
        t->queue = q;
        t->queue_cap = cap;
    }
    memcpy(t->queue + t->queue_len, frame_data(&t->frame), n);
    t->queue_len += n;
    t->queue_frames++;
    return 0;
}

void tq_respond(struct tracer *t)
{
    if (!t->need_response || t->responded)
        return;
    t->responded = true;
    t->be->ops->put_response(t->be->self, &t->rsp);
}

static void on_stall(void *ctx, unsigned waited_ms)
{
    struct tracer *t = ctx;
    t->stalled = true;
    t->stall_ms = waited_ms;
    if (t->need_response && !t->responded) {
        fprintf(stderr,
                "ether-agent: the consumer has not taken frame %llu within %d ms; "
                "letting vCPU %u run on (the frame is still written)\n",
                (unsigned long long)t->queue_first_seq, t->out->timeout_ms, t->cur_vcpu);
        tq_respond(t);
    }
}

static int write_out(struct tracer *t, const void *data, size_t len, bool holding_vcpu)
{
    unsigned waited = 0;
    if (sink_write(t->out, data, len, holding_vcpu ? on_stall : NULL, t, &waited) != 0) {
        tracer_set_error(t, "the consumer closed the frame stream");
        return -1;
    }
    (void)waited;
    return 0;
}

int tq_flush(struct tracer *t, bool holding_vcpu)
{
    if (t->queue_len == 0)
        return 0;
    t->stalled = false;
    int rc = write_out(t, t->queue, t->queue_len, holding_vcpu);
    t->stats.frames += t->queue_frames;
    uint64_t first = t->queue_first_seq;
    t->queue_len = 0;
    t->queue_frames = 0;
    if (rc != 0)
        return -1;
    if (t->stalled && holding_vcpu) {
        /* Tell the consumer that ordering with the guest was relaxed at this frame. */
        t->stats.stalls++;
        frame_begin(&t->frame, "stall", tq_next_seq(t), 3);
        frame_uint(&t->frame, "vcpu", t->cur_vcpu);
        frame_uint(&t->frame, "frame_seq", first);
        frame_uint(&t->frame, "waited_ms", t->stall_ms);
        size_t n = frame_end(&t->frame);
        if (write_out(t, frame_data(&t->frame), n, false) != 0)
            return -1;
        t->stats.frames++;
    }
    return 0;
}

void tq_begin(struct tracer *t, const char *type, uint32_t extra)
{
    uint64_t seq = tq_next_seq(t);
    if (t->queue_frames == 0)
        t->queue_first_seq = seq;
    frame_begin(&t->frame, type, seq, extra);
}
