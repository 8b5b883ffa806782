#include "guest_memory.h"

#include <string.h>

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define ADDR_MASK_52 0x000FFFFFFFFFF000ull

struct paging paging_from_regs(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
    struct paging pg = { .cr3 = cr3, .pse = (cr4 & X86_CR4_PSE) != 0 };
    if (!(cr0 & X86_CR0_PG))
        pg.mode = PAGING_OFF;
    else if (efer & X86_EFER_LMA)
        pg.mode = PAGING_4LEVEL;
    else if (cr4 & X86_CR4_PAE)
        pg.mode = PAGING_PAE;
    else
        pg.mode = PAGING_32;
    return pg;
}

uint64_t paging_cr3_base(enum paging_mode mode, uint64_t cr3)
{
    switch (mode) {
    case PAGING_32:
        return cr3 & 0xFFFFF000ull;
    case PAGING_PAE:
        return cr3 & 0xFFFFFFE0ull;
    case PAGING_4LEVEL:
        return cr3 & ADDR_MASK_52;  /* drops PCID (bits 0-11) and the no-flush bit 63 */
    default:
        return cr3;
    }
}

static int read_entry(const struct guest_memory *gm, uint64_t gpa, unsigned size, uint64_t *entry)
{
    uint8_t b[8] = { 0 };
    if (gm->read_phys(gm->ctx, gpa, b, size) != 0)
        return -1;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)b[i] << (8 * i);
    *entry = v;
    return 0;
}

static uint32_t combine(uint32_t flags, uint64_t entry)
{
    if (!(entry & PTE_W))
        flags &= ~PAGE_FLAG_WRITABLE;
    if (!(entry & PTE_U))
        flags &= ~PAGE_FLAG_USER;
    if (entry & PTE_NX)
        flags |= PAGE_FLAG_NX;
    return flags;
}

int gm_translate(const struct guest_memory *gm, const struct paging *pg, uint64_t va,
                 uint64_t *gpa, uint32_t *flags_out)
{
    uint32_t flags = PAGE_FLAG_WRITABLE | PAGE_FLAG_USER;
    uint64_t e;

    switch (pg->mode) {
    case PAGING_OFF:
        *gpa = va & 0xFFFFFFFFull;
        if (flags_out)
            *flags_out = flags;
        return 0;

    case PAGING_32: {
        va &= 0xFFFFFFFFull;
        uint64_t pde_addr = (pg->cr3 & 0xFFFFF000ull) + ((va >> 22) & 0x3FF) * 4;
        if (read_entry(gm, pde_addr, 4, &e) || !(e & PTE_P))
            return -1;
        flags = combine(flags, e);
        if ((e & PTE_PS) && pg->pse) {
            /* 4 MiB page; PSE-36 high bits 13-20 ignored (guests we trace do not use them). */
            *gpa = (e & 0xFFC00000ull) | (va & 0x3FFFFFull);
            break;
        }
        uint64_t pte_addr = (e & 0xFFFFF000ull) + ((va >> 12) & 0x3FF) * 4;
        if (read_entry(gm, pte_addr, 4, &e) || !(e & PTE_P))
            return -1;
        flags = combine(flags, e);
        *gpa = (e & 0xFFFFF000ull) | (va & 0xFFF);
        break;
    }

    case PAGING_PAE: {
        va &= 0xFFFFFFFFull;
        uint64_t pdpte_addr = (pg->cr3 & 0xFFFFFFE0ull) + ((va >> 30) & 3) * 8;
        if (read_entry(gm, pdpte_addr, 8, &e) || !(e & PTE_P))
            return -1;
        /* PDPTEs carry no R/W or U/S bits in PAE mode. */
        uint64_t pde_addr = (e & ADDR_MASK_52) + ((va >> 21) & 0x1FF) * 8;
        if (read_entry(gm, pde_addr, 8, &e) || !(e & PTE_P))
            return -1;
        flags = combine(flags, e);
        if (e & PTE_PS) {
            *gpa = (e & 0x000FFFFFFFE00000ull) | (va & 0x1FFFFFull);
            break;
        }
        uint64_t pte_addr = (e & ADDR_MASK_52) + ((va >> 12) & 0x1FF) * 8;
        if (read_entry(gm, pte_addr, 8, &e) || !(e & PTE_P))
            return -1;
        flags = combine(flags, e);
        *gpa = (e & ADDR_MASK_52) | (va & 0xFFF);
        break;
    }

    case PAGING_4LEVEL: {
        uint64_t table = pg->cr3 & ADDR_MASK_52;
        static const unsigned shift[4] = { 39, 30, 21, 12 };
        for (unsigned level = 0; level < 4; level++) {
            uint64_t addr = table + ((va >> shift[level]) & 0x1FF) * 8;
            if (read_entry(gm, addr, 8, &e) || !(e & PTE_P))
                return -1;
            flags = combine(flags, e);
            if (level == 1 && (e & PTE_PS)) {
                *gpa = (e & 0x000FFFFFC0000000ull) | (va & 0x3FFFFFFFull);
                goto done;
            }
            if (level == 2 && (e & PTE_PS)) {
                *gpa = (e & 0x000FFFFFFFE00000ull) | (va & 0x1FFFFFull);
                goto done;
            }
            table = e & ADDR_MASK_52;
        }
        *gpa = table | (va & 0xFFF);
        break;
    }
    }
done:
    if (flags_out)
        *flags_out = flags;
    return 0;
}

