#include "tracer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ether_abi.h"
#include "frame.h"
#include "guest_memory.h"
#include "u64map.h"
#include "windows.h"

#define MAX_ARGS 16
#define MAX_PENDING_WRITES 4       /* one instruction can touch two pages; a few spare */
#define MAX_PENDING_CALLS 1024     /* threads blocked in a call at once */
#define MAX_RESOLVE_ATTEMPTS 16    /* tries to name an address space before giving up */
#define WRITE_PEEK_BYTES 16        /* bytes shown after a trapped write */
#define OBJECT_NAME_MAX_BYTES 2048 /* UTF-16 bytes of an object name read at most */
#define MAX_PROTECTED_PAGES (1u << 20)
#define INSN_MAX 15

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
};

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

const char *guest_profile_name(enum guest_profile g)
{
    switch (g) {
    case GUEST_WINXP_SP2: return "winxp-sp2";
    case GUEST_WINDOWS_X64: return "windows-x64";
    case GUEST_LINUX: return "linux";
    }
    return "?";
}

static void set_error(struct tracer *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->error, sizeof t->error, fmt, ap);
    va_end(ap);
}

const char *tracer_error(const struct tracer *t)
{
    return t->error;
}

static int read_phys_cb(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct backend *be = ctx;
    return be->ops->read_phys(be->self, gpa, buf, len);
}

struct tracer *tracer_new(struct backend *be, struct sink *out, const struct tracer_options *opt)
{
    struct tracer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->be = be;
    t->out = out;
    t->opt = *opt;
    t->gm.read_phys = read_phys_cb;
    t->gm.ctx = be;
    frame_init(&t->frame);
    u64map_init(&t->process_index);
    u64map_init(&t->page_index);
    return t;
}

void tracer_free(struct tracer *t)
{
    if (!t)
        return;
    frame_free(&t->frame);
    u64map_free(&t->process_index);
    u64map_free(&t->page_index);
    free(t->processes);
    free(t->pages);
    free(t->vcpus);
    free(t->queue);
    free(t);
}

void tracer_get_stats(const struct tracer *t, struct tracer_stats *s)
{
    *s = t->stats;
}

/* ---- frames: queued while the vCPU waits, then written in one go ---------------------------- */

static uint64_t next_seq(struct tracer *t)
{
    return t->seq++;
}

