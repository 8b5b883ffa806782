/*
 * xen_backend.c: the only file that talks to Xen.  It sets up the monitor vm_event ring of one
 * HVM domain (xc_monitor_enable + an interdomain event channel + the ring macros, as the upstream
 * reference client tools/misc/xen-access.c does), switches on the monitor events the tracer's plan
 * asks for (single-step, CR3 writes, and the Ether patch's system-call event through xc_domctl),
 * reads guest-physical pages with xenforeignmemory, and sets page access with xc_set_mem_access.
 * Everything else (what the events mean, what to answer) is the tracer's business.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xentoollog.h>
#include <xen/hvm/save.h>

#include "backend.h"
#include "ether_abi.h"
#include "u64map.h"

#define MAP_CACHE 64

/* libxc logs to stderr by default; we keep its last message for our own one-line errors. */
struct quiet_logger {
    xentoollog_logger vtable;
    char last[256];
};

struct mapping {
    uint64_t gfn;
    void *page;
};

struct xenbe {
    struct backend be;
    struct quiet_logger log;
    xc_interface *xch;
    xenevtchn_handle *xce;
    xenforeignmemory_handle *fmem;
    uint32_t domid;
    uint32_t vcpus;
    void *ring_page;
    int local_port;
    vm_event_back_ring_t back_ring;
    bool ring_on, singlestep_on, cr3_on, ether_on, shut_down;
    struct u64map access;  /* gfn -> page_access we set (to undo) */
    struct mapping maps[MAP_CACHE];
    unsigned next_map;
    time_t last_alive_check;
    char error[512];
};

static void quiet_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
                           const char *context, const char *format, va_list al)
{
    struct quiet_logger *q = (struct quiet_logger *)logger;
    (void)context;
    if (level < XTL_WARN)
        return;
    int n = vsnprintf(q->last, sizeof q->last, format, al);
    if (errnoval >= 0 && n >= 0 && (size_t)n < sizeof q->last)
        snprintf(q->last + n, sizeof q->last - (size_t)n, ": %s", strerror(errnoval));
}

static void quiet_destroy(xentoollog_logger *logger)
{
    (void)logger;
}

static void fail(struct xenbe *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->error, sizeof x->error, fmt, ap);
    va_end(ap);
}

static const char *why(struct xenbe *x, int err)
{
    return x->log.last[0] ? x->log.last : strerror(err);
}

/* ---- guest facts ---------------------------------------------------------------------------- */

static int get_info(struct xenbe *x, xc_dominfo_t *info)
{
    if (xc_domain_getinfo(x->xch, x->domid, 1, info) != 1 || info->domid != x->domid)
        return -1;
    return 0;
}

static int xen_describe(void *self, struct guest_facts *facts)
{
    struct xenbe *x = self;
    xc_dominfo_t info;
    struct hvm_hw_cpu cpu;
    xen_extraversion_t extra = { 0 };

    if (get_info(x, &info) != 0) {
        fail(x, "there is no domain %u", x->domid);
        return -1;
    }
    if (!info.hvm) {
        fail(x, "domain %u is not an HVM guest (Ether traces hardware-virtualized guests)", x->domid);
        return -1;
    }
    x->vcpus = info.max_vcpu_id + 1;
    facts->domain = x->domid;
    facts->vcpus = x->vcpus;

    /* The guest's width now: EFER.LMA of vCPU 0. */
    facts->word_size = 4;
    if (xc_domain_hvm_getcontext_partial(x->xch, x->domid, HVM_SAVE_CODE(CPU), 0, &cpu,
                                         sizeof cpu) == 0 &&
        (cpu.msr_efer & (1ull << 10)))
        facts->word_size = 8;

    if (xc_monitor_get_capabilities(x->xch, x->domid, &facts->capabilities) != 0) {
        fail(x, "cannot read the monitor capabilities of domain %u (%s)", x->domid, why(x, errno));
        return -1;
    }
    /* mem_access is VMX-only in Xen 4.17 (p2m_mem_access_sanity_check): on SVM every page-access
     * call fails, and the tracer derives writes from single steps instead. */
    xenmem_access_t access;
    facts->no_mem_access = xc_get_mem_access(x->xch, x->domid, 0, &access) != 0;
    x->log.last[0] = '\0';
    int v = xc_version(x->xch, XENVER_version, NULL);
    xc_version(x->xch, XENVER_extraversion, &extra);
    extra[sizeof extra - 1] = '\0';
    snprintf(facts->hypervisor, sizeof facts->hypervisor, "xen %d.%d%s", v >> 16, v & 0xffff, extra);
    return 0;
}