size_t gm_read(const struct guest_memory *gm, const struct paging *pg, uint64_t va, void *buf,
               size_t len)
{
    size_t done = 0;
    while (done < len) {
        uint64_t gpa;
        uint64_t at = va + done;
        if (pg->mode != PAGING_4LEVEL)
            at &= 0xFFFFFFFFull;
        if (gm_translate(gm, pg, at, &gpa, NULL) != 0)
            break;
        size_t in_page = GUEST_PAGE_SIZE - (size_t)(at & (GUEST_PAGE_SIZE - 1));
        size_t n = len - done < in_page ? len - done : in_page;
        if (gm->read_phys(gm->ctx, gpa, (uint8_t *)buf + done, n) != 0)
            break;
        done += n;
    }
    return done;
}

static int read_le(const struct guest_memory *gm, const struct paging *pg, uint64_t va,
                   unsigned size, uint64_t *v)
{
    uint8_t b[8];
    if (gm_read(gm, pg, va, b, size) != size)
        return -1;
    uint64_t x = 0;
    for (unsigned i = 0; i < size; i++)
        x |= (uint64_t)b[i] << (8 * i);
    *v = x;
    return 0;
}

int gm_read_u16(const struct guest_memory *gm, const struct paging *pg, uint64_t va, uint16_t *v)
{
    uint64_t x;
    if (read_le(gm, pg, va, 2, &x))
        return -1;
    *v = (uint16_t)x;
    return 0;
}

int gm_read_u32(const struct guest_memory *gm, const struct paging *pg, uint64_t va, uint32_t *v)
{
    uint64_t x;
    if (read_le(gm, pg, va, 4, &x))
        return -1;
    *v = (uint32_t)x;
    return 0;
}

int gm_read_u64(const struct guest_memory *gm, const struct paging *pg, uint64_t va, uint64_t *v)
{
    return read_le(gm, pg, va, 8, v);
}

int gm_read_ptr(const struct guest_memory *gm, const struct paging *pg, uint64_t va,
                unsigned width, uint64_t *v)
{
    return read_le(gm, pg, va, width == 8 ? 8 : 4, v);
}

/* ---- walking the user half ------------------------------------------------------------------ */

struct walk {
    const struct guest_memory *gm;
    user_page_fn cb;
    void *ctx;
};

/* Emits the 4 KiB pages of one leaf mapping (4 KiB, 2 MiB, 4 MiB or 1 GiB). */
static int emit_run(struct walk *w, uint64_t va, uint64_t gpa, uint64_t size, uint32_t flags)
{
    for (uint64_t off = 0; off < size; off += GUEST_PAGE_SIZE) {
        int rc = w->cb(w->ctx, va + off, (gpa + off) >> GUEST_PAGE_SHIFT, flags);
        if (rc)
            return rc;
    }
    return 0;
}

static int walk_table(struct walk *w, uint64_t table, unsigned entry_size, unsigned entries,
                      const unsigned *shifts, unsigned levels, uint64_t va_base, uint32_t flags,
                      bool pse, bool pae_top)
{
    for (unsigned i = 0; i < entries; i++) {
        uint64_t e;
        if (read_entry(w->gm, table + (uint64_t)i * entry_size, entry_size, &e) || !(e & PTE_P))
            continue;
        uint64_t va = va_base | ((uint64_t)i << shifts[0]);
        uint32_t f = pae_top ? flags : combine(flags, e);
        if (!(f & PAGE_FLAG_USER))
            continue;
        uint64_t addr_mask = entry_size == 4 ? 0xFFFFF000ull : ADDR_MASK_52;
        if (levels == 1) {
            int rc = emit_run(w, va, e & addr_mask, GUEST_PAGE_SIZE, f);
            if (rc)
                return rc;
            continue;
        }
        if (!pae_top && (e & PTE_PS) && (entry_size == 8 || pse) && shifts[0] <= 30 &&
            shifts[0] >= 21) {
            uint64_t size = 1ull << shifts[0];
            uint64_t base = entry_size == 4 ? (e & 0xFFC00000ull) : (e & ADDR_MASK_52 & ~(size - 1));
            int rc = emit_run(w, va, base, size, f);
            if (rc)
                return rc;
            continue;
        }
        int rc = walk_table(w, e & addr_mask, entry_size, entry_size == 4 ? 1024 : 512, shifts + 1,
                            levels - 1, va, f, pse, false);
        if (rc)
            return rc;
    }
    return 0;
}

int gm_walk_user(const struct guest_memory *gm, const struct paging *pg, user_page_fn cb,
                 void *ctx)
{
    struct walk w = { gm, cb, ctx };
    uint32_t all = PAGE_FLAG_WRITABLE | PAGE_FLAG_USER;
    static const unsigned shifts32[] = { 22, 12 };
    static const unsigned shifts_pae[] = { 30, 21, 12 };
    static const unsigned shifts64[] = { 39, 30, 21, 12 };

    switch (pg->mode) {
    case PAGING_32:
        return walk_table(&w, pg->cr3 & 0xFFFFF000ull, 4, 1024, shifts32, 2, 0, all, pg->pse, false);
    case PAGING_PAE:
        return walk_table(&w, pg->cr3 & 0xFFFFFFE0ull, 8, 4, shifts_pae, 3, 0, all, false, true);
    case PAGING_4LEVEL:
        /* Only the lower (user) canonical half: entries 0-255 of the top table. */
        return walk_table(&w, pg->cr3 & ADDR_MASK_52, 8, 256, shifts64, 4, 0, all, false, false);
    default:
        return 0;
    }
}
