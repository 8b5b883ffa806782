/*
 * tracer_internal.h: what the tracer's files share (tracer.c drives one request at a time;
 * frame_queue.c, process_naming.c, page_protection.c, stepped_pages.c, step_operands.c,
 * step_writes.c, step_reads.c and event_handlers.c do the
 * parts).  Not for use outside the tracer.
 */
#ifndef ETHER_TRACER_INTERNAL_H
#define ETHER_TRACER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "guest_memory.h"
#include "tracer.h"
#include "u64map.h"

#define MAX_ARGS 16
#define MAX_PENDING_WRITES 4       /* one instruction can touch two pages; a few spare */
#define MAX_PENDING_CALLS 1024     /* threads blocked in a call at once */
#define MAX_RESOLVE_ATTEMPTS 16    /* tries to name an address space before giving up */
#define WRITE_PEEK_BYTES 16        /* bytes shown after a trapped write */
#define OBJECT_NAME_MAX_BYTES 2048 /* UTF-16 bytes of an object name read at most */
#define MAX_PROTECTED_PAGES (1u << 20)
#define INSN_MAX 15
#define ARG_MEMORY_BYTES 256       /* bytes read at each pointer-like Linux argument */
#define USER_SPACE_END 0x0000800000000000ull  /* x86-64 user half: higher is never a user pointer */

enum page_state { PAGE_CLEAN = 1, PAGE_DIRTY = 2 };

struct page_rec {
    uint64_t gfn;
    uint64_t va;
    enum page_state state;
    uint32_t layer;          /* times this page went written -> executed */
    uint64_t write_rip;      /* first write since it was last clean */
    uint64_t write_seq;      /* memory_write frame of that write, if one was sent */
    bool has_write_seq;
};

struct pending_write {
    uint64_t gla, gfn, rip, cr3;
    uint8_t insn[INSN_MAX];
    uint8_t insn_len;
    bool report;
};

struct vcpu_state {
    bool ss_on;        /* single-step as we believe the hypervisor has it */
    uint64_t kpcr;     /* FS base last seen in kernel mode */
    struct pending_write pw[MAX_PENDING_WRITES];
    unsigned npw;
    /* step_writes.c: the last step of this vCPU, whose writes the next step shows */
    bool have_last;
    uint64_t last_cr3;
    struct vm_event_regs_x86 last_regs;
    uint8_t last_insn[INSN_MAX];
    uint8_t last_insn_len;
    /* event_handlers.c: a step whose code page was not mapped yet, written at the next event */
    bool have_held;
    vm_event_request_t held;
    struct paging held_paging;
    uint64_t held_cr3;
};

struct stepped_pages;
struct step_reads;

struct pending_call {
    uint64_t cr3, sp, seq, number;
    uint8_t kind;
    bool used;
};

struct process {
    uint64_t cr3;
    uint64_t eprocess;
    uint32_t pid;
    uint8_t attempts;
    bool resolved;
    char name[64];
};

struct tracer {
    struct backend *be;
    struct sink *out;
    struct tracer_options opt;
    struct guest_memory gm;
    struct guest_facts facts;
    struct frame frame;
    uint64_t seq;

    struct vcpu_state *vcpus;
    uint32_t nvcpus;

    bool filter;
    bool target_known;
    bool target_normalized;
    uint64_t target_cr3;
    bool have_paging;
    struct paging paging;   /* mode of the last request (for walks of the target) */
    bool protect_done;
    bool writes_from_steps;       /* memory writes/unpacking derived from steps (no mem_access) */
    bool reads_from_steps;        /* step frames carry what the instruction reads (step_reads.c) */
    struct stepped_pages *stepped_pages;
    struct step_reads *step_reads;
    uint64_t step_reads_cr3;      /* address space of the reads collected last */

    struct u64map process_index;  /* cr3 -> index */
    struct process *processes;
    size_t nprocesses, cap_processes;

    struct pending_call calls[MAX_PENDING_CALLS];

    struct u64map page_index;     /* gfn -> index */
    struct page_rec *pages;
    size_t npages, cap_pages;

    /* frames produced while handling one request, written together */
    uint8_t *queue;
    size_t queue_len, queue_cap;
    uint32_t queue_frames;
    uint64_t queue_first_seq;

    /* the request in hand */
    vm_event_response_t rsp;
    bool need_response, responded;
    bool stalled;
    unsigned stall_ms;
    uint32_t cur_vcpu;