static int queue_frame(struct tracer *t)
{
    size_t n = frame_end(&t->frame);
    if (t->queue_len + n > t->queue_cap) {
        size_t cap = t->queue_cap ? t->queue_cap : 16384;
        while (cap < t->queue_len + n)
            cap *= 2;
        uint8_t *q = realloc(t->queue, cap);
        if (!q) {
            set_error(t, "out of memory queueing frames");
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

static void respond(struct tracer *t)
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
        respond(t);
    }
}

static int write_out(struct tracer *t, const void *data, size_t len, bool holding_vcpu)
{
    unsigned waited = 0;
    if (sink_write(t->out, data, len, holding_vcpu ? on_stall : NULL, t, &waited) != 0) {
        set_error(t, "the consumer closed the frame stream");
        return -1;
    }
    (void)waited;
    return 0;
}

static int flush_queue(struct tracer *t, bool holding_vcpu)
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
        frame_begin(&t->frame, "stall", next_seq(t), 3);
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

static void begin(struct tracer *t, const char *type, uint32_t extra)
{
    uint64_t seq = next_seq(t);
    if (t->queue_frames == 0)
        t->queue_first_seq = seq;
    frame_begin(&t->frame, type, seq, extra);
}

/* ---- helpers over a request ------------------------------------------------------------------ */

static bool code64(const struct vm_event_regs_x86 *r)
{
    return (r->msr_efer & X86_EFER_LMA) && ((r->cs.ar >> 9) & 1);
}

static uint64_t word(const struct vm_event_regs_x86 *r, uint64_t v)
{
    return code64(r) ? v : (v & 0xFFFFFFFFull);
}

static struct vcpu_state *vcpu(struct tracer *t, uint32_t id)
{
    if (id >= t->nvcpus) {
        uint32_t n = id + 1;
        struct vcpu_state *v = realloc(t->vcpus, n * sizeof *v);
        if (!v)
            return NULL;
        memset(v + t->nvcpus, 0, (n - t->nvcpus) * sizeof *v);
        t->vcpus = v;
        t->nvcpus = n;
    }
    return &t->vcpus[id];
}

static bool in_scope(const struct tracer *t, uint64_t cr3)
{
    return !t->filter || (t->target_known && t->target_normalized && cr3 == t->target_cr3);
}

/* ---- naming address spaces (Windows XP) ------------------------------------------------------- */

static struct process *process_for(struct tracer *t, uint64_t cr3)
{
    bool inserted;
    uint64_t *slot = u64map_upsert(&t->process_index, cr3, &inserted);
    if (!slot)
        return NULL;
    if (inserted) {
        if (t->nprocesses == t->cap_processes) {
            size_t cap = t->cap_processes ? t->cap_processes * 2 : 32;
            struct process *p = realloc(t->processes, cap * sizeof *p);
            if (!p)
                return NULL;
            t->processes = p;
            t->cap_processes = cap;
        }
        memset(&t->processes[t->nprocesses], 0, sizeof t->processes[0]);
        t->processes[t->nprocesses].cr3 = cr3;
        *slot = t->nprocesses++;
    }
    return &t->processes[*slot];
}

static int queue_process_frame(struct tracer *t, uint32_t vcpu_id, const struct process *p,
                               bool is_target)
{
    begin(t, "process", 6);
    frame_uint(&t->frame, "vcpu", vcpu_id);
    frame_uint(&t->frame, "cr3", p->cr3);
    frame_uint(&t->frame, "pid", p->pid);
    frame_str(&t->frame, "name", p->name);
    frame_uint(&t->frame, "eprocess", p->eprocess);
    frame_bool(&t->frame, "target", is_target);
    return queue_frame(t);
}

/*
 * Names the address space `cr3` if the vCPU's current process has that page-table base.  The
 * kernel structures are read through `pg` (the address space the vCPU is in now): kernel
 * addresses are the same in every process.
 */
static int name_address_space(struct tracer *t, uint32_t vcpu_id, struct vcpu_state *vs,
                              const struct paging *pg, uint64_t cr3)
{
    if (t->opt.guest != GUEST_WINXP_SP2 || pg->mode == PAGING_OFF)
        return 0;
    struct process *p = process_for(t, cr3);
    if (!p || p->resolved || p->attempts >= MAX_RESOLVE_ATTEMPTS)
        return 0;
    p->attempts++;
    struct windows_process wp;
    uint64_t kpcr = vs->kpcr ? vs->kpcr : WINXP_KPCR_DEFAULT;
    if (winxp_current_process(&t->gm, pg, kpcr, &WINXP_SP2_X86, &wp) != 0 ||
        paging_cr3_base(pg->mode, wp.dtb) != cr3)
        return 0;  /* mid-switch or not readable yet: try again at a later event */
    p->resolved = true;
    p->eprocess = wp.eprocess;
    p->pid = wp.pid;
    memcpy(p->name, wp.name, sizeof p->name);

    bool is_target = false;
    if (t->opt.process && !t->target_known && windows_image_name_matches(p->name, t->opt.process)) {
        t->target_known = true;
        t->target_normalized = true;
        t->target_cr3 = cr3;
    }
    if (t->target_known && t->target_normalized && t->target_cr3 == cr3)
        is_target = true;
    return queue_process_frame(t, vcpu_id, p, is_target);
}

/* ---- page protection for memory writes and unpacking ----------------------------------------- */

static struct page_rec *page_find(struct tracer *t, uint64_t gfn)
{
    uint64_t *idx = u64map_find(&t->page_index, gfn);
    return idx ? &t->pages[*idx] : NULL;
}

static enum page_access access_for(const struct tracer *t, enum page_state s)
{
    if (s == PAGE_DIRTY)
        return t->opt.memwrites ? PAGE_ACCESS_R : PAGE_ACCESS_RW;  /* execution traps */
    return PAGE_ACCESS_RX;                                         /* writes trap */
}

static int set_access(struct tracer *t, uint64_t gfn, enum page_access a)
{
    if (t->be->ops->set_page_access(t->be->self, gfn, a) != 0) {
        set_error(t, "%s", t->be->ops->last_error(t->be->self));
        return -1;
    }
    return 0;
}

static int protect_page(void *ctx, uint64_t va, uint64_t gfn, uint32_t flags)
{
    struct tracer *t = ctx;
    if (!(flags & PAGE_FLAG_WRITABLE))
        return 0;  /* read-only (and copy-on-write) pages get a private copy before any write */
    if (t->npages >= MAX_PROTECTED_PAGES)
        return 1;
    bool inserted;
    uint64_t *slot = u64map_upsert(&t->page_index, gfn, &inserted);
    if (!slot)
        return -1;
    if (!inserted)
        return 0;
    if (t->npages == t->cap_pages) {
        size_t cap = t->cap_pages ? t->cap_pages * 2 : 256;
        struct page_rec *p = realloc(t->pages, cap * sizeof *p);
        if (!p)
            return -1;
        t->pages = p;
        t->cap_pages = cap;
    }
    struct page_rec *rec = &t->pages[t->npages];
    memset(rec, 0, sizeof *rec);
    rec->gfn = gfn;
    rec->va = va;
    rec->state = PAGE_CLEAN;
    *slot = t->npages++;
    t->stats.protected_pages++;
    return set_access(t, gfn, PAGE_ACCESS_RX) ? -1 : 0;
}

/*
 * Write-protects every writable user page of the target not protected yet.  Run when the target
 * is found and again after each of its system calls return (new allocations, copy-on-write
 * breaks); pages mapped in between are not seen until then (docs/xen-agent-protocol.md).
 */
static int protect_target(struct tracer *t)
{
    if (!(t->opt.memwrites || t->opt.unpack) || !t->target_known || !t->have_paging)
        return 0;
    struct paging pg = t->paging;
    pg.cr3 = t->target_cr3;
    int rc = gm_walk_user(&t->gm, &pg, protect_page, t);
    t->protect_done = true;
    return rc < 0 ? -1 : 0;
}

/* ---- the event kinds ---------------------------------------------------------------------- */

static int on_singlestep(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
                         const struct paging *pg, uint64_t cr3)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;

    /* A trapped write has now completed: show what it wrote, then trap the page again. */
    for (unsigned i = 0; i < vs->npw; i++) {
        struct pending_write *w = &vs->pw[i];
        struct page_rec *rec = page_find(t, w->gfn);
        uint8_t bytes[WRITE_PEEK_BYTES];
        size_t off = (size_t)(w->gla & (GUEST_PAGE_SIZE - 1));
        size_t n = GUEST_PAGE_SIZE - off < WRITE_PEEK_BYTES ? GUEST_PAGE_SIZE - off : WRITE_PEEK_BYTES;
        if (t->be->ops->read_phys(t->be->self, (w->gfn << GUEST_PAGE_SHIFT) | off, bytes, n) != 0)
            n = 0;
        uint64_t seq = t->seq;
        if (w->report) {
            begin(t, "memory_write", 8);
            frame_uint(&t->frame, "vcpu", req->vcpu_id);
            frame_uint(&t->frame, "cr3", w->cr3);
            frame_uint(&t->frame, "rip", w->rip);
            frame_bin(&t->frame, "insn", w->insn, w->insn_len);
            frame_uint(&t->frame, "address", w->gla);
            frame_uint(&t->frame, "gfn", w->gfn);
            frame_uint(&t->frame, "size", 0);
            frame_bin(&t->frame, "bytes", bytes, n);
            if (queue_frame(t))
                return -1;
        }
        if (rec) {
            if (t->opt.unpack) {
                if (rec->state == PAGE_CLEAN) {
                    rec->write_rip = w->rip;
                    rec->has_write_seq = w->report;
                    rec->write_seq = seq;
                }
                rec->state = PAGE_DIRTY;
            }
            if (set_access(t, w->gfn, access_for(t, rec->state)))
                return -1;
        }
    }
    vs->npw = 0;

    if (!t->opt.singlestep || !in_scope(t, cr3) || (t->opt.user_only && (r->cs_sel & 3) != 3)) {
        t->stats.ignored++;
        return 0;
    }
    uint8_t insn[INSN_MAX];
    size_t n = gm_read(&t->gm, pg, word(r, r->rip), insn, sizeof insn);
    begin(t, "step", 5);
    frame_uint(&t->frame, "vcpu", req->vcpu_id);
    frame_uint(&t->frame, "cr3", cr3);
    frame_uint(&t->frame, "rip", word(r, r->rip));
    frame_bin(&t->frame, "insn", insn, n);
    frame_regs(&t->frame, "regs", r);
    return queue_frame(t);
}

