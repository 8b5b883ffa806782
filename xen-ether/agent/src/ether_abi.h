/*
 * ether_abi.h: what the Ether patch series (xen-ether/patches) adds to Xen's public interface.
 *
 * The agent builds against Debian's stock libxen-dev headers, which do not know these names, so
 * they are repeated here.  They must match the patches exactly: the CTest test "abi_matches_patch"
 * compares every number below with the patch text.  The payload fits the existing vm_event union,
 * so the ring layout (and VM_EVENT_INTERFACE_VERSION) of the stock headers stays right.
 */
#ifndef ETHER_ABI_H
#define ETHER_ABI_H

#include <stdint.h>

#include "xen_headers.h"

/* public/domctl.h */
#define ETHER_MONITOR_EVENT_SYSCALL 24          /* XEN_DOMCTL_MONITOR_EVENT_ETHER_SYSCALL */
#define ETHER_TRAP_SYSCALL (1u << 0)            /* XEN_DOMCTL_ETHER_TRAP_SYSCALL */
#define ETHER_TRAP_SYSENTER (1u << 1)           /* XEN_DOMCTL_ETHER_TRAP_SYSENTER */
#define ETHER_REPORT_RETURNS (1u << 2)          /* XEN_DOMCTL_ETHER_REPORT_RETURNS */

/* public/vm_event.h */
#define ETHER_VM_EVENT_REASON_SYSCALL 0x100     /* VM_EVENT_REASON_ETHER_SYSCALL */
#define ETHER_KIND_SYSCALL 1                    /* VM_EVENT_ETHER_SYSCALL: entry, before it runs */
#define ETHER_KIND_SYSENTER 2                   /* VM_EVENT_ETHER_SYSENTER: entry, before it runs */
#define ETHER_KIND_SYSRET 3                     /* VM_EVENT_ETHER_SYSRET: return, after it ran */
#define ETHER_KIND_SYSEXIT 4                    /* VM_EVENT_ETHER_SYSEXIT: return, after it ran */

/* struct vm_event_ether_syscall, read from (and written into, by the replay generator) req->u. */
struct ether_syscall_payload {
    uint64_t number;       /* entry: call number (RAX); return: RAX */
    uint64_t insn_address; /* linear address of the trapped instruction */
    uint32_t insn_length;
    uint8_t kind;          /* ETHER_KIND_* */
    uint8_t cpl;
    uint8_t pad[2];
};

_Static_assert(sizeof(struct ether_syscall_payload) == 24, "payload layout as in the patch");
_Static_assert(sizeof(struct ether_syscall_payload) <= sizeof(((vm_event_request_t *)0)->u),
               "payload must fit the stock vm_event union");

static inline struct ether_syscall_payload *ether_payload(vm_event_request_t *req)
{
    return (struct ether_syscall_payload *)(void *)&req->u;
}

static inline const struct ether_syscall_payload *ether_payload_const(const vm_event_request_t *req)
{
    return (const struct ether_syscall_payload *)(const void *)&req->u;
}

#endif
