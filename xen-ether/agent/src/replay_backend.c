/*
 * replay_backend.c: a backend that plays a session file (recorded from Xen, or synthetic) instead
 * of a live domain.  Requests come out in file order; guest memory is whatever the PAGE records
 * said up to that point.  What the tracer asks back (responses, page access, single-step toggles)
 * is kept as a list of actions so tests can check the tracer's decisions; nothing is enforced,
 * because a recording cannot react.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "backend.h"
#include "session_file.h"
#include "u64map.h"

struct replay {
    struct backend be;
    struct session_reader *reader;
    struct session_info info;
    struct u64map page_index;  /* gfn -> index into pages */
    uint8_t **pages;
    size_t page_count, page_cap;
    struct replay_action *actions;
    size_t action_count, action_cap;
    uint64_t requests_read;
    char error[256];
};

static void add_action(struct replay *r, struct replay_action a)
{
    struct replay_action *actions = grow_array(r->actions, r->action_count, &r->action_cap, sizeof *actions, 64);
    if (!actions)
        return;  /* the log is a test aid; losing it does not change the replay */
    r->actions = actions;
    a.request_index = r->requests_read;
    r->actions[r->action_count++] = a;
}

static int replay_describe(void *self, struct guest_facts *facts)
{
    struct replay *r = self;
    facts->domain = r->info.domain;
    facts->vcpus = r->info.vcpus;
    facts->word_size = r->info.word_size;
    facts->capabilities = r->info.capabilities;
    snprintf(facts->hypervisor, sizeof facts->hypervisor, "%s", r->info.hypervisor);
    return 0;
}

static int replay_enable(void *self, const struct monitor_plan *plan)
{
    struct replay *r = self;
    struct replay_action a = { .kind = REPLAY_ENABLE, .flags = plan->syscall_mechanisms };
    add_action(r, a);
    return 0;
}

static int store_page(struct replay *r, uint64_t gfn, const uint8_t *data)
{
    bool inserted;
    uint64_t *slot = u64map_upsert(&r->page_index, gfn, &inserted);
    if (!slot)
        return -1;
    if (inserted) {
        uint8_t **p = grow_array(r->pages, r->page_count, &r->page_cap, sizeof *p, 64);
        if (!p)
            return -1;
        r->pages = p;
        r->pages[r->page_count] = malloc(SESSION_PAGE_SIZE);
        if (!r->pages[r->page_count])
            return -1;
        *slot = r->page_count++;
    }
    memcpy(r->pages[*slot], data, SESSION_PAGE_SIZE);
    return 0;
}

static int replay_next_request(void *self, vm_event_request_t *req, int timeout_ms)
{
    struct replay *r = self;
    struct session_record rec;
    (void)timeout_ms;
    for (;;) {
        int rc = session_read_record(r->reader, &rec, r->error, sizeof r->error);
        if (rc < 0)
            return BACKEND_ERROR;
        if (rc == 0)
            return BACKEND_FINISHED;
        switch (rec.kind) {
        case SESSION_PAGE:
            if (store_page(r, rec.gfn, rec.data) != 0) {
                snprintf(r->error, sizeof r->error, "out of memory holding replay pages");
                return BACKEND_ERROR;
            }
            break;
        case SESSION_REQUEST:
            memcpy(req, rec.data, sizeof *req);
            r->requests_read++;
            return BACKEND_REQUEST;
        case SESSION_NOTE:
            break;
        }
    }
}

static int replay_put_response(void *self, const vm_event_response_t *rsp)
{
    struct replay *r = self;
    struct replay_action a = {
        .kind = REPLAY_RESPONSE, .vcpu = rsp->vcpu_id, .flags = rsp->flags, .reason = rsp->reason,
    };
    add_action(r, a);
    return 0;
}

static int replay_read_phys(void *self, uint64_t gpa, void *buf, size_t len)
{
    struct replay *r = self;
    uint8_t *out = buf;
    while (len) {
        uint64_t *idx = u64map_find(&r->page_index, gpa / SESSION_PAGE_SIZE);
        if (!idx)
            return -1;
        size_t off = (size_t)(gpa % SESSION_PAGE_SIZE);
        size_t n = SESSION_PAGE_SIZE - off < len ? SESSION_PAGE_SIZE - off : len;
        memcpy(out, r->pages[*idx] + off, n);
        out += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

static int replay_set_page_access(void *self, uint64_t gfn, enum page_access access)
{
    struct replay *r = self;
    struct replay_action a = { .kind = REPLAY_ACCESS, .gfn = gfn, .access = access };
    add_action(r, a);
    return 0;
}

static void replay_shutdown(void *self)
{
    struct replay *r = self;
    struct replay_action a = { .kind = REPLAY_SHUTDOWN };
    add_action(r, a);
}

static void replay_destroy(void *self)
{
    struct replay *r = self;
    session_reader_close(r->reader);
    for (size_t i = 0; i < r->page_count; i++)
        free(r->pages[i]);
    free(r->pages);
    u64map_free(&r->page_index);
    free(r->actions);
    free(r);
}

static const char *replay_last_error(void *self)
{
    return ((struct replay *)self)->error;
}

static const struct backend_ops REPLAY_OPS = {
    .name = "replay",
    .describe = replay_describe,
    .enable = replay_enable,
    .next_request = replay_next_request,
    .put_response = replay_put_response,
    .read_phys = replay_read_phys,
    .set_page_access = replay_set_page_access,
    .shutdown = replay_shutdown,
    .destroy = replay_destroy,
    .last_error = replay_last_error,
};

struct backend *replay_backend_open(const char *path, char *err, size_t errlen)
{
    struct replay *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->reader = session_reader_open(path, &r->info, err, errlen);
    if (!r->reader) {
        free(r);
        return NULL;
    }
    u64map_init(&r->page_index);
    r->be.ops = &REPLAY_OPS;
    r->be.self = r;
    return &r->be;
}

size_t replay_backend_actions(struct backend *be, const struct replay_action **actions)
{
    if (!be || be->ops != &REPLAY_OPS) {
        *actions = NULL;
        return 0;
    }
    struct replay *r = be->self;
    *actions = r->actions;
    return r->action_count;
}
