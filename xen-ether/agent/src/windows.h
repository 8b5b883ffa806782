/*
 * windows.h: what the agent knows about Windows guests.
 *
 * Ether's guests were 32-bit Windows XP; the offsets below are those of Windows XP SP2/SP3 x86
 * (public symbols: KPCR, KTHREAD, EPROCESS).  They are used only to name the process behind a CR3
 * (--process) and are not needed for --cr3.  Other Windows builds would need their own offsets.
 */
#ifndef ETHER_WINDOWS_H
#define ETHER_WINDOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_memory.h"

/* Processor 0's KPCR on XP: where FS points in kernel mode (selector 0x30). */
#define WINXP_KPCR_DEFAULT 0xFFDFF000ull
#define WINXP_KERNEL_FS_SELECTOR 0x30

struct winxp_offsets {
    uint32_t kpcr_current_thread;     /* KPCR.PrcbData.CurrentThread */
    uint32_t kthread_apc_process;     /* KTHREAD.ApcState.Process: the address space in use */
    uint32_t eprocess_dtb;            /* EPROCESS.Pcb.DirectoryTableBase[0] */
    uint32_t eprocess_pid;            /* EPROCESS.UniqueProcessId */
    uint32_t eprocess_image_name;     /* EPROCESS.ImageFileName[16] */
};

extern const struct winxp_offsets WINXP_SP2_X86;

struct windows_process {
    uint64_t eprocess;
    uint64_t dtb;
    uint32_t pid;
    char name[64];  /* UTF-8 of the 15-byte ImageFileName */
};

/*
 * The process whose address space the vCPU is in, read through KPCR -> current thread ->
 * ApcState.Process (right even while a thread is attached to another process).  0 on success.
 */
int winxp_current_process(const struct guest_memory *gm, const struct paging *pg, uint64_t kpcr,
                          const struct winxp_offsets *off, struct windows_process *out);

/* Case-insensitive compare of an ImageFileName against a user-given name (Windows keeps only the
 * first 15 bytes, so a longer wanted name matches on its first 15). */
bool windows_image_name_matches(const char *image_name, const char *wanted);

/*
 * OBJECT_ATTRIBUTES -> ObjectName (UNICODE_STRING) -> UTF-8.  width is the guest pointer size.
 * Returns 0 and the name, or -1 when the structure is unreadable or implausible (a hostile guest
 * can pass anything: Length must match the structure size, the string length must be even and
 * within MaximumLength; at most max_bytes of the string are read).
 */
int windows_object_name(const struct guest_memory *gm, const struct paging *pg, unsigned width,
                        uint64_t object_attributes, char *out, size_t out_cap, size_t max_bytes);

#endif