static void remember_call(struct tracer *t, uint64_t cr3, uint64_t sp, uint64_t seq,
                          uint64_t number, uint8_t kind)
{
    struct pending_call *slot = NULL, *oldest = &t->calls[0];
    for (unsigned i = 0; i < MAX_PENDING_CALLS; i++) {
        struct pending_call *c = &t->calls[i];
        if (c->used && c->cr3 == cr3 && c->sp == sp) {
            slot = c;  /* the same thread entered again without a return we saw */
            break;
        }
        if (!c->used && !slot)
            slot = c;
        if (c->seq < oldest->seq)
            oldest = c;
    }
    if (!slot)
        slot = oldest;  /* full: forget the longest-outstanding call */
    *slot = (struct pending_call){ cr3, sp, seq, number, kind, true };
}

static const struct pending_call *take_call(struct tracer *t, uint64_t cr3, uint64_t sp)
{
    for (unsigned i = 0; i < MAX_PENDING_CALLS; i++) {
        struct pending_call *c = &t->calls[i];
        if (c->used && c->cr3 == cr3 && c->sp == sp) {
            c->used = false;
            return c;
        }
    }
    return NULL;
}

static const char *mechanism_name(uint8_t kind)
{
    switch (kind) {
    case ETHER_KIND_SYSCALL: return "syscall";
    case ETHER_KIND_SYSENTER: return "sysenter";
    case ETHER_KIND_SYSRET: return "sysret";
    case ETHER_KIND_SYSEXIT: return "sysexit";
    }
    return "unknown";
}

