/*
 * step_reads.c: what a stepped instruction reads, so the trace knows every byte the program read
 * (the ptrace recorder's read check, docs/trace-format.md "read" snapshots).  Before the step runs
 * the agent computes the instruction's read operands (step_operands.c) and puts into its step
 * frame the bytes they hold now ("reads_at"/"reads") and, the first time a page is read in an
 * address space, the whole page ("pages_at"/"pages").  The recorder keeps what the trace holds of
 * each page and turns a page it lacks into a "read" snapshot, bytes that differ from it (changed
 * behind the program's back: the kernel's copies into user buffers, which are not stepped,
 * another vCPU, a device) into a "changed" one.  The agent keeps no copy of guest memory: a set of
 * the pages it sent is enough, because the operand bytes travel with every reading step.
 *
 * A read of a page that is not present yet (demand paging: the first touch of .rodata, .bss, a
 * new stack page) faults; the kernel maps the page and the instruction runs again, and on SVM the
 * patch does not report the same instruction twice.  So on SVM such a step is held until the
 * vCPU's next event (event_handlers.c, like a step whose code page is missing) and its reads are
 * taken then -- when the instruction wrote no memory, its operands still hold what it read; one
 * that also writes (add [m], r on a fresh page) gets no reads.
 *
 * Not covered: the CPU's own reads (page-table walks, descriptor tables, the IDT at an interrupt).
 */
#include <stdlib.h>
#include <string.h>

#include "step_operands.h"
#include "tracer_internal.h"

#define MAX_READ_BYTES 512                       /* FXRSTOR's area; XRSTOR's first 512 bytes */
#define MAX_READ_PAGES (2 * MAX_OPERAND_RANGES)  /* each range may cross into a second page */

struct step_reads {
    unsigned n;
    uint64_t at[MAX_OPERAND_RANGES];
    size_t len[MAX_OPERAND_RANGES];
    uint8_t bytes[MAX_OPERAND_RANGES][MAX_READ_BYTES];
    unsigned npages;
    uint64_t page_at[MAX_READ_PAGES];
    uint8_t pages[MAX_READ_PAGES][GUEST_PAGE_SIZE];
};

void step_reads_free(struct tracer *t)
{
    free(t->step_reads);
    t->step_reads = NULL;
}

/* The page at `page` if the recorder has not had it in this address space. */
static void add_page(struct tracer *t, struct step_reads *s, const struct paging *pg, uint64_t cr3,
                     uint64_t page)
{
    struct stepped_page *p = stepped_page(t, cr3, page, true);
    if ((p && p->sent) || s->npages == MAX_READ_PAGES)
        return;
    for (unsigned i = 0; i < s->npages; i++)
        if (s->page_at[i] == page)
            return;
    if (gm_read(&t->gm, pg, page, s->pages[s->npages], GUEST_PAGE_SIZE) != GUEST_PAGE_SIZE)
        return;   /* not present: the instruction faults */
    s->page_at[s->npages++] = page;
}

bool step_reads_unmapped(struct tracer *t, const struct vm_event_regs_x86 *r, const struct paging *pg,
                         const uint8_t *insn, size_t insn_len)
{
    struct operand_range ranges[MAX_OPERAND_RANGES];
    unsigned n = step_operand_ranges(insn, insn_len, r, NULL, OPERAND_READ, 1, ranges);
    uint8_t byte;
    for (unsigned i = 0; i < n; i++)
        if (gm_read(&t->gm, pg, ranges[i].address, &byte, 1) == 0)
            return true;
    return false;
}

uint32_t step_reads_collect(struct tracer *t, const struct vm_event_regs_x86 *r, const struct paging *pg,
                            uint64_t cr3, const uint8_t *insn, size_t insn_len)
{
    if (!t->reads_from_steps)
        return 0;
    if (!t->step_reads && !(t->step_reads = malloc(sizeof *t->step_reads)))
        return 0;
    struct step_reads *s = t->step_reads;
    s->n = s->npages = 0;
    t->step_reads_cr3 = cr3;
    struct operand_range ranges[MAX_OPERAND_RANGES];
    unsigned n = step_operand_ranges(insn, insn_len, r, NULL, OPERAND_READ, MAX_READ_BYTES, ranges);
    for (unsigned i = 0; i < n; i++) {
        size_t got = gm_read(&t->gm, pg, ranges[i].address, s->bytes[s->n], ranges[i].size);
        if (got == 0)
            continue;   /* unmapped: a fault comes instead of the read */
        s->at[s->n] = ranges[i].address;
        s->len[s->n++] = got;
        uint64_t last = ranges[i].address + got - 1;
        add_page(t, s, pg, cr3, ranges[i].address & ~(uint64_t)(GUEST_PAGE_SIZE - 1));
        if ((last ^ ranges[i].address) & ~(uint64_t)(GUEST_PAGE_SIZE - 1))
            add_page(t, s, pg, cr3, last & ~(uint64_t)(GUEST_PAGE_SIZE - 1));
    }
    return (s->n ? 2 : 0) + (s->npages ? 2 : 0);
}

void step_reads_put(struct tracer *t)
{
    const struct step_reads *s = t->step_reads;
    if (!t->reads_from_steps || !s)
        return;
    const uint8_t *data[MAX_READ_PAGES];
    size_t lens[MAX_READ_PAGES];
    if (s->n) {
        for (unsigned i = 0; i < s->n; i++)
            data[i] = s->bytes[i];
        frame_uint_array(&t->frame, "reads_at", s->at, s->n);
        frame_bin_array(&t->frame, "reads", data, s->len, s->n);
    }
    if (s->npages) {
        for (unsigned i = 0; i < s->npages; i++) {
            data[i] = s->pages[i];
            lens[i] = GUEST_PAGE_SIZE;
            /* The recorder has it now (it was not marked while collecting: a held step discards). */
            struct stepped_page *p = stepped_page(t, t->step_reads_cr3, s->page_at[i], true);
            if (p)
                p->sent = true;
        }
        t->stats.read_pages += s->npages;
        frame_uint_array(&t->frame, "pages_at", s->page_at, s->npages);
        frame_bin_array(&t->frame, "pages", data, lens, s->npages);
    }
}
