/*
 * page_protection.c: memory writes and write-then-execute by page access (EPT, VMX only in Xen
 * 4.17): the target's writable user pages are write-trapped; a trapped write is let through,
 * single-stepped and reported; a written page is made non-executable, and its first execution is
 * an unpack frame.  On SVM the same frames come from step_writes.c instead.
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "tracer_internal.h"

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
        tracer_set_error(t, "%s", t->be->ops->last_error(t->be->self));
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
    struct page_rec *pages = grow_array(t->pages, t->npages, &t->cap_pages, sizeof *pages, 256);
    if (!pages)
        return -1;
    t->pages = pages;
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
int protect_target(struct tracer *t)
{
    if (!(t->opt.memwrites || t->opt.unpack) || t->writes_from_steps || !t->target_known ||
        !t->have_paging)
        return 0;
    struct paging pg = t->paging;
    pg.cr3 = t->target_cr3;
    int rc = gm_walk_user(&t->gm, &pg, protect_page, t);
    t->protect_done = true;
    return rc < 0 ? -1 : 0;
}

int complete_trapped_writes(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs)
{
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
            tq_begin(t, "memory_write", 8);
            frame_uint(&t->frame, "vcpu", req->vcpu_id);
            frame_uint(&t->frame, "cr3", w->cr3);
            frame_uint(&t->frame, "rip", w->rip);
            frame_bin(&t->frame, "insn", w->insn, w->insn_len);
            frame_uint(&t->frame, "address", w->gla);
            frame_uint(&t->frame, "gfn", w->gfn);
            frame_uint(&t->frame, "size", 0);
            frame_bin(&t->frame, "bytes", bytes, n);
            if (tq_queue(t))
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
    return 0;
}

int on_mem_access(struct tracer *t, const vm_event_request_t *req, struct vcpu_state *vs,
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
                tq_begin(t, "unpack", 10);
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
                if (tq_queue(t))
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