/* Raw arguments as the calling convention of the guest places them.  Returns the count. */
/*
 * The argument count of a 32-bit Windows system call, read from the guest itself: [EDX] is the
 * return address into the ntdll stub ("mov eax, n; mov edx, 7FFE0300h; call [edx]; ret 4*argc"),
 * so the stub's "ret imm16" (C2 imm16) or plain "ret" (C3) says how many dwords the call takes.
 * -1 when the stub is unreadable or does not end that way.
 */
static int stub_arg_count(struct tracer *t, const struct paging *pg, uint64_t edx)
{
    uint8_t ret_addr[4], insn[3];
    if (gm_read(&t->gm, pg, edx & 0xFFFFFFFFull, ret_addr, sizeof ret_addr) != sizeof ret_addr)
        return -1;
    uint64_t at = (uint64_t)ret_addr[0] | ((uint64_t)ret_addr[1] << 8) |
                  ((uint64_t)ret_addr[2] << 16) | ((uint64_t)ret_addr[3] << 24);
    size_t got = gm_read(&t->gm, pg, at, insn, sizeof insn);
    if (got >= 1 && insn[0] == 0xC3)
        return 0;
    if (got == 3 && insn[0] == 0xC2 && (insn[1] & 3) == 0)
        return (insn[1] | (insn[2] << 8)) / 4;
    return -1;
}

static size_t read_args(struct tracer *t, const vm_event_request_t *req, const struct paging *pg,
                        uint8_t kind, uint64_t *args, const char **source, int *count)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;
    bool windows = t->opt.guest != GUEST_LINUX;
    size_t n = 0;

    *count = -1;
    if (kind == ETHER_KIND_SYSENTER && windows) {
        /* ntdll: "mov edx, esp; sysenter": EDX is the user stack, [EDX] and [EDX+4] are return
         * addresses (KiFastSystemCall's caller, the Nt stub's caller), arguments start at EDX+8.
         * Read 16; the stub's "ret imm16" tells how many of them are real (arg_count). */
        uint8_t raw[MAX_ARGS * 4];
        size_t got = gm_read(&t->gm, pg, (r->rdx & 0xFFFFFFFFull) + 8, raw, sizeof raw);
        for (; n < got / 4; n++)
            args[n] = (uint64_t)raw[4 * n] | ((uint64_t)raw[4 * n + 1] << 8) |
                      ((uint64_t)raw[4 * n + 2] << 16) | ((uint64_t)raw[4 * n + 3] << 24);
        *source = "stack";
        *count = stub_arg_count(t, pg, r->rdx);
    } else if (kind == ETHER_KIND_SYSENTER) {
        const uint64_t v[6] = { r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp };
        for (; n < 6; n++)
            args[n] = v[n] & 0xFFFFFFFFull;
        *source = "registers";
    } else if (windows) {
        /* Windows x64: R10 (RCX moved by the stub), RDX, R8, R9, then the caller's stack after
         * the return address and 32 bytes of home space. */
        const uint64_t v[4] = { r->r10, r->rdx, r->r8, r->r9 };
        for (; n < 4; n++)
            args[n] = v[n];
        uint8_t raw[(MAX_ARGS - 4) * 8];
        size_t got = gm_read(&t->gm, pg, r->rsp + 0x28, raw, sizeof raw);
        for (size_t i = 0; i < got / 8; i++, n++) {
            uint64_t a = 0;
            for (unsigned b = 0; b < 8; b++)
                a |= (uint64_t)raw[8 * i + b] << (8 * b);
            args[n] = a;
        }
        *source = "registers+stack";
    } else {
        const uint64_t v[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
        for (; n < 6; n++)
            args[n] = v[n];
        *source = "registers";
    }
    return n;
}

