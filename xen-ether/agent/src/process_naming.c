/*
 * process_naming.c: names an address space (CR3) after the guest process that owns it, read from
 * the guest's own structures (Windows XP: KPCR -> current thread -> EPROCESS), and finds the
 * process --process asks for.
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "windows.h"
#include "tracer_internal.h"

static struct process *process_for(struct tracer *t, uint64_t cr3)
{
    bool inserted;
    uint64_t *slot = u64map_upsert(&t->process_index, cr3, &inserted);
    if (!slot)
        return NULL;
    if (inserted) {
        struct process *p = grow_array(t->processes, t->nprocesses, &t->cap_processes, sizeof *p, 32);
        if (!p)
            return NULL;
        t->processes = p;
        memset(&t->processes[t->nprocesses], 0, sizeof t->processes[0]);
        t->processes[t->nprocesses].cr3 = cr3;
        *slot = t->nprocesses++;
    }
    return &t->processes[*slot];
}

static int queue_process_frame(struct tracer *t, uint32_t vcpu_id, const struct process *p,
                               bool is_target)
{
    tq_begin(t, "process", 6);
    frame_uint(&t->frame, "vcpu", vcpu_id);
    frame_uint(&t->frame, "cr3", p->cr3);
    frame_uint(&t->frame, "pid", p->pid);
    frame_str(&t->frame, "name", p->name);
    frame_uint(&t->frame, "eprocess", p->eprocess);
    frame_bool(&t->frame, "target", is_target);
    return tq_queue(t);
}

/*
 * Names the address space `cr3` if the vCPU's current process has that page-table base.  The
 * kernel structures are read through `pg` (the address space the vCPU is in now): kernel
 * addresses are the same in every process.
 */
int name_address_space(struct tracer *t, uint32_t vcpu_id, struct vcpu_state *vs,
                              const struct paging *pg, uint64_t cr3)
{
    if (t->opt.guest != GUEST_WINXP_SP2 || pg->mode == PAGING_OFF)
        return 0;
    struct process *p = process_for(t, cr3);
    if (!p || p->resolved || p->attempts >= MAX_RESOLVE_ATTEMPTS)
        return 0;
    p->attempts++;
    struct windows_process wp;
    uint64_t kpcr = vs->kpcr ? vs->kpcr : WINXP_KPCR_DEFAULT;
    if (winxp_current_process(&t->gm, pg, kpcr, &WINXP_SP2_X86, &wp) != 0 ||
        paging_cr3_base(pg->mode, wp.dtb) != cr3)
        return 0;  /* mid-switch or not readable yet: try again at a later event */
    p->resolved = true;
    p->eprocess = wp.eprocess;
    p->pid = wp.pid;
    memcpy(p->name, wp.name, sizeof p->name);

    bool is_target = false;
    if (t->opt.process && !t->target_known && windows_image_name_matches(p->name, t->opt.process)) {
        t->target_known = true;
        t->target_normalized = true;
        t->target_cr3 = cr3;
    }
    if (t->target_known && t->target_normalized && t->target_cr3 == cr3)
        is_target = true;
    return queue_process_frame(t, vcpu_id, p, is_target);
}
