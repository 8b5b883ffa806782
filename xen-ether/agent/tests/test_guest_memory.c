/* Page-table walking in all three x86 paging modes, over a FakeBackend's physical pages. */
#include "check.h"
#include "fake_guest.h"
#include "guest_memory.h"

static int read_cb(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    return fake_read_phys(ctx, gpa, buf, len);
}

struct seen {
    uint64_t va[64], gfn[64];
    uint32_t flags[64];
    unsigned n;
    uint64_t total;
};

static int collect(void *ctx, uint64_t va, uint64_t gfn, uint32_t flags)
{
    struct seen *s = ctx;
    if (s->n < 64) {
        s->va[s->n] = va;
        s->gfn[s->n] = gfn;
        s->flags[s->n] = flags;
        s->n++;
    }
    s->total++;
    return 0;
}

#define P 1u
#define W 2u
#define U 4u
#define PS 0x80u

static void test_32bit(void)
{
    static struct fake_backend f;
    fake_init(&f, 4, 0);
    struct guest_memory gm = { read_cb, &f };
    /* PD at 0x10000; PT at 0x11000 for 0x00400000; a 4 MiB page at 0x80000000 (supervisor). */
    fake_put32(&f, 0x10000 + 1 * 4, 0x11000 | P | W | U);
    fake_put32(&f, 0x11000 + 1 * 4, 0x20000 | P | U);          /* 0x401000 -> 0x20000, read-only */
    fake_put32(&f, 0x11000 + 2 * 4, 0x21000 | P | W | U);      /* 0x402000 -> 0x21000 */
    fake_put32(&f, 0x11000 + 3 * 4, 0x22000 | P | W);          /* 0x403000 supervisor */
    fake_put32(&f, 0x10000 + 0x200 * 4, 0x00C00000 | P | W | PS);
    fake_put32(&f, 0x20000 + 0xFFE, 0x0000BEEF);               /* spans 0x401FFE..0x402001 */
    fake_put32(&f, 0x21000, 0xCAFE0000);
    fake_put32(&f, 0x00C00000 + 0x1234, 0x11223344);
    fake_put32(&f, 0x22000, 0x01020304);

    struct paging pg = paging_from_regs(0x80000011, 0x10000, 0x10 /* PSE */, 0);
    CHECK(pg.mode == PAGING_32);
    uint64_t gpa;
    uint32_t flags;
    CHECK(gm_translate(&gm, &pg, 0x401234, &gpa, &flags) == 0);
    CHECK_EQ_U64(gpa, 0x20234);
    CHECK_EQ_U64(flags, PAGE_FLAG_USER);
    CHECK(gm_translate(&gm, &pg, 0x80001234, &gpa, &flags) == 0);
    CHECK_EQ_U64(gpa, 0x00C01234);
    CHECK_EQ_U64(flags & PAGE_FLAG_USER, 0);
    CHECK(gm_translate(&gm, &pg, 0x00800000, &gpa, NULL) != 0);   /* PDE not present */
    CHECK(gm_translate(&gm, &pg, 0x00404000, &gpa, NULL) != 0);   /* PTE not present */

    uint32_t v;
    CHECK(gm_read_u32(&gm, &pg, 0x80001234, &v) == 0 && v == 0x11223344);
    uint8_t buf[8];
    /* A read across a page boundary comes from two frames. */
    CHECK_EQ_U64(gm_read(&gm, &pg, 0x401FFE, buf, 6), 6);
    CHECK(buf[0] == 0xEF && buf[1] == 0xBE && buf[2] == 0x00 && buf[3] == 0x00 && buf[4] == 0xFE && buf[5] == 0xCA);
    /* ...and stops where the mapping ends. */
    CHECK_EQ_U64(gm_read(&gm, &pg, 0x403FFC, buf, 8), 4);
    CHECK_EQ_U64(gm_read(&gm, &pg, 0x404000, buf, 8), 0);

    /* Without CR4.PSE the PS bit is ignored and the entry is a page-table pointer. */
    struct paging nopse = paging_from_regs(0x80000011, 0x10000, 0, 0);
    CHECK(gm_translate(&gm, &nopse, 0x80001234, &gpa, NULL) != 0);  /* no table at 0xC00000 */

    struct seen s = { 0 };
    CHECK(gm_walk_user(&gm, &pg, collect, &s) == 0);
    CHECK_EQ_U64(s.n, 2);  /* the supervisor page and the supervisor 4 MiB page are skipped */
    CHECK_EQ_U64(s.va[0], 0x401000);
    CHECK_EQ_U64(s.gfn[0], 0x20);
    CHECK_EQ_U64(s.flags[0] & PAGE_FLAG_WRITABLE, 0);
    CHECK_EQ_U64(s.va[1], 0x402000);
    CHECK_EQ_U64(s.gfn[1], 0x21);
    CHECK(s.flags[1] & PAGE_FLAG_WRITABLE);

    CHECK_EQ_U64(paging_cr3_base(PAGING_32, 0x10018), 0x10000);
}