static int on_syscall(struct tracer *t, const vm_event_request_t *req, const struct paging *pg,
                      uint64_t cr3)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;
    const struct ether_syscall_payload *p = ether_payload_const(req);
    bool entry = p->kind == ETHER_KIND_SYSCALL || p->kind == ETHER_KIND_SYSENTER;
    uint64_t sp = word(r, r->rsp);

    if (!in_scope(t, cr3)) {
        t->stats.ignored++;
        return 0;
    }
    if (entry) {
        uint64_t args[MAX_ARGS];
        const char *source = "none";
        int arg_count;
        size_t nargs = read_args(t, req, pg, p->kind, args, &source, &arg_count);
        uint64_t number = word(r, p->number);
        const char *name = syscall_table_name(t->opt.table, number);
        char object_name[3 * OBJECT_NAME_MAX_BYTES / 2 + 1];  /* UTF-8 of 1024 UTF-16 units */
        int object_arg = t->opt.guest != GUEST_LINUX ? windows_object_attributes_arg(name) : -1;
        bool have_object = false;
        if (object_arg >= 0 && (size_t)object_arg < nargs)
            have_object = windows_object_name(&t->gm, pg, code64(r) ? 8 : 4, args[object_arg],
                                              object_name, sizeof object_name,
                                              OBJECT_NAME_MAX_BYTES) == 0;
        uint64_t seq = t->seq;
        remember_call(t, cr3, sp, seq, number, p->kind);
        begin(t, "syscall", 8 + (name ? 1 : 0) + (have_object ? 2 : 0) + (arg_count >= 0 ? 1 : 0));
        frame_uint(&t->frame, "vcpu", req->vcpu_id);
        frame_uint(&t->frame, "cr3", cr3);
        frame_uint(&t->frame, "rip", word(r, r->rip));
        frame_str(&t->frame, "mechanism", mechanism_name(p->kind));
        frame_uint(&t->frame, "number", number);
        frame_uint_array(&t->frame, "args", args, nargs);
        frame_str(&t->frame, "args_source", source);
        if (arg_count >= 0)
            frame_uint(&t->frame, "arg_count", (uint64_t)arg_count);
        if (name)
            frame_str(&t->frame, "name", name);
        if (have_object) {
            frame_str(&t->frame, "object_name", object_name);
            frame_uint(&t->frame, "object_name_arg", (uint64_t)object_arg);
        }
        frame_regs(&t->frame, "regs", r);
        return queue_frame(t);
    }

    const struct pending_call *c = take_call(t, cr3, sp);
    const char *name = c ? syscall_table_name(t->opt.table, c->number) : NULL;
    begin(t, "syscall_return", 8 + (name ? 1 : 0));
    frame_uint(&t->frame, "vcpu", req->vcpu_id);
    frame_uint(&t->frame, "cr3", cr3);
    frame_uint(&t->frame, "rip", word(r, r->rip));
    frame_str(&t->frame, "mechanism", mechanism_name(p->kind));
    if (c) {
        frame_uint(&t->frame, "number", c->number);
        frame_uint(&t->frame, "entry_seq", c->seq);
    } else {
        frame_nil(&t->frame, "number");
        frame_nil(&t->frame, "entry_seq");
    }
    frame_uint(&t->frame, "ret", word(r, r->rax));
    if (name)
        frame_str(&t->frame, "name", name);
    frame_regs(&t->frame, "regs", r);
    if (queue_frame(t))
        return -1;
    /* The call may have mapped or re-protected memory. */
    return protect_target(t);
}

