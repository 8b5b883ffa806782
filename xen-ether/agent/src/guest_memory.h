/*
 * guest_memory.h: guest-virtual memory over a guest-physical reader.
 *
 * The tracer reads syscall arguments, instruction bytes and Windows kernel structures by guest
 * linear address; the backends only know guest-physical pages.  This walks the guest's own page
 * tables (32-bit, PAE and 4-level), so it works the same on Xen and on a replay session.
 */
#ifndef ETHER_GUEST_MEMORY_H
#define ETHER_GUEST_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_PAGE_SIZE 4096u
#define GUEST_PAGE_SHIFT 12

typedef int (*read_phys_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

struct guest_memory {
    read_phys_fn read_phys;
    void *ctx;
};

enum paging_mode {
    PAGING_OFF,     /* CR0.PG clear: linear = physical */
    PAGING_32,      /* 2-level, 4 KiB / 4 MiB pages */
    PAGING_PAE,     /* 3-level, 4 KiB / 2 MiB pages */
    PAGING_4LEVEL,  /* long mode, 4 KiB / 2 MiB / 1 GiB pages */
};

struct paging {
    enum paging_mode mode;
    uint64_t cr3;
    bool pse;       /* CR4.PSE: 4 MiB pages in 32-bit mode */
};

/* Page flags as the walk found them, combined over all levels. */
#define PAGE_FLAG_WRITABLE (1u << 0)
#define PAGE_FLAG_USER (1u << 1)
#define PAGE_FLAG_NX (1u << 2)

#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_EFER_LMA (1ull << 10)

struct paging paging_from_regs(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer);

/* The part of CR3 that names the address space (no PCID, flags or reserved bits). */
uint64_t paging_cr3_base(enum paging_mode mode, uint64_t cr3);

/* 0 and *gpa set, or -1 when va is not mapped (or a table could not be read). */
int gm_translate(const struct guest_memory *gm, const struct paging *pg, uint64_t va,
                 uint64_t *gpa, uint32_t *flags);

/* Reads up to len bytes at va; stops at the first unmapped page.  Returns the bytes read. */
size_t gm_read(const struct guest_memory *gm, const struct paging *pg, uint64_t va, void *buf,
               size_t len);

/* Little-endian scalars; 0 on success. */
int gm_read_u16(const struct guest_memory *gm, const struct paging *pg, uint64_t va, uint16_t *v);
int gm_read_u32(const struct guest_memory *gm, const struct paging *pg, uint64_t va, uint32_t *v);
int gm_read_u64(const struct guest_memory *gm, const struct paging *pg, uint64_t va, uint64_t *v);
/* A pointer of the guest's width (4 or 8). */
int gm_read_ptr(const struct guest_memory *gm, const struct paging *pg, uint64_t va,
                unsigned width, uint64_t *v);

/*
 * Calls cb for every present 4 KiB user page (U/S set at every level), lowest address first.
 * A non-zero return from cb stops the walk and is returned.  Tables that cannot be read are
 * skipped (the guest may be changing them).
 */
typedef int (*user_page_fn)(void *ctx, uint64_t va, uint64_t gfn, uint32_t flags);
int gm_walk_user(const struct guest_memory *gm, const struct paging *pg, user_page_fn cb,
                 void *ctx);

#endif
