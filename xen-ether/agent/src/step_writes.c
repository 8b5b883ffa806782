/*
 * step_writes.c: memory writes and write-then-execute derived from single steps.
 *
 * Xen 4.17's mem_access (page-level write/execute trapping, page_protection.c) is VMX-only: on
 * SVM, p2m_mem_access_sanity_check() refuses every domain, and the NPT page-table code
 * (p2m-pt.c) has no place to keep access rights at all.  So where the hypervisor has no
 * mem_access the agent derives writes from what it already has when single-stepping, as the
 * ptrace recorder does: each step shows the instruction and the registers before it ran, the
 * next step of the same vCPU the state after.  The instruction is decoded (Zydis), the linear
 * address and width of every memory operand it writes are computed from the registers before
 * (stack pushes, whose address the decoder gives before the push, from the stack pointer after),
 * and the bytes are read from guest memory after (a page walk of the same address space).  That
 * gives exact widths and values at no extra VM exit.  A page that was written and then executes
 * (the step's RIP lies in it) produces an unpack frame, one per layer, as page_protection.c does
 * with EPT.  What it cannot see: writes by the kernel into user memory (the kernel is not stepped)
 * and by other vCPUs or devices.
 */
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "grow.h"
#include "tracer_internal.h"

#define MAX_WRITES 4                 /* memory operands written by one instruction, at most */
#define MAX_WRITE_BYTES 64           /* widest store (AVX-512) */
#define MAX_WRITTEN_PAGES (1u << 20)

struct written_page {
    uint64_t cr3, page;          /* address space and linear page address */
    bool dirty;                  /* written since it last ran */
    uint32_t layer;
    uint64_t write_rip, write_seq;
};

struct step_writes {
    struct u64map index;         /* hash(cr3, page) -> index into pages (collisions chained by probe) */
    struct written_page *pages;
    size_t npages, cap;
};

static uint64_t page_key(uint64_t cr3, uint64_t page)
{
    /* Pages are 4 KiB aligned, page-table bases too: mix them into one key. */
    uint64_t k = page ^ (cr3 * 0x9E3779B97F4A7C15ull);
    return k ? k : 1;
}

static struct step_writes *state(struct tracer *t)
{
    if (!t->step_writes)
        t->step_writes = calloc(1, sizeof *t->step_writes);
    return t->step_writes;
}

void step_writes_free(struct tracer *t)
{
    if (!t->step_writes)
        return;
    u64map_free(&t->step_writes->index);
    free(t->step_writes->pages);
    free(t->step_writes);
    t->step_writes = NULL;
}

static struct written_page *page_get(struct tracer *t, uint64_t cr3, uint64_t page, bool create)
{
    struct step_writes *s = state(t);
    if (!s)
        return NULL;
    uint64_t key = page_key(cr3, page);
    for (;; key++) {
        uint64_t *idx = u64map_find(&s->index, key);
        if (!idx)
            break;
        struct written_page *p = &s->pages[*idx];
        if (p->cr3 == cr3 && p->page == page)
            return p;
    }
    if (!create || s->npages >= MAX_WRITTEN_PAGES)
        return NULL;
    struct written_page *pages = grow_array(s->pages, s->npages, &s->cap, sizeof *pages, 64);
    if (!pages)
        return NULL;
    s->pages = pages;
    bool inserted;
    uint64_t *slot = u64map_upsert(&s->index, key, &inserted);
    if (!slot)
        return NULL;
    *slot = s->npages;
    struct written_page *p = &s->pages[s->npages++];
    memset(p, 0, sizeof *p);
    p->cr3 = cr3;
    p->page = page;
    return p;
}

/* ---- decoding the previous step ------------------------------------------------------------- */

