/*
 * fake_guest.h: FakeBackend, a test double for the hypervisor side.  It holds guest-physical pages
 * in memory and logs what the tracer asks of it (responses, page access).  Only the code around
 * it is under test: page-table walking, translation to frames, the tracer's decisions.
 */
#ifndef ETHER_FAKE_GUEST_H
#define ETHER_FAKE_GUEST_H

#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "u64map.h"

#define FAKE_MAX_PAGES 256
#define FAKE_MAX_LOG 1024

struct fake_log_entry {
    int kind;  /* 0 response, 1 access */
    uint32_t vcpu, flags;
    uint64_t gfn;
    enum page_access access;
};

struct fake_backend {
    struct backend be;
    struct guest_facts facts;
    struct monitor_plan plan;
    uint64_t gfns[FAKE_MAX_PAGES];
    uint8_t pages[FAKE_MAX_PAGES][4096];
    unsigned npages;
    struct fake_log_entry log[FAKE_MAX_LOG];
    unsigned nlog;
    bool shut_down;
};

static inline uint8_t *fake_page(struct fake_backend *f, uint64_t gfn)
{
    for (unsigned i = 0; i < f->npages; i++)
        if (f->gfns[i] == gfn)
            return f->pages[i];
    if (f->npages == FAKE_MAX_PAGES)
        abort();
    f->gfns[f->npages] = gfn;
    memset(f->pages[f->npages], 0, 4096);
    return f->pages[f->npages++];
}

static inline bool fake_has_page(const struct fake_backend *f, uint64_t gfn)
{
    for (unsigned i = 0; i < f->npages; i++)
        if (f->gfns[i] == gfn)
            return true;
    return false;
}

static inline void fake_put32(struct fake_backend *f, uint64_t gpa, uint32_t v)
{
    uint8_t *p = fake_page(f, gpa >> 12) + (gpa & 0xFFF);
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static inline void fake_put64(struct fake_backend *f, uint64_t gpa, uint64_t v)
{
    fake_put32(f, gpa, (uint32_t)v);
    fake_put32(f, gpa + 4, (uint32_t)(v >> 32));
}

static inline int fake_describe(void *self, struct guest_facts *facts)
{
    *facts = ((struct fake_backend *)self)->facts;
    return 0;
}

static inline int fake_enable(void *self, const struct monitor_plan *plan)
{
    ((struct fake_backend *)self)->plan = *plan;
    return 0;
}

static inline int fake_next_request(void *self, vm_event_request_t *req, int timeout_ms)
{
    return BACKEND_FINISHED;
}

static inline int fake_put_response(void *self, const vm_event_response_t *rsp)
{
    struct fake_backend *f = self;
    if (f->nlog < FAKE_MAX_LOG)
        f->log[f->nlog++] = (struct fake_log_entry){ 0, rsp->vcpu_id, rsp->flags, 0, 0 };
    return 0;
}

static inline int fake_read_phys(void *self, uint64_t gpa, void *buf, size_t len)
{
    struct fake_backend *f = self;
    uint8_t *out = buf;
    while (len) {
        if (!fake_has_page(f, gpa >> 12))
            return -1;
        size_t off = gpa & 0xFFF, n = 4096 - off < len ? 4096 - off : len;
        memcpy(out, fake_page(f, gpa >> 12) + off, n);
        out += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

static inline int fake_set_page_access(void *self, uint64_t gfn, enum page_access access)
{
    struct fake_backend *f = self;
    if (f->nlog < FAKE_MAX_LOG)
        f->log[f->nlog++] = (struct fake_log_entry){ 1, 0, 0, gfn, access };
    return 0;
}

static inline void fake_shutdown(void *self)
{
    ((struct fake_backend *)self)->shut_down = true;
}

static inline void fake_destroy(void *self)
{
    (void)self;
}

static inline const char *fake_last_error(void *self)
{
    return "fake";
}

static const struct backend_ops FAKE_OPS = {
    .name = "fake", .describe = fake_describe, .enable = fake_enable,
    .next_request = fake_next_request, .put_response = fake_put_response,
    .read_phys = fake_read_phys, .set_page_access = fake_set_page_access,
    .shutdown = fake_shutdown, .destroy = fake_destroy, .last_error = fake_last_error,
};

static inline void fake_init(struct fake_backend *f, uint32_t word_size, uint32_t capabilities)
{
    memset(f, 0, sizeof *f);
    f->be.ops = &FAKE_OPS;
    f->be.self = f;
    f->facts.domain = 3;
    f->facts.vcpus = 2;
    f->facts.word_size = word_size;
    f->facts.capabilities = capabilities;
    strcpy(f->facts.hypervisor, "fake");
}

/* The last response logged, or NULL. */
static inline const struct fake_log_entry *fake_last_response(const struct fake_backend *f)
{
    for (unsigned i = f->nlog; i-- > 0;)
        if (f->log[i].kind == 0)
            return &f->log[i];
    return NULL;
}

/* The last access set for gfn, or -1. */
static inline int fake_access_of(const struct fake_backend *f, uint64_t gfn)
{
    for (unsigned i = f->nlog; i-- > 0;)
        if (f->log[i].kind == 1 && f->log[i].gfn == gfn)
            return (int)f->log[i].access;
    return -1;
}

#endif