/* ---- switching events on -------------------------------------------------------------------- */

static int ether_syscall_monitor(struct xenbe *x, bool enable, unsigned mechanisms)
{
    /* The patch's event, driven through the public domctl interface (stock libxenctrl). */
    struct xen_domctl d;
    memset(&d, 0, sizeof d);
    d.cmd = XEN_DOMCTL_monitor_op;
    d.domain = (domid_t)x->domid;
    d.u.monitor_op.op = enable ? XEN_DOMCTL_MONITOR_OP_ENABLE : XEN_DOMCTL_MONITOR_OP_DISABLE;
    d.u.monitor_op.event = ETHER_MONITOR_EVENT_SYSCALL;
    uint8_t m = (uint8_t)mechanisms;  /* u.ether_syscall.mechanisms: first byte of the union */
    memcpy(&d.u.monitor_op.u, &m, sizeof m);
    return xc_domctl(x->xch, &d);
}

static int xen_enable(void *self, const struct monitor_plan *plan)
{
    struct xenbe *x = self;
    uint32_t remote_port;
    uint32_t caps = 0;

    xc_monitor_get_capabilities(x->xch, x->domid, &caps);
    if (plan->syscall_mechanisms && !(caps & (1u << ETHER_MONITOR_EVENT_SYSCALL))) {
        fail(x, "this Xen has no Ether system-call event (monitor capability bit %u is clear): "
                "boot the hypervisor built by xen-ether/build-xen.sh",
             ETHER_MONITOR_EVENT_SYSCALL);
        return -1;
    }

    x->ring_page = xc_monitor_enable(x->xch, x->domid, &remote_port);
    if (!x->ring_page) {
        if (errno == EBUSY)
            fail(x, "domain %u already has a monitor (another agent, or one that died: run "
                    "ether-agent --domain %u --release)", x->domid, x->domid);
        else
            fail(x, "cannot enable the monitor ring of domain %u (%s)", x->domid, why(x, errno));
        return -1;
    }
    x->ring_on = true;

    x->xce = xenevtchn_open((xentoollog_logger *)&x->log, 0);
    if (!x->xce) {
        fail(x, "cannot open the event channel driver (%s)", why(x, errno));
        return -1;
    }
    int port = xenevtchn_bind_interdomain(x->xce, x->domid, remote_port);
    if (port < 0) {
        fail(x, "cannot bind the monitor event channel (%s)", why(x, errno));
        return -1;
    }
    x->local_port = port;
    SHARED_RING_INIT((vm_event_sring_t *)x->ring_page);
    BACK_RING_INIT(&x->back_ring, (vm_event_sring_t *)x->ring_page, XC_PAGE_SIZE);

    x->fmem = xenforeignmemory_open((xentoollog_logger *)&x->log, 0);
    if (!x->fmem) {
        fail(x, "cannot open the foreign memory driver (%s)", why(x, errno));
        return -1;
    }

    if (plan->singlestep) {
        if (xc_monitor_singlestep(x->xch, x->domid, true) != 0) {
            fail(x, "cannot enable single-step events (%s)", why(x, errno));
            return -1;
        }
        x->singlestep_on = true;
        /* With a process filter the tracer switches vCPUs on later, in its responses. */
        for (uint32_t v = 0; plan->singlestep_from_start && v < x->vcpus; v++)
            if (xc_domain_debug_control(x->xch, x->domid, XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_ON, v)) {
                fail(x, "cannot switch single-step on for vCPU %u (%s)", v, why(x, errno));
                return -1;
            }
    }
    if (plan->cr3_writes) {
        /* Synchronous, on change only: the tracer decides per switch whether to single-step. */
        if (xc_monitor_write_ctrlreg(x->xch, x->domid, VM_EVENT_X86_CR3, true, true, 0, true)) {
            fail(x, "cannot enable CR3-write events (%s)", why(x, errno));
            return -1;
        }
        x->cr3_on = true;
    }
    if (plan->syscall_mechanisms) {
        if (ether_syscall_monitor(x, true, plan->syscall_mechanisms) != 0) {
            fail(x, "cannot enable the Ether system-call event (%s)", why(x, errno));
            return -1;
        }
        x->ether_on = true;
    }
    return 0;
}