static void test_pae(void)
{
    static struct fake_backend f;
    fake_init(&f, 4, 0);
    struct guest_memory gm = { read_cb, &f };
    /* PDPT at 0x5020 (32-byte aligned), PD for 0-1 GiB at 0x6000, PT at 0x7000. */
    fake_put64(&f, 0x5020 + 0 * 8, 0x6000 | P);
    fake_put64(&f, 0x6000 + 2 * 8, 0x7000 | P | W | U);            /* 0x00400000.. */
    fake_put64(&f, 0x7000 + 1 * 8, 0x8000000000000000ull | 0x30000 | P | W | U); /* NX */
    fake_put64(&f, 0x6000 + 4 * 8, 0x00A00000 | P | U | PS);        /* 2 MiB at 0x00800000 */
    struct paging pg = paging_from_regs(0x80000011, 0x5020, 0x20 /* PAE */, 0);
    CHECK(pg.mode == PAGING_PAE);
    uint64_t gpa;
    uint32_t flags;
    CHECK(gm_translate(&gm, &pg, 0x401ABC, &gpa, &flags) == 0);
    CHECK_EQ_U64(gpa, 0x30ABC);
    CHECK(flags & PAGE_FLAG_NX);
    CHECK(gm_translate(&gm, &pg, 0x00812345, &gpa, &flags) == 0);
    CHECK_EQ_U64(gpa, 0x00A12345);
    CHECK_EQ_U64(flags & PAGE_FLAG_WRITABLE, 0);
    struct seen s = { 0 };
    CHECK(gm_walk_user(&gm, &pg, collect, &s) == 0);
    CHECK_EQ_U64(s.total, 1 + 512);  /* one 4 KiB page and the 512 pages of the 2 MiB page */
    CHECK_EQ_U64(s.va[0], 0x401000);
    CHECK_EQ_U64(s.va[1], 0x800000);
    CHECK_EQ_U64(s.gfn[2], 0xA01);
    CHECK_EQ_U64(paging_cr3_base(PAGING_PAE, 0x5020), 0x5020);
}

static void test_4level(void)
{
    static struct fake_backend f;
    fake_init(&f, 8, 0);
    struct guest_memory gm = { read_cb, &f };
    /* PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000 for 0x0000000140001000. */
    uint64_t va = 0x0000000140001000ull;
    fake_put64(&f, 0x1000 + ((va >> 39) & 511) * 8, 0x2000 | P | W | U);
    fake_put64(&f, 0x2000 + ((va >> 30) & 511) * 8, 0x3000 | P | W | U);
    fake_put64(&f, 0x3000 + ((va >> 21) & 511) * 8, 0x4000 | P | W | U);
    fake_put64(&f, 0x4000 + ((va >> 12) & 511) * 8, 0x9000 | P | W | U);
    /* A 1 GiB user page at 0x0000008000000000 (PML4 slot 1). */
    fake_put64(&f, 0x1000 + 1 * 8, 0x5000 | P | W | U);
    fake_put64(&f, 0x5000 + 0 * 8, 0x40000000 | P | U | PS);
    /* Kernel half: PML4 slot 256 - must never be walked as user space. */
    fake_put64(&f, 0x1000 + 256 * 8, 0x6000 | P | W | U);
    fake_put64(&f, 0x6000, 0x7000 | P | W | U | PS);
    struct paging pg = paging_from_regs(0x80000011, 0x8000000000001005ull /* noflush + PCID 5 */,
                                        0x20, 1ull << 10);
    CHECK(pg.mode == PAGING_4LEVEL);
    CHECK_EQ_U64(paging_cr3_base(PAGING_4LEVEL, pg.cr3), 0x1000);
    uint64_t gpa;
    CHECK(gm_translate(&gm, &pg, va + 0x10, &gpa, NULL) == 0);
    CHECK_EQ_U64(gpa, 0x9010);
    CHECK(gm_translate(&gm, &pg, 0x0000008012345678ull, &gpa, NULL) == 0);
    CHECK_EQ_U64(gpa, 0x52345678);
    struct seen s = { 0 };
    CHECK(gm_walk_user(&gm, &pg, collect, &s) == 0);
    CHECK_EQ_U64(s.total, 1 + 262144);   /* the 4 KiB page + the 1 GiB page, not the kernel half */
    CHECK_EQ_U64(s.va[0], va);
    CHECK_EQ_U64(s.gfn[0], 9);
    CHECK_EQ_U64(s.va[1], 0x0000008000000000ull);
}

static int stop_at_two(void *ctx, uint64_t va, uint64_t gfn, uint32_t flags)
{
    return ++*(int *)ctx == 2 ? 7 : 0;
}

static void test_walk_stops(void)
{
    static struct fake_backend f;
    fake_init(&f, 4, 0);
    struct guest_memory gm = { read_cb, &f };
    fake_put32(&f, 0x10000, 0x11000 | P | W | U);
    for (unsigned i = 0; i < 4; i++)
        fake_put32(&f, 0x11000 + i * 4, (0x20000 + i * 0x1000) | P | W | U);
    struct paging pg = paging_from_regs(0x80000011, 0x10000, 0, 0);
    int calls = 0;
    CHECK(gm_walk_user(&gm, &pg, stop_at_two, &calls) == 7);
    CHECK(calls == 2);
    struct paging off = paging_from_regs(0x11, 0x10000, 0, 0);
    uint64_t gpa;
    CHECK(off.mode == PAGING_OFF && gm_translate(&gm, &off, 0x20004, &gpa, NULL) == 0 && gpa == 0x20004);
}

int main(void)
{
    test_32bit();
    test_pae();
    test_4level();
    test_walk_stops();
    return check_report("guest_memory");
}
