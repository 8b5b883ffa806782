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

#include "step_operands.h"
#include "tracer_internal.h"

#define MAX_WRITE_BYTES 64           /* widest store (AVX-512) */

/* ---- frames ------------------------------------------------------------------------------------- */

static int write_frame(struct tracer *t, uint32_t vcpu_id, const struct vcpu_state *vs,
                       const struct paging *pg, const struct operand_range *w)
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
            struct stepped_page *p = stepped_page(t, vs->last_cr3, a, true);
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
                        uint64_t cr3, struct stepped_page *p)
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
        struct operand_range w[MAX_OPERAND_RANGES];
        unsigned n = step_operand_ranges(vs->last_insn, vs->last_insn_len, &vs->last_regs, r,
                                         OPERAND_WRITE, MAX_WRITE_BYTES, w);
        for (unsigned i = 0; i < n; i++) {
            if (!t->opt.memwrites) {
                /* --unpack alone: mark the pages without reporting the writes. */
                for (uint64_t a = w[i].address & ~(uint64_t)(GUEST_PAGE_SIZE - 1);
                     a < w[i].address + w[i].size; a += GUEST_PAGE_SIZE) {
                    struct stepped_page *p = stepped_page(t, cr3, a, true);
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
        struct stepped_page *p = stepped_page(t, cr3, word(r, r->rip) & ~(uint64_t)(GUEST_PAGE_SIZE - 1), false);
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
