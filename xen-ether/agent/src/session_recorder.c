/*
 * session_recorder.c: a backend wrapper that writes a session file while the tracer runs, so a
 * run on Xen can be replayed later (and turned into a regression test) without the guest.
 * Every request is recorded; every page the tracer reads while handling a request is recorded
 * before that request (so a replay has the memory in place when it hands the request out), and
 * again only when its contents changed since it was last recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "session_file.h"
#include "u64map.h"

struct recorder {
    struct backend be;
    struct backend *inner;
    struct backend_ops ops;  /* RECORDER_OPS with the inner backend's name */
    struct session_writer *writer;
    struct u64map page_hash;  /* gfn -> FNV-1a of the contents last written */
    uint8_t page[SESSION_PAGE_SIZE];
    vm_event_request_t held;  /* the request being handled: written once its pages are */
    bool holding;
    char error[256];
};

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    /* Change detection only, not integrity: a collision merely skips one re-record. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h | 1;  /* never 0, so 0 can mean "not recorded yet" */
}

static int rec_describe(void *self, struct guest_facts *facts)
{
    struct recorder *r = self;
    return r->inner->ops->describe(r->inner->self, facts);
}

static int rec_enable(void *self, const struct monitor_plan *plan)
{
    struct recorder *r = self;
    return r->inner->ops->enable(r->inner->self, plan);
}

static int flush_held(struct recorder *r)
{
    if (!r->holding)
        return 0;
    r->holding = false;
    if (session_write_request(r->writer, &r->held) != 0) {
        snprintf(r->error, sizeof r->error, "writing the session file failed");
        return -1;
    }
    return 0;
}

static int rec_next_request(void *self, vm_event_request_t *req, int timeout_ms)
{
    struct recorder *r = self;
    /* The previous request is handled: its pages are in the file, now the request itself. */
    if (flush_held(r) != 0)
        return BACKEND_ERROR;
    int rc = r->inner->ops->next_request(r->inner->self, req, timeout_ms);
    if (rc == BACKEND_REQUEST) {
        r->held = *req;
        r->holding = true;
    }
    return rc;
}

static int rec_put_response(void *self, const vm_event_response_t *rsp)
{
    struct recorder *r = self;
    return r->inner->ops->put_response(r->inner->self, rsp);
}

static int rec_read_phys(void *self, uint64_t gpa, void *buf, size_t len)
{
    struct recorder *r = self;
    int rc = r->inner->ops->read_phys(r->inner->self, gpa, buf, len);
    if (rc != 0)
        return rc;
    /* Record whole pages: the replay answers reads page by page. */
    for (uint64_t gfn = gpa / SESSION_PAGE_SIZE; gfn <= (gpa + len - 1) / SESSION_PAGE_SIZE; gfn++) {
        if (r->inner->ops->read_phys(r->inner->self, gfn * SESSION_PAGE_SIZE, r->page,
                                     SESSION_PAGE_SIZE) != 0)
            continue;
        uint64_t h = fnv1a(r->page, SESSION_PAGE_SIZE);
        uint64_t *slot = u64map_upsert(&r->page_hash, gfn, NULL);
        if (slot && *slot == h)
            continue;
        if (slot)
            *slot = h;
        session_write_page(r->writer, gfn, r->page);
    }
    return 0;
}

static int rec_set_page_access(void *self, uint64_t gfn, enum page_access access)
{
    struct recorder *r = self;
    return r->inner->ops->set_page_access(r->inner->self, gfn, access);
}

static void rec_shutdown(void *self)
{
    struct recorder *r = self;
    flush_held(r);
    r->inner->ops->shutdown(r->inner->self);
}

static void rec_destroy(void *self)
{
    struct recorder *r = self;
    flush_held(r);
    if (session_writer_close(r->writer) != 0)
        fprintf(stderr, "ether-agent: warning: the session file may be incomplete (write failed)\n");
    backend_close(r->inner);
    u64map_free(&r->page_hash);
    free(r);
}

static const char *rec_last_error(void *self)
{
    struct recorder *r = self;
    return r->error[0] ? r->error : r->inner->ops->last_error(r->inner->self);
}

static const struct backend_ops RECORDER_OPS = {
    .name = NULL,  /* reports the inner backend's name */
    .describe = rec_describe,
    .enable = rec_enable,
    .next_request = rec_next_request,
    .put_response = rec_put_response,
    .read_phys = rec_read_phys,
    .set_page_access = rec_set_page_access,
    .shutdown = rec_shutdown,
    .destroy = rec_destroy,
    .last_error = rec_last_error,
};

struct backend *session_recorder_wrap(struct backend *inner, const char *path, char *err,
                                      size_t errlen)
{
    struct recorder *r = calloc(1, sizeof *r);
    struct guest_facts facts = { 0 };
    struct session_info info = { 0 };
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (inner->ops->describe(inner->self, &facts) != 0) {
        snprintf(err, errlen, "cannot describe the guest: %s", inner->ops->last_error(inner->self));
        free(r);
        return NULL;
    }
    info.domain = facts.domain;
    info.vcpus = facts.vcpus;
    info.word_size = facts.word_size;
    info.capabilities = facts.capabilities;
    snprintf(info.hypervisor, sizeof info.hypervisor, "%s", facts.hypervisor);
    snprintf(info.guest_os, sizeof info.guest_os, "recorded");
    r->writer = session_writer_open(path, &info, err, errlen);
    if (!r->writer) {
        free(r);
        return NULL;
    }
    u64map_init(&r->page_hash);
    r->inner = inner;
    r->ops = RECORDER_OPS;
    r->ops.name = inner->ops->name;
    r->be.ops = &r->ops;
    r->be.self = r;
    return &r->be;
}
