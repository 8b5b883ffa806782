/*
 * stepped_pages.c: what the agent remembers per (address space, linear page) while it derives
 * writes and reads from single steps: whether the page was written since it last ran (layers,
 * step_writes.c) and whether the recorder already has its bytes (step_reads.c).
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "tracer_internal.h"

#define MAX_STEPPED_PAGES (1u << 20)

struct stepped_pages {
    struct u64map index;         /* hash(cr3, page) -> index into pages (collisions chained by probe) */
    struct stepped_page *pages;
    size_t npages, cap;
};

static uint64_t page_key(uint64_t cr3, uint64_t page)
{
    /* Pages are 4 KiB aligned, page-table bases too: mix them into one key. */
    uint64_t k = page ^ (cr3 * 0x9E3779B97F4A7C15ull);
    return k ? k : 1;
}

void stepped_pages_free(struct tracer *t)
{
    if (!t->stepped_pages)
        return;
    u64map_free(&t->stepped_pages->index);
    free(t->stepped_pages->pages);
    free(t->stepped_pages);
    t->stepped_pages = NULL;
}

struct stepped_page *stepped_page(struct tracer *t, uint64_t cr3, uint64_t page, bool create)
{
    if (!t->stepped_pages)
        t->stepped_pages = calloc(1, sizeof *t->stepped_pages);
    struct stepped_pages *s = t->stepped_pages;
    if (!s)
        return NULL;
    uint64_t key = page_key(cr3, page);
    for (;; key++) {
        uint64_t *idx = u64map_find(&s->index, key);
        if (!idx)
            break;
        struct stepped_page *p = &s->pages[*idx];
        if (p->cr3 == cr3 && p->page == page)
            return p;
    }
    if (!create || s->npages >= MAX_STEPPED_PAGES)
        return NULL;
    struct stepped_page *pages = grow_array(s->pages, s->npages, &s->cap, sizeof *pages, 64);
    if (!pages)
        return NULL;
    s->pages = pages;
    bool inserted;
    uint64_t *slot = u64map_upsert(&s->index, key, &inserted);
    if (!slot)
        return NULL;
    *slot = s->npages;
    struct stepped_page *p = &s->pages[s->npages++];
    memset(p, 0, sizeof *p);
    p->cr3 = cr3;
    p->page = page;
    return p;
}