static void fill_context(ZydisRegisterContext *c, const struct vm_event_regs_x86 *r)
{
    memset(c, 0, sizeof *c);
    const struct { ZydisRegister reg; uint64_t v; } regs[] = {
        { ZYDIS_REGISTER_RAX, r->rax }, { ZYDIS_REGISTER_RBX, r->rbx }, { ZYDIS_REGISTER_RCX, r->rcx },
        { ZYDIS_REGISTER_RDX, r->rdx }, { ZYDIS_REGISTER_RSI, r->rsi }, { ZYDIS_REGISTER_RDI, r->rdi },
        { ZYDIS_REGISTER_RBP, r->rbp }, { ZYDIS_REGISTER_RSP, r->rsp }, { ZYDIS_REGISTER_R8, r->r8 },
        { ZYDIS_REGISTER_R9, r->r9 },   { ZYDIS_REGISTER_R10, r->r10 }, { ZYDIS_REGISTER_R11, r->r11 },
        { ZYDIS_REGISTER_R12, r->r12 }, { ZYDIS_REGISTER_R13, r->r13 }, { ZYDIS_REGISTER_R14, r->r14 },
        { ZYDIS_REGISTER_R15, r->r15 }, { ZYDIS_REGISTER_RIP, r->rip },
    };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        c->values[regs[i].reg] = regs[i].v;
        /* The 32- and 16-bit names of the same register, for 32-bit code and address overrides. */
        ZydisRegister r32 = ZydisRegisterEncode(ZYDIS_REGCLASS_GPR32, ZydisRegisterGetId(regs[i].reg));
        ZydisRegister r16 = ZydisRegisterEncode(ZYDIS_REGCLASS_GPR16, ZydisRegisterGetId(regs[i].reg));
        if (r32 != ZYDIS_REGISTER_NONE)
            c->values[r32] = regs[i].v & 0xFFFFFFFFull;
        if (r16 != ZYDIS_REGISTER_NONE)
            c->values[r16] = regs[i].v & 0xFFFFull;
    }
    c->values[ZYDIS_REGISTER_EIP] = r->rip & 0xFFFFFFFFull;
}

struct derived_write {
    uint64_t address;
    uint32_t size;
};

/* The memory the instruction `insn` at r->rip wrote, given the registers before (r) and after (after). */
static unsigned derive(const uint8_t *insn, size_t len, const struct vm_event_regs_x86 *r,
                       const struct vm_event_regs_x86 *after, struct derived_write *out)
{
    ZydisDecoder dec;
    bool long64 = code64(r);
    ZydisDecoderInit(&dec, long64 ? ZYDIS_MACHINE_MODE_LONG_64 : ZYDIS_MACHINE_MODE_LONG_COMPAT_32,
                     long64 ? ZYDIS_STACK_WIDTH_64 : ZYDIS_STACK_WIDTH_32);
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, insn, len, &in, ops)))
        return 0;
    /* A REP-prefixed string instruction with a zero count writes nothing (each iteration is a step). */
    if ((in.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) &&
        (long64 && in.address_width == 64 ? r->rcx : r->rcx & 0xFFFFFFFFull) == 0)
        return 0;
    ZydisRegisterContext ctx;
    fill_context(&ctx, r);
    unsigned n = 0;
    for (unsigned i = 0; i < in.operand_count && n < MAX_WRITES; i++) {
        const ZydisDecodedOperand *op = &ops[i];
        if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type != ZYDIS_MEMOP_TYPE_MEM ||
            !(op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) || op->size == 0)
            continue;
        uint64_t address;
        if (op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
            (op->mem.base == ZYDIS_REGISTER_RSP || op->mem.base == ZYDIS_REGISTER_ESP)) {
            /* push/call/pushf: the slot is where the stack pointer points afterwards
             * (enter: the saved frame pointer is the new RBP). */
            address = in.mnemonic == ZYDIS_MNEMONIC_ENTER ? after->rbp : after->rsp;
        } else if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddressEx(&in, op, r->rip, &ctx, &address))) {
            continue;
        }
        if (op->mem.segment == ZYDIS_REGISTER_FS)
            address += r->fs_base;
        else if (op->mem.segment == ZYDIS_REGISTER_GS)
            address += r->gs_base;
        if (!long64)
            address &= 0xFFFFFFFFull;
        uint32_t size = op->size / 8;
        out[n].address = address;
        out[n].size = size > MAX_WRITE_BYTES ? MAX_WRITE_BYTES : size;
        n++;
    }
    return n;
}

/* ---- frames ------------------------------------------------------------------------------------- */