static int on_mem_access(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
                         const struct paging *pg, uint64_t cr3)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;
    const struct vm_event_mem_access *ma = &req->u.mem_access;
    struct page_rec *rec = page_find(t, ma->gfn);
    bool gla_valid = (ma->flags & MEM_ACCESS_GLA_VALID) != 0;
    uint64_t gla = gla_valid ? ma->gla : (rec ? rec->va : 0) | ma->offset;

    if (!rec) {
        /* Not a page we trap (a stale restriction): give it back so it stops trapping. */
        t->stats.ignored++;
        return set_access(t, ma->gfn, PAGE_ACCESS_RWX);
    }

    if (ma->flags & MEM_ACCESS_W) {
        if (t->opt.memwrites) {
            if (vs->npw < MAX_PENDING_WRITES) {
                struct pending_write *w = &vs->pw[vs->npw++];
                memset(w, 0, sizeof *w);
                w->gla = gla;
                w->gfn = ma->gfn;
                w->rip = word(r, r->rip);
                w->cr3 = cr3;
                w->report = in_scope(t, cr3);
                w->insn_len = (uint8_t)gm_read(&t->gm, pg, w->rip, w->insn, sizeof w->insn);
            }
            /* Let the instruction complete; the next single-step shows the bytes and re-traps. */
            if (set_access(t, ma->gfn, PAGE_ACCESS_RWX))
                return -1;
        } else {
            if (rec->state == PAGE_CLEAN) {
                rec->write_rip = word(r, r->rip);
                rec->has_write_seq = false;
            }
            rec->state = PAGE_DIRTY;
            if (set_access(t, ma->gfn, access_for(t, PAGE_DIRTY)))
                return -1;
        }
    }

    if (ma->flags & MEM_ACCESS_X) {
        if (rec->state == PAGE_DIRTY && t->opt.unpack) {
            uint8_t page[GUEST_PAGE_SIZE];
            rec->layer++;
            bool have_page = t->be->ops->read_phys(t->be->self, ma->gfn << GUEST_PAGE_SHIFT, page,
                                                   sizeof page) == 0;
            if (in_scope(t, cr3)) {
                begin(t, "unpack", 10);
                frame_uint(&t->frame, "vcpu", req->vcpu_id);
                frame_uint(&t->frame, "cr3", cr3);
                frame_uint(&t->frame, "rip", word(r, r->rip));
                frame_uint(&t->frame, "address", gla & ~(uint64_t)(GUEST_PAGE_SIZE - 1));
                frame_uint(&t->frame, "gfn", ma->gfn);
                frame_uint(&t->frame, "layer", rec->layer);
                frame_uint(&t->frame, "write_rip", rec->write_rip);
                if (rec->has_write_seq)
                    frame_uint(&t->frame, "write_seq", rec->write_seq);
                else
                    frame_nil(&t->frame, "write_seq");
                frame_bin(&t->frame, "page", page, have_page ? sizeof page : 0);
                frame_regs(&t->frame, "regs", r);
                if (queue_frame(t))
                    return -1;
            } else {
                t->stats.ignored++;
            }
        }
        /* Executable again, writes trap again: the next write starts the next layer. */
        rec->state = PAGE_CLEAN;
        if (set_access(t, ma->gfn, access_for(t, PAGE_CLEAN)))
            return -1;
    }
    return 0;
}

/* The target is scheduled in or out: the consumer sees where its steps and calls stop and resume. */
static int on_switch(struct tracer *t, const vm_event_request_t *req, uint64_t from, uint64_t to)
{
    if (!t->filter || !t->target_known || !t->target_normalized ||
        (from != t->target_cr3 && to != t->target_cr3) || from == to) {
        t->stats.ignored++;
        return 0;
    }
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;
    begin(t, "switch", 4);
    frame_uint(&t->frame, "vcpu", req->vcpu_id);
    frame_uint(&t->frame, "rip", word(r, r->rip));
    frame_uint(&t->frame, "from", from);
    frame_uint(&t->frame, "to", to);
    return queue_frame(t);
}

/* ---- one request ------------------------------------------------------------------------------ */