/* ---- the ring --------------------------------------------------------------------------------- */

static void take_request(struct xenbe *x, vm_event_request_t *req)
{
    RING_IDX cons = x->back_ring.req_cons;
    memcpy(req, RING_GET_REQUEST(&x->back_ring, cons), sizeof *req);
    cons++;
    x->back_ring.req_cons = cons;
    x->back_ring.sring->req_event = cons + 1;
}

static int xen_next_request(void *self, vm_event_request_t *req, int timeout_ms)
{
    struct xenbe *x = self;

    if (RING_HAS_UNCONSUMED_REQUESTS(&x->back_ring)) {
        take_request(x, req);
        return BACKEND_REQUEST;
    }
    struct pollfd pfd = { .fd = xenevtchn_fd(x->xce), .events = POLLIN | POLLERR };
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0 && errno != EINTR) {
        fail(x, "waiting for the event channel: %s", strerror(errno));
        return BACKEND_ERROR;
    }
    if (rc > 0) {
        xenevtchn_port_or_error_t port = xenevtchn_pending(x->xce);
        if (port < 0 || xenevtchn_unmask(x->xce, (evtchn_port_t)port) != 0) {
            fail(x, "reading the event channel (%s)", why(x, errno));
            return BACKEND_ERROR;
        }
    }
    if (RING_HAS_UNCONSUMED_REQUESTS(&x->back_ring)) {
        take_request(x, req);
        return BACKEND_REQUEST;
    }
    /* Quiet: is the domain still there?  At most once a second. */
    time_t now = time(NULL);
    if (now != x->last_alive_check) {
        xc_dominfo_t info;
        x->last_alive_check = now;
        if (get_info(x, &info) != 0 || info.dying || info.shutdown) {
            fail(x, "domain %u has shut down", x->domid);
            return BACKEND_FINISHED;
        }
    }
    return BACKEND_NONE;
}

static int xen_put_response(void *self, const vm_event_response_t *rsp)
{
    struct xenbe *x = self;
    RING_IDX prod = x->back_ring.rsp_prod_pvt;
    memcpy(RING_GET_RESPONSE(&x->back_ring, prod), rsp, sizeof *rsp);
    x->back_ring.rsp_prod_pvt = prod + 1;
    RING_PUSH_RESPONSES(&x->back_ring);
    /* Notify at once: each response may be a vCPU waiting to run. */
    if (xenevtchn_notify(x->xce, (evtchn_port_t)x->local_port) != 0) {
        fail(x, "notifying Xen (%s)", why(x, errno));
        return -1;
    }
    return 0;
}

/* ---- memory ----------------------------------------------------------------------------------- */

