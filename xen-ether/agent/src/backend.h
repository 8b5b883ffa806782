/*
 * backend.h: the small interface between the tracer and whatever produces vm_event requests.
 *
 * Two implementations: xen_backend.c (the vm_event ring of a live domain; the only file that calls
 * libxenctrl) and replay_backend.c (a session file of recorded or synthetic requests and guest pages).
 * session_recorder.c wraps either one and writes what it sees to a session file.
 * All calls come from one thread.
 */
#ifndef ETHER_BACKEND_H
#define ETHER_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen_headers.h"

/* Page access rights, as XENMEM_access_* (a subset). */
enum page_access {
    PAGE_ACCESS_RWX = 0,
    PAGE_ACCESS_RX,   /* writes trap */
    PAGE_ACCESS_RW,   /* execution traps */
    PAGE_ACCESS_R,    /* writes and execution trap */
};

const char *page_access_name(enum page_access access);

/* Facts about the guest, for the hello frame. */
struct guest_facts {
    uint32_t domain;
    uint32_t vcpus;
    uint32_t word_size;      /* 4 or 8: width of the guest's registers when it was attached */
    uint32_t capabilities;   /* monitor capability mask (bit ETHER_MONITOR_EVENT_SYSCALL = patched Xen) */
    char hypervisor[32];     /* "xen 4.17.5" or what the session file says */
    bool no_mem_access;      /* page access (xc_set_mem_access) does not work here: SVM in 4.17 */
};

/* What the tracer wants the hypervisor to report. */
struct monitor_plan {
    bool singlestep;            /* enable the single-step monitor event */
    bool singlestep_from_start; /* ... and switch it on for every vCPU right away */
    bool cr3_writes;            /* synchronous CR3-write events (process tracking) */
    unsigned syscall_mechanisms;/* ETHER_TRAP_* | ETHER_REPORT_RETURNS, 0 = off */
    bool mem_access;            /* page-access events will be used (set_page_access) */
};

/* Return values of next_request. */
enum {
    BACKEND_ERROR = -1,
    BACKEND_NONE = 0,      /* nothing within the timeout */
    BACKEND_REQUEST = 1,   /* *req filled */
    BACKEND_FINISHED = 2,  /* no more requests will come (replay at end of file) */
};

struct backend_ops {
    const char *name;  /* "xen", "replay" */
    int (*describe)(void *self, struct guest_facts *facts);
    int (*enable)(void *self, const struct monitor_plan *plan);
    int (*next_request)(void *self, vm_event_request_t *req, int timeout_ms);
    /* Answer a request; for a synchronous one this lets the vCPU run again. */
    int (*put_response)(void *self, const vm_event_response_t *rsp);
    /* Read guest-physical memory; fails (-1) on a page the guest does not have. */
    int (*read_phys)(void *self, uint64_t gpa, void *buf, size_t len);
    int (*set_page_access)(void *self, uint64_t gfn, enum page_access access);
    /* Undo everything enable/set_page_access did and let every vCPU run; called once. */
    void (*shutdown)(void *self);
    void (*destroy)(void *self);
    /* Text of the last failure, for the one-line error message. */
    const char *(*last_error)(void *self);
};

struct backend {
    const struct backend_ops *ops;
    void *self;
};

/* xen_backend.c: NULL with a one-line reason in err when there is no usable Xen. */
struct backend *xen_backend_open(uint32_t domain, char *err, size_t errlen);
/* xen_backend.c: give a domain back after an agent died (ring off, access reset, single-step off). */
int xen_backend_release(uint32_t domain, char *err, size_t errlen);

/* replay_backend.c */
struct backend *replay_backend_open(const char *path, char *err, size_t errlen);

/* One action a replay backend was asked to do, kept so tests can check the tracer's decisions. */
struct replay_action {
    enum { REPLAY_RESPONSE, REPLAY_ACCESS, REPLAY_ENABLE, REPLAY_SHUTDOWN } kind;
    uint32_t vcpu;
    uint32_t flags;       /* response flags */
    uint32_t reason;      /* response reason */
    uint64_t gfn;         /* access */
    enum page_access access;
    uint64_t request_index; /* which request (0-based) had been read when this happened */
};
size_t replay_backend_actions(struct backend *be, const struct replay_action **actions);

/* session_recorder.c: wraps inner; every request and every page read is appended to path. */
struct backend *session_recorder_wrap(struct backend *inner, const char *path, char *err, size_t errlen);

void backend_close(struct backend *be);

#endif