int tracer_handle(struct tracer *t, const vm_event_request_t *req)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;

    if (req->version != VM_EVENT_INTERFACE_VERSION) {
        set_error(t, "vm_event interface version %u, this agent speaks %u", req->version,
                  VM_EVENT_INTERFACE_VERSION);
        return -1;
    }
    struct vcpu_state *vs = vcpu(t, req->vcpu_id);
    if (!vs) {
        set_error(t, "out of memory");
        return -1;
    }
    t->stats.requests++;
    t->cur_vcpu = req->vcpu_id;
    memset(&t->rsp, 0, sizeof t->rsp);
    t->rsp.version = VM_EVENT_INTERFACE_VERSION;
    t->rsp.vcpu_id = req->vcpu_id;
    t->rsp.reason = req->reason;
    t->rsp.flags = req->flags & VM_EVENT_FLAG_VCPU_PAUSED;
    t->rsp.altp2m_idx = req->altp2m_idx;
    t->need_response = true;  /* as xen-access: every request gets its response */
    t->responded = false;

    struct paging pg = paging_from_regs(r->cr0, r->cr3, r->cr4, r->msr_efer);
    uint64_t cr3 = paging_cr3_base(pg.mode, r->cr3);
    t->paging = pg;
    t->have_paging = true;
    if (t->target_known && !t->target_normalized) {
        t->target_cr3 = paging_cr3_base(pg.mode, t->target_cr3);
        t->target_normalized = true;
    }
    if ((r->cs_sel & 3) == 0 && r->fs_sel == WINXP_KERNEL_FS_SELECTOR)
        vs->kpcr = r->fs_base;

    int rc = name_address_space(t, req->vcpu_id, vs, &pg, cr3);
    if (rc == 0 && !t->protect_done)
        rc = protect_target(t);

    uint64_t running_cr3 = cr3;
    if (rc == 0) {
        switch (req->reason) {
        case VM_EVENT_REASON_WRITE_CTRLREG:
            if (req->u.write_ctrlreg.index == VM_EVENT_X86_CR3) {
                running_cr3 = paging_cr3_base(pg.mode, req->u.write_ctrlreg.new_value);
                rc = name_address_space(t, req->vcpu_id, vs, &pg, running_cr3);
                if (rc == 0 && !t->protect_done)
                    rc = protect_target(t);
                if (rc == 0)
                    rc = on_switch(t, req, cr3, running_cr3);
            } else {
                t->stats.ignored++;
            }
            break;
        case VM_EVENT_REASON_SINGLESTEP:
            rc = on_singlestep(t, req, vs, &pg, cr3);
            break;
        case ETHER_VM_EVENT_REASON_SYSCALL:
            rc = on_syscall(t, req, &pg, cr3);
            break;
        case VM_EVENT_REASON_MEM_ACCESS:
            rc = on_mem_access(t, req, vs, &pg, cr3);
            break;
        default:
            t->stats.ignored++;
            break;
        }
    }

    /* Single-step where the target runs, and until a trapped write has been seen through. */
    bool want = (t->opt.singlestep && in_scope(t, running_cr3)) || vs->npw > 0;
    if ((req->flags & VM_EVENT_FLAG_VCPU_PAUSED) && want != vs->ss_on &&
        (t->opt.singlestep || t->opt.memwrites)) {
        t->rsp.flags |= VM_EVENT_FLAG_TOGGLE_SINGLESTEP;
        vs->ss_on = want;
    }

    if (rc == 0)
        rc = flush_queue(t, true);
    else
        t->queue_len = t->queue_frames = 0;
    respond(t);
    t->need_response = false;
    return rc;
}

int tracer_poll(struct tracer *t, int timeout_ms)
{
    vm_event_request_t req;
    int rc = t->be->ops->next_request(t->be->self, &req, timeout_ms);
    if (rc == BACKEND_ERROR) {
        set_error(t, "%s", t->be->ops->last_error(t->be->self));
        return BACKEND_ERROR;
    }
    if (rc != BACKEND_REQUEST)
        return rc;
    if (tracer_handle(t, &req) != 0)
        return BACKEND_ERROR;
    return BACKEND_REQUEST;
}

/* ---- start and end ---------------------------------------------------------------------------- */