static void *map_gfn(struct xenbe *x, uint64_t gfn)
{
    for (unsigned i = 0; i < MAP_CACHE; i++)
        if (x->maps[i].page && x->maps[i].gfn == gfn)
            return x->maps[i].page;
    xen_pfn_t pfn = (xen_pfn_t)gfn;
    int err = 0;
    void *page = xenforeignmemory_map(x->fmem, x->domid, PROT_READ, 1, &pfn, &err);
    if (!page)
        return NULL;
    if (err) {
        xenforeignmemory_unmap(x->fmem, page, 1);
        return NULL;
    }
    struct mapping *slot = &x->maps[x->next_map];
    x->next_map = (x->next_map + 1) % MAP_CACHE;
    if (slot->page)
        xenforeignmemory_unmap(x->fmem, slot->page, 1);
    slot->gfn = gfn;
    slot->page = page;
    return page;
}

static int xen_read_phys(void *self, uint64_t gpa, void *buf, size_t len)
{
    struct xenbe *x = self;
    uint8_t *out = buf;
    if (!x->fmem)
        return -1;
    while (len) {
        uint8_t *page = map_gfn(x, gpa >> XC_PAGE_SHIFT);
        if (!page)
            return -1;
        size_t off = (size_t)(gpa & (XC_PAGE_SIZE - 1));
        size_t n = XC_PAGE_SIZE - off < len ? XC_PAGE_SIZE - off : len;
        memcpy(out, page + off, n);
        out += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

static xenmem_access_t to_xen(enum page_access a)
{
    switch (a) {
    case PAGE_ACCESS_RX: return XENMEM_access_rx;
    case PAGE_ACCESS_RW: return XENMEM_access_rw;
    case PAGE_ACCESS_R: return XENMEM_access_r;
    case PAGE_ACCESS_RWX: break;
    }
    return XENMEM_access_rwx;
}

static int xen_set_page_access(void *self, uint64_t gfn, enum page_access access)
{
    struct xenbe *x = self;
    if (xc_set_mem_access(x->xch, x->domid, to_xen(access), gfn, 1) != 0) {
        fail(x, "cannot set %s access on page %#llx (%s)", page_access_name(access),
             (unsigned long long)gfn, why(x, errno));
        return -1;
    }
    uint64_t *slot = u64map_upsert(&x->access, gfn, NULL);
    if (slot)
        *slot = access;
    return 0;
}

/* ---- giving the domain back ------------------------------------------------------------------- */

static void xen_shutdown(void *self)
{
    struct xenbe *x = self;
    if (x->shut_down)
        return;
    x->shut_down = true;

    /* Paused, so no vCPU runs half-way between traced and untraced. */
    xc_domain_pause(x->xch, x->domid);
    if (x->ether_on)
        ether_syscall_monitor(x, false, 0);
    if (x->cr3_on)
        xc_monitor_write_ctrlreg(x->xch, x->domid, VM_EVENT_X86_CR3, false, false, 0, false);
    if (x->singlestep_on) {
        for (uint32_t v = 0; v < x->vcpus; v++)
            xc_domain_debug_control(x->xch, x->domid, XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_OFF, v);
        xc_monitor_singlestep(x->xch, x->domid, false);
    }
    size_t cursor = 0;
    uint64_t gfn, access;
    while (u64map_next(&x->access, &cursor, &gfn, &access))
        if (access != PAGE_ACCESS_RWX)
            xc_set_mem_access(x->xch, x->domid, XENMEM_access_rwx, gfn, 1);

    /* Answer whatever is still on the ring so no vCPU stays paused waiting for us. */
    if (x->ring_on && x->xce) {
        vm_event_request_t req;
        while (RING_HAS_UNCONSUMED_REQUESTS(&x->back_ring)) {
            vm_event_response_t rsp;
            take_request(x, &req);
            memset(&rsp, 0, sizeof rsp);
            rsp.version = VM_EVENT_INTERFACE_VERSION;
            rsp.vcpu_id = req.vcpu_id;
            rsp.flags = req.flags & VM_EVENT_FLAG_VCPU_PAUSED;
            rsp.reason = req.reason;
            xen_put_response(x, &rsp);
        }
    }
    if (x->ring_on) {
        xc_monitor_disable(x->xch, x->domid);
        x->ring_on = false;
    }
    xc_domain_unpause(x->xch, x->domid);
}

static void xen_destroy(void *self)
{
    struct xenbe *x = self;
    for (unsigned i = 0; i < MAP_CACHE; i++)
        if (x->maps[i].page)
            xenforeignmemory_unmap(x->fmem, x->maps[i].page, 1);
    if (x->xce) {
        if (x->local_port > 0)
            xenevtchn_unbind(x->xce, (evtchn_port_t)x->local_port);
        xenevtchn_close(x->xce);
    }
    if (x->ring_page)
        munmap(x->ring_page, XC_PAGE_SIZE);
    if (x->fmem)
        xenforeignmemory_close(x->fmem);
    if (x->xch)
        xc_interface_close(x->xch);
    u64map_free(&x->access);
    free(x);
}

static const char *xen_last_error(void *self)
{
    return ((struct xenbe *)self)->error;
}

static const struct backend_ops XEN_OPS = {
    .name = "xen",
    .describe = xen_describe,
    .enable = xen_enable,
    .next_request = xen_next_request,
    .put_response = xen_put_response,
    .read_phys = xen_read_phys,
    .set_page_access = xen_set_page_access,
    .shutdown = xen_shutdown,
    .destroy = xen_destroy,
    .last_error = xen_last_error,
};

static xc_interface *open_xc(struct quiet_logger *log, char *err, size_t errlen)
{
    log->vtable.vmessage = quiet_vmessage;
    log->vtable.progress = NULL;
    log->vtable.destroy = quiet_destroy;
    log->last[0] = '\0';
    errno = 0;
    xc_interface *xch = xc_interface_open((xentoollog_logger *)log, (xentoollog_logger *)log, 0);
    if (!xch)
        snprintf(err, errlen,
                 "cannot open the Xen control interface (xc_interface_open: %s): is this a Xen dom0?",
                 log->last[0] ? log->last : strerror(errno ? errno : ENOENT));
    return xch;
}

struct backend *xen_backend_open(uint32_t domain, char *err, size_t errlen)
{
    struct xenbe *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->xch = open_xc(&x->log, err, errlen);
    if (!x->xch) {
        free(x);
        return NULL;
    }
    x->domid = domain;
    x->local_port = -1;
    u64map_init(&x->access);
    x->be.ops = &XEN_OPS;
    x->be.self = x;
    return &x->be;
}

int xen_backend_release(uint32_t domain, char *err, size_t errlen)
{
    struct quiet_logger log;
    xc_dominfo_t info;
    xen_pfn_t max_gpfn = 0;
    xc_interface *xch = open_xc(&log, err, errlen);
    if (!xch)
        return -1;
    if (xc_domain_getinfo(xch, domain, 1, &info) != 1 || info.domid != domain) {
        snprintf(err, errlen, "there is no domain %u", domain);
        xc_interface_close(xch);
        return -1;
    }
    xc_domain_pause(xch, domain);
    for (uint32_t v = 0; v <= info.max_vcpu_id; v++)
        xc_domain_debug_control(xch, domain, XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_OFF, v);
    /* Default access back to rwx, then every page (as xen-access does on exit). */
    xc_set_mem_access(xch, domain, XENMEM_access_rwx, ~0ull, 0);
    if (xc_domain_maximum_gpfn(xch, domain, &max_gpfn) == 0)
        xc_set_mem_access(xch, domain, XENMEM_access_rwx, 0, (uint32_t)(max_gpfn + 1));
    /* Turning the ring off releases paused vCPUs and (patched Xen) ends the syscall trapping. */
    int rc = xc_monitor_disable(xch, domain);
    int saved = errno;
    xc_domain_unpause(xch, domain);
    xc_interface_close(xch);
    if (rc != 0 && saved != ENODEV) {
        snprintf(err, errlen, "cannot disable the monitor of domain %u (%s)", domain,
                 log.last[0] ? log.last : strerror(saved));
        return -1;
    }
    return 0;
}