static int write_frame(struct tracer *t, uint32_t vcpu_id, const struct vcpu_state *vs,
                       const struct paging *pg, const struct derived_write *w)
{
    uint8_t bytes[MAX_WRITE_BYTES];
    size_t got = gm_read(&t->gm, pg, w->address, bytes, w->size);
    if (got == 0)
        return 0;   /* unmapped: the instruction faulted instead of writing */
    uint64_t seq = t->seq;
    tq_begin(t, "memory_write", 8);
    frame_uint(&t->frame, "vcpu", vcpu_id);
    frame_uint(&t->frame, "cr3", vs->last_cr3);
    frame_uint(&t->frame, "rip", word(&vs->last_regs, vs->last_regs.rip));
    frame_bin(&t->frame, "insn", vs->last_insn, vs->last_insn_len);
    frame_uint(&t->frame, "address", w->address);
    frame_uint(&t->frame, "gfn", 0);   /* not known without a walk per write; the address is */
    frame_uint(&t->frame, "size", got);
    frame_bin(&t->frame, "bytes", bytes, got);
    if (tq_queue(t))
        return -1;
    if (t->opt.unpack) {
        /* Every page the write touched is now dirty (a write can cross a page boundary). */
        for (uint64_t a = w->address & ~(uint64_t)(GUEST_PAGE_SIZE - 1); a < w->address + w->size;
             a += GUEST_PAGE_SIZE) {
            struct written_page *p = page_get(t, vs->last_cr3, a, true);
            if (!p)
                break;
            if (!p->dirty) {
                p->dirty = true;
                p->write_rip = word(&vs->last_regs, vs->last_regs.rip);
                p->write_seq = seq;
            }
        }
    }
    return 0;
}

static int unpack_frame(struct tracer *t, const vm_event_request_t *req, const struct paging *pg,
                        uint64_t cr3, struct written_page *p)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;
    uint8_t page[GUEST_PAGE_SIZE];
    bool have_page = gm_read(&t->gm, pg, p->page, page, sizeof page) == sizeof page;
    uint64_t gpa = 0;
    uint32_t flags = 0;
    uint64_t gfn = gm_translate(&t->gm, pg, p->page, &gpa, &flags) == 0 ? gpa >> GUEST_PAGE_SHIFT : 0;
    p->layer++;
    p->dirty = false;
    tq_begin(t, "unpack", 10);
    frame_uint(&t->frame, "vcpu", req->vcpu_id);
    frame_uint(&t->frame, "cr3", cr3);
    frame_uint(&t->frame, "rip", word(r, r->rip));
    frame_uint(&t->frame, "address", p->page);
    frame_uint(&t->frame, "gfn", gfn);
    frame_uint(&t->frame, "layer", p->layer);
    frame_uint(&t->frame, "write_rip", p->write_rip);
    if (t->opt.memwrites)
        frame_uint(&t->frame, "write_seq", p->write_seq);
    else
        frame_nil(&t->frame, "write_seq");
    frame_bin(&t->frame, "page", page, have_page ? sizeof page : 0);
    frame_regs(&t->frame, "regs", r);
    return tq_queue(t);
}

int step_writes_before_step(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
                            const struct paging *pg, uint64_t cr3)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;
    if (!t->writes_from_steps)
        return 0;
    /* The previous step of this vCPU ran in this address space: its writes are visible now. */
    if (vs->have_last && vs->last_cr3 == cr3 && (t->opt.memwrites || t->opt.unpack)) {
        struct derived_write w[MAX_WRITES];
        unsigned n = derive(vs->last_insn, vs->last_insn_len, &vs->last_regs, r, w);
        for (unsigned i = 0; i < n; i++) {
            if (!t->opt.memwrites) {
                /* --unpack alone: mark the pages without reporting the writes. */
                for (uint64_t a = w[i].address & ~(uint64_t)(GUEST_PAGE_SIZE - 1);
                     a < w[i].address + w[i].size; a += GUEST_PAGE_SIZE) {
                    struct written_page *p = page_get(t, cr3, a, true);
                    if (p && !p->dirty) {
                        p->dirty = true;
                        p->write_rip = word(&vs->last_regs, vs->last_regs.rip);
                    }
                }
                continue;
            }
            if (write_frame(t, req->vcpu_id, vs, pg, &w[i]))
                return -1;
        }
    }
    vs->have_last = false;
    if (t->opt.unpack) {
        struct written_page *p = page_get(t, cr3, word(r, r->rip) & ~(uint64_t)(GUEST_PAGE_SIZE - 1), false);
        if (p && p->dirty && unpack_frame(t, req, pg, cr3, p))
            return -1;
    }
    return 0;
}

void step_writes_after_step(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
                            uint64_t cr3, const uint8_t *insn, size_t insn_len)
{
    if (!t->writes_from_steps)
        return;
    vs->have_last = true;
    vs->last_cr3 = cr3;
    vs->last_regs = req->data.regs.x86;
    memcpy(vs->last_insn, insn, insn_len);
    vs->last_insn_len = (uint8_t)insn_len;
}