int tracer_start(struct tracer *t)
{
    const struct tracer_options *o = &t->opt;
    if (t->be->ops->describe(t->be->self, &t->facts) != 0) {
        set_error(t, "%s", t->be->ops->last_error(t->be->self));
        return -1;
    }
    if (!vcpu(t, t->facts.vcpus ? t->facts.vcpus - 1 : 0)) {
        set_error(t, "out of memory");
        return -1;
    }
    bool ether = (t->facts.capabilities & (1u << ETHER_MONITOR_EVENT_SYSCALL)) != 0;
    if (o->syscalls && !ether) {
        set_error(t, "the hypervisor has no Ether system-call event (monitor capability bit %u): "
                     "boot the Xen built by xen-ether/build-xen.sh",
                  ETHER_MONITOR_EVENT_SYSCALL);
        return -1;
    }
    if (o->process && o->guest != GUEST_WINXP_SP2) {
        set_error(t, "--process needs --guest winxp-sp2 (the only guest whose process list the "
                     "agent can read); use --cr3 for other guests");
        return -1;
    }

    t->filter = o->process != NULL || o->have_cr3;
    if (o->have_cr3) {
        t->target_known = true;
        t->target_cr3 = o->cr3;  /* normalized at the first request, when the paging mode is known */
    }

    struct monitor_plan plan = {
        .singlestep = o->singlestep || o->memwrites,
        .singlestep_from_start = o->singlestep && !t->filter,
        .cr3_writes = o->process != NULL || (t->filter && o->singlestep),
        .syscall_mechanisms =
            o->syscalls ? (ETHER_TRAP_SYSCALL | ETHER_TRAP_SYSENTER | ETHER_REPORT_RETURNS) : 0,
        .mem_access = o->memwrites || o->unpack,
    };
    for (uint32_t i = 0; i < t->nvcpus; i++)
        t->vcpus[i].ss_on = plan.singlestep_from_start;

    if (t->be->ops->enable(t->be->self, &plan) != 0) {
        set_error(t, "%s", t->be->ops->last_error(t->be->self));
        return -1;
    }

    begin(t, "hello", 11);
    frame_uint(&t->frame, "protocol", PROTOCOL_VERSION);
    frame_str(&t->frame, "agent", "ether-agent " AGENT_VERSION);
    frame_str(&t->frame, "backend", t->be->ops->name ? t->be->ops->name : "?");
    frame_uint(&t->frame, "domain", t->facts.domain);
    frame_uint(&t->frame, "vcpus", t->facts.vcpus);
    frame_uint(&t->frame, "guest_word_size", t->facts.word_size);
    frame_str(&t->frame, "guest_os", guest_profile_name(o->guest));
    frame_str(&t->frame, "hypervisor", t->facts.hypervisor);
    frame_uint(&t->frame, "capabilities", t->facts.capabilities);
    frame_bool(&t->frame, "ether_syscall_event", ether);
    frame_map(&t->frame, "options", 9);
    frame_bool(&t->frame, "singlestep", o->singlestep);
    frame_bool(&t->frame, "syscalls", o->syscalls);
    frame_bool(&t->frame, "memwrites", o->memwrites);
    frame_bool(&t->frame, "unpack", o->unpack);
    frame_bool(&t->frame, "user_only", o->user_only);
    if (o->process)
        frame_str(&t->frame, "process", o->process);
    else
        frame_nil(&t->frame, "process");
    if (o->have_cr3)
        frame_uint(&t->frame, "cr3", o->cr3);
    else
        frame_nil(&t->frame, "cr3");
    frame_uint(&t->frame, "timeout_ms", o->timeout_ms > 0 ? (uint64_t)o->timeout_ms : 0);
    if (o->table_path)
        frame_str(&t->frame, "syscall_table", o->table_path);
    else
        frame_nil(&t->frame, "syscall_table");
    if (queue_frame(t))
        return -1;
    return flush_queue(t, false);
}

int tracer_finish(struct tracer *t, const char *reason)
{
    t->be->ops->shutdown(t->be->self);
    begin(t, "end", 5);
    frame_str(&t->frame, "reason", reason);
    frame_uint(&t->frame, "requests", t->stats.requests);
    frame_uint(&t->frame, "frames", t->stats.frames);
    frame_uint(&t->frame, "stalls", t->stats.stalls);
    frame_uint(&t->frame, "ignored", t->stats.ignored);
    if (queue_frame(t))
        return -1;
    return flush_queue(t, false);
}
