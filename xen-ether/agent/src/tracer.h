/*
 * tracer.h: the agent's policy, independent of where requests come from.  It turns each
 * vm_event request into protocol frames (docs/xen-agent-protocol.md), answers it, and decides
 * what the hypervisor should do next (single-step on or off per vCPU, which pages to trap).
 *
 *   hello  -> for each request: translate, write frames, respond  -> end
 *
 * Back-pressure (as in Ether): a synchronous request's vCPU stays paused until the frames it
 * caused are written; if the consumer does not take a frame within the timeout, the tracer
 * answers the request early (the vCPU runs on), still writes the frame, and then writes a
 * "stall" frame saying so.
 */
#ifndef ETHER_TRACER_H
#define ETHER_TRACER_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "sink.h"
#include "syscall_table.h"

#define AGENT_VERSION "0.1.0"
#define PROTOCOL_VERSION 1

enum guest_profile {
    GUEST_WINXP_SP2,    /* 32-bit Windows XP SP2/SP3: sysenter, stack arguments, --process works */
    GUEST_WINDOWS_X64,  /* 64-bit Windows: syscall, R10/RDX/R8/R9 + stack arguments */
    GUEST_LINUX,        /* Linux: syscall (RDI..R9) or sysenter (EBX..EBP) register arguments */
};

const char *guest_profile_name(enum guest_profile g);

struct tracer_options {
    bool singlestep;
    bool syscalls;
    bool memwrites;
    bool unpack;
    bool user_only;            /* steps only in user mode (CPL 3) */
    const char *process;       /* follow the first process of this image name (WinXP profile) */
    bool have_cr3;
    uint64_t cr3;              /* follow this address space */
    enum guest_profile guest;
    int timeout_ms;            /* back-pressure timeout, <= 0 = wait forever */
    uint64_t max_events;       /* stop after this many requests, 0 = no limit */
    const struct syscall_table *table;  /* optional number -> name */
    const char *table_path;
    bool derive_writes;        /* memory writes and unpacking from single steps even where the
                                  hypervisor has mem_access (it is used anyway where it has not) */
};

struct tracer;

struct tracer *tracer_new(struct backend *be, struct sink *out, const struct tracer_options *opt);
void tracer_free(struct tracer *t);

/* Describes the guest, switches the events on and writes the hello frame.  0 or -1 (error text). */
int tracer_start(struct tracer *t);

/* Waits up to timeout_ms for one request and handles it: BACKEND_* (ERROR sets the error text). */
int tracer_poll(struct tracer *t, int timeout_ms);

/* Handles one request (what tracer_poll does after receiving it); 0 or -1. */
int tracer_handle(struct tracer *t, const vm_event_request_t *req);

/* Gives the guest back and writes the end frame with this reason.  0 or -1. */
int tracer_finish(struct tracer *t, const char *reason);

const char *tracer_error(const struct tracer *t);

struct tracer_stats {
    uint64_t requests;
    uint64_t frames;
    uint64_t stalls;
    uint64_t ignored;          /* requests outside the filter or of kinds we do not report */
    uint64_t protected_pages;  /* pages currently write- or execute-trapped */
    uint64_t read_pages;       /* pages sent in step frames at their first read (step_reads.c) */
    double first_request_s;    /* CLOCK_MONOTONIC of the first and the last request handled */
    double last_request_s;
};
void tracer_get_stats(const struct tracer *t, struct tracer_stats *s);

#endif
