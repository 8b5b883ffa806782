/*
 * xen_headers.h: the public Xen interface the plain-C parts of the agent need (vm_event_request_t,
 * ring macros, XENMEM access values), without libxenctrl.  Only xen_backend.c talks to Xen.
 */
#ifndef ETHER_XEN_HEADERS_H
#define ETHER_XEN_HEADERS_H

/* vm_event.h and memory.h are tools-only interfaces: they hide themselves without this. */
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif

#include <xen/xen.h>
#include <xen/memory.h>
#include <xen/vm_event.h>

#endif
