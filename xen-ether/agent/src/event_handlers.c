/*
 * event_handlers.c: one hypervisor event of each kind turned into frames: single steps, system
 * calls (arguments read as the guest's calling convention places them, returns paired with their
 * entries) and address-space switches of the target.
 */
#include <stdlib.h>
#include <string.h>

#include "ether_abi.h"
#include "step_operands.h"
#include "windows.h"
#include "tracer_internal.h"

/* with_reads: what the instruction read is in memory now (it has not run, or it wrote nothing). */
static int step_frame(struct tracer *t, uint32_t vcpu_id, struct vcpu_state *vs,
                      const vm_event_request_t *req, const struct paging *pg, uint64_t cr3,
                      const uint8_t *insn, size_t n, bool with_reads)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;
    uint32_t read_keys = with_reads ? step_reads_collect(t, r, pg, cr3, insn, n) : 0;
    tq_begin(t, "step", 5 + read_keys);
    frame_uint(&t->frame, "vcpu", vcpu_id);
    frame_uint(&t->frame, "cr3", cr3);
    frame_uint(&t->frame, "rip", word(r, r->rip));
    frame_bin(&t->frame, "insn", insn, n);
    frame_regs(&t->frame, "regs", r);
    if (read_keys)
        step_reads_put(t);
    if (tq_queue(t))
        return -1;
    step_writes_after_step(t, req, vs, cr3, insn, n);
    return 0;
}

int flush_held_step(struct tracer *t, uint32_t vcpu_id, struct vcpu_state *vs)
{
    if (!vs->have_held)
        return 0;
    vs->have_held = false;
    /* The instruction has run now, so its pages are there: read its bytes again, and what it
     * read if it wrote no memory (then its operands still hold what it read). */
    const struct vm_event_regs_x86 *r = &vs->held.data.regs.x86;
    uint8_t insn[INSN_MAX];
    size_t n = gm_read(&t->gm, &vs->held_paging, word(r, r->rip), insn, sizeof insn);
    return step_frame(t, vcpu_id, vs, &vs->held, &vs->held_paging, vs->held_cr3, insn, n,
                      !step_writes_memory(insn, n, r));
}

int on_singlestep(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
                         const struct paging *pg, uint64_t cr3)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;

    if (vs->npw > 0 && complete_trapped_writes(t, req, vs) != 0)
        return -1;
    if (flush_held_step(t, req->vcpu_id, vs))
        return -1;

    if (!t->opt.singlestep || !in_scope(t, cr3) || (t->opt.user_only && (r->cs_sel & 3) != 3)) {
        t->stats.ignored++;
        vs->have_last = false;
        return 0;
    }
    /* Without mem_access: what the previous step wrote, and a layer this step enters. */
    if (step_writes_before_step(t, req, vs, pg, cr3))
        return -1;
    uint8_t insn[INSN_MAX];
    size_t n = gm_read(&t->gm, pg, word(r, r->rip), insn, sizeof insn);
    /*
     * Not mapped yet (demand paging: the fetch will fault it in).  The step is certain, its
     * bytes are not: hold the frame until this vCPU's next event, when the page is there.
     * (Trap-flag steps of user mode: the kernel's page-fault handling is not stepped.)  The same
     * for a read of a page not there yet: on SVM the instruction's second run after the fault is
     * not reported again, so its reads are taken at the next event (step_reads.c).
     */
    if ((n == 0 && t->writes_from_steps) ||
        (n > 0 && t->reads_from_steps && t->facts.no_mem_access && step_reads_unmapped(t, r, pg, insn, n))) {
        vs->have_held = true;
        vs->held = *req;
        vs->held_paging = *pg;
        vs->held_cr3 = cr3;
        return 0;
    }
    return step_frame(t, req->vcpu_id, vs, req, pg, cr3, insn, n, true);
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

int on_syscall(struct tracer *t, const vm_event_request_t *req, const struct paging *pg,
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
        /* Linux: what each pointer-like argument points at (paths, buffers), for the recorder's
         * strace-style decoding; read while the guest waits, as Ether read names. */
        uint8_t arg_mem[MAX_ARGS][ARG_MEMORY_BYTES];
        const uint8_t *arg_mem_ptr[MAX_ARGS];
        size_t arg_mem_len[MAX_ARGS];
        bool have_arg_memory = t->opt.guest == GUEST_LINUX && nargs > 0;
        for (size_t i = 0; have_arg_memory && i < nargs; i++) {
            arg_mem_ptr[i] = arg_mem[i];
            arg_mem_len[i] = args[i] >= GUEST_PAGE_SIZE && args[i] < USER_SPACE_END
                ? gm_read(&t->gm, pg, args[i], arg_mem[i], ARG_MEMORY_BYTES) : 0;
        }
        uint64_t seq = t->seq;
        remember_call(t, cr3, sp, seq, number, p->kind);
        tq_begin(t, "syscall", 8 + (name ? 1 : 0) + (have_object ? 2 : 0) + (arg_count >= 0 ? 1 : 0) +
                                   (have_arg_memory ? 1 : 0));
        frame_uint(&t->frame, "vcpu", req->vcpu_id);
        frame_uint(&t->frame, "cr3", cr3);
        frame_uint(&t->frame, "rip", word(r, r->rip));
        frame_str(&t->frame, "mechanism", mechanism_name(p->kind));
        frame_uint(&t->frame, "number", number);
        frame_uint_array(&t->frame, "args", args, nargs);
        frame_str(&t->frame, "args_source", source);
        if (have_arg_memory)
            frame_bin_array(&t->frame, "arg_memory", arg_mem_ptr, arg_mem_len, nargs);
        if (arg_count >= 0)
            frame_uint(&t->frame, "arg_count", (uint64_t)arg_count);
        if (name)
            frame_str(&t->frame, "name", name);
        if (have_object) {
            frame_str(&t->frame, "object_name", object_name);
            frame_uint(&t->frame, "object_name_arg", (uint64_t)object_arg);
        }
        frame_regs(&t->frame, "regs", r);
        return tq_queue(t);
    }

    const struct pending_call *c = take_call(t, cr3, sp);
    const char *name = c ? syscall_table_name(t->opt.table, c->number) : NULL;
    tq_begin(t, "syscall_return", 8 + (name ? 1 : 0));
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
    if (tq_queue(t))
        return -1;
    /* The call may have mapped or re-protected memory. */
    return protect_target(t);
}

int on_switch(struct tracer *t, const vm_event_request_t *req, uint64_t from, uint64_t to)
{
    if (!t->filter || !t->target_known || !t->target_normalized ||
        (from != t->target_cr3 && to != t->target_cr3) || from == to) {
        t->stats.ignored++;
        return 0;
    }
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;
    tq_begin(t, "switch", 4);
    frame_uint(&t->frame, "vcpu", req->vcpu_id);
    frame_uint(&t->frame, "rip", word(r, r->rip));
    frame_uint(&t->frame, "from", from);
    frame_uint(&t->frame, "to", to);
    return tq_queue(t);
}
