#include "tracer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ether_abi.h"
#include "tracer_internal.h"
#include "windows.h"

const char *guest_profile_name(enum guest_profile g)
{
    switch (g) {
    case GUEST_WINXP_SP2: return "winxp-sp2";
    case GUEST_WINDOWS_X64: return "windows-x64";
    case GUEST_LINUX: return "linux";
    }
    return "?";
}

void tracer_set_error(struct tracer *t, const char *fmt, ...)
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
    stepped_pages_free(t);
    step_reads_free(t);
    free(t);
}

void tracer_get_stats(const struct tracer *t, struct tracer_stats *s)
{
    *s = t->stats;
}

struct vcpu_state *tracer_vcpu(struct tracer *t, uint32_t id)
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

/* ---- one request ------------------------------------------------------------------------------ */

int tracer_handle(struct tracer *t, const vm_event_request_t *req)
{
    const struct vm_event_regs_x86 *r = &req->data.regs.x86;

    if (req->version != VM_EVENT_INTERFACE_VERSION) {
        tracer_set_error(t, "vm_event interface version %u, this agent speaks %u", req->version,
                  VM_EVENT_INTERFACE_VERSION);
        return -1;
    }
    struct vcpu_state *vs = tracer_vcpu(t, req->vcpu_id);
    if (!vs) {
        tracer_set_error(t, "out of memory");
        return -1;
    }
    t->stats.requests++;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    t->stats.last_request_s = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    if (t->stats.requests == 1)
        t->stats.first_request_s = t->stats.last_request_s;
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
            rc = flush_held_step(t, req->vcpu_id, vs);
            if (rc == 0)
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
        rc = tq_flush(t, true);
    else
        t->queue_len = t->queue_frames = 0;
    tq_respond(t);
    t->need_response = false;
    return rc;
}

int tracer_poll(struct tracer *t, int timeout_ms)
{
    vm_event_request_t req;
    int rc = t->be->ops->next_request(t->be->self, &req, timeout_ms);
    if (rc == BACKEND_ERROR) {
        tracer_set_error(t, "%s", t->be->ops->last_error(t->be->self));
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
        tracer_set_error(t, "%s", t->be->ops->last_error(t->be->self));
        return -1;
    }
    if (!tracer_vcpu(t, t->facts.vcpus ? t->facts.vcpus - 1 : 0)) {
        tracer_set_error(t, "out of memory");
        return -1;
    }
    bool ether = (t->facts.capabilities & (1u << ETHER_MONITOR_EVENT_SYSCALL)) != 0;
    if (o->syscalls && !ether) {
        tracer_set_error(t, "the hypervisor has no Ether system-call event (monitor capability bit %u): "
                     "boot the Xen built by xen-ether/build-xen.sh",
                  ETHER_MONITOR_EVENT_SYSCALL);
        return -1;
    }
    if (o->process && o->guest != GUEST_WINXP_SP2) {
        tracer_set_error(t, "--process needs --guest winxp-sp2 (the only guest whose process list the "
                     "agent can read); use --cr3 for other guests");
        return -1;
    }

    t->filter = o->process != NULL || o->have_cr3;
    if (o->have_cr3) {
        t->target_known = true;
        t->target_cr3 = o->cr3;  /* normalized at the first request, when the paging mode is known */
    }

    /* No mem_access (SVM), or asked: writes and layers come from the steps (step_writes.c). */
    t->writes_from_steps = (o->memwrites || o->unpack) && (o->derive_writes || t->facts.no_mem_access);
    /* Every stepped instruction says what it reads (step_reads.c). */
    t->reads_from_steps = o->singlestep;
    if (t->writes_from_steps && !o->singlestep) {
        tracer_set_error(t, "%s: add --singlestep (memory writes and unpacking are derived from the "
                            "single steps)",
                         t->facts.no_mem_access ? "this hypervisor has no page access control "
                                                  "(mem_access is VMX-only in Xen 4.17)"
                                                : "--derive-writes");
        return -1;
    }

    struct monitor_plan plan = {
        .singlestep = o->singlestep || (o->memwrites && !t->writes_from_steps),
        .singlestep_from_start = o->singlestep && !t->filter,
        .cr3_writes = o->process != NULL || (t->filter && o->singlestep),
        .syscall_mechanisms =
            o->syscalls ? (ETHER_TRAP_SYSCALL | ETHER_TRAP_SYSENTER | ETHER_REPORT_RETURNS) : 0,
        .mem_access = (o->memwrites || o->unpack) && !t->writes_from_steps,
    };
    for (uint32_t i = 0; i < t->nvcpus; i++)
        t->vcpus[i].ss_on = plan.singlestep_from_start;

    if (t->be->ops->enable(t->be->self, &plan) != 0) {
        tracer_set_error(t, "%s", t->be->ops->last_error(t->be->self));
        return -1;
    }

    tq_begin(t, "hello", 13);
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
    frame_str(&t->frame, "writes_from",
              !(o->memwrites || o->unpack) ? "none" : t->writes_from_steps ? "steps" : "page-access");
    frame_str(&t->frame, "reads_from", t->reads_from_steps ? "steps" : "none");
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
    if (tq_queue(t))
        return -1;
    return tq_flush(t, false);
}

int tracer_finish(struct tracer *t, const char *reason)
{
    t->be->ops->shutdown(t->be->self);
    for (uint32_t i = 0; i < t->nvcpus; i++)
        if (flush_held_step(t, i, &t->vcpus[i]))
            return -1;
    tq_begin(t, "end", 6);
    frame_str(&t->frame, "reason", reason);
    frame_uint(&t->frame, "requests", t->stats.requests);
    frame_uint(&t->frame, "frames", t->stats.frames);
    frame_uint(&t->frame, "stalls", t->stats.stalls);
    frame_uint(&t->frame, "ignored", t->stats.ignored);
    frame_uint(&t->frame, "read_pages", t->stats.read_pages);
    if (tq_queue(t))
        return -1;
    return tq_flush(t, false);
}