    struct tracer_stats stats;
    char error[512];
};


/* ---- helpers over a request (tracer.c) ------------------------------------------------------ */

static inline bool code64(const struct vm_event_regs_x86 *r)
{
    return (r->msr_efer & X86_EFER_LMA) && ((r->cs.ar >> 9) & 1);
}

static inline uint64_t word(const struct vm_event_regs_x86 *r, uint64_t v)
{
    return code64(r) ? v : (v & 0xFFFFFFFFull);
}

static inline bool in_scope(const struct tracer *t, uint64_t cr3)
{
    return !t->filter || (t->target_known && t->target_normalized && cr3 == t->target_cr3);
}

void tracer_set_error(struct tracer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct vcpu_state *tracer_vcpu(struct tracer *t, uint32_t id);

/* ---- frame_queue.c: frames queued while the vCPU waits, then written in one go ------------- */

uint64_t tq_next_seq(struct tracer *t);
/* Starts a frame of `type` with seq and `extra` more keys in t->frame. */
void tq_begin(struct tracer *t, const char *type, uint32_t extra);
/* Appends the finished t->frame to the queue. */
int tq_queue(struct tracer *t);
/* Writes the queue; holding_vcpu: a vCPU waits (back-pressure timeout, stall frame). */
int tq_flush(struct tracer *t, bool holding_vcpu);
/* Answers the request in hand, once. */
void tq_respond(struct tracer *t);

/* ---- process_naming.c: address spaces named from guest structures (Windows XP) ------------- */

int name_address_space(struct tracer *t, uint32_t vcpu_id, struct vcpu_state *vs,
                       const struct paging *pg, uint64_t cr3);

/* ---- page_protection.c: memory writes and unpacking by page access (EPT) ------------------- */

int protect_target(struct tracer *t);
int on_mem_access(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
                  const struct paging *pg, uint64_t cr3);
/* A trapped write completed (the vCPU stepped past it): report it and trap the page again. */
int complete_trapped_writes(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs);

/* ---- stepped_pages.c: per (address space, page) facts of the step-derived code ------------ */

struct stepped_page {
    uint64_t cr3, page;          /* address space and linear page address */
    /* step_writes.c */
    bool dirty;                  /* written since it last ran */
    uint32_t layer;
    uint64_t write_rip, write_seq;
    /* step_reads.c */
    bool sent;                   /* a step frame carried the whole page */
};

/* The record of (cr3, page), created when `create`; NULL when absent or out of memory. */
struct stepped_page *stepped_page(struct tracer *t, uint64_t cr3, uint64_t page, bool create);
void stepped_pages_free(struct tracer *t);

/* ---- step_writes.c: memory writes and unpacking derived from single steps ------------------- */

/* Before the step frame of `req`: the writes of the vCPU's previous step, and an unpack frame
 * if `req` executes from a page written since it last ran. */
int step_writes_before_step(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
                            const struct paging *pg, uint64_t cr3);
/* Remember this step (instruction and registers) for the next one. */
void step_writes_after_step(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
                            uint64_t cr3, const uint8_t *insn, size_t insn_len);

/* ---- step_reads.c: what the step about to run reads ------------------------------------------ */

/* Computes the reads of `insn` (about to run with `r`) and the pages the recorder lacks; returns
 * how many keys step_reads_put will add to the step frame. */
uint32_t step_reads_collect(struct tracer *t, const struct vm_event_regs_x86 *r, const struct paging *pg,
                            uint64_t cr3, const uint8_t *insn, size_t insn_len);
void step_reads_put(struct tracer *t);
/* Whether a read operand of `insn` lies in a page that is not present (the step will fault). */
bool step_reads_unmapped(struct tracer *t, const struct vm_event_regs_x86 *r, const struct paging *pg,
                         const uint8_t *insn, size_t insn_len);
void step_reads_free(struct tracer *t);

/* ---- event_handlers.c: one request of each kind -> frames ----------------------------------- */

int on_singlestep(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
                  const struct paging *pg, uint64_t cr3);
int on_syscall(struct tracer *t, const vm_event_request_t *req, const struct paging *pg,
               uint64_t cr3);
int on_switch(struct tracer *t, const vm_event_request_t *req, uint64_t from, uint64_t to);
/* Writes the step held for want of its bytes (before any other frame of that vCPU). */
int flush_held_step(struct tracer *t, uint32_t vcpu_id, struct vcpu_state *vs);

#endif
