/*
 * kdf_stub.c - a crypter stub (test (f) of issue 12, built by KdfCrypter.cs): before it decrypts
 * anything it derives its key with a long computation (KDF_ROUNDS rounds of xorshift, ~10
 * instructions each: tens of millions of instructions, the kind of stub that makes single-stepping
 * recorders crawl). Then it maps the original program's PT_LOAD segments at their own addresses
 * (fresh private anonymous memory, read-write), decrypts them into place, gives them their own
 * protections, points the auxv at the original (AT_PHDR, AT_PHNUM, AT_ENTRY) and jumps to its
 * entry point with the original stack.
 *
 * kdf_packed.h (generated): SEED, KDF_ROUNDS, SEGS[], NSEGS, BLOB[], ENTRY, PHOFF, PHNUM.
 */
#include "packer_abi.h"
#include "kdf_packed.h"

#define DOWN(x) ((x) & ~0xfffUL)
#define UP(x) (((x) + 0xfffUL) & ~0xfffUL)

__attribute__((noinline)) static u64 derive_key(void)
{
    u64 k = SEED;
    for (u64 i = 0; i < KDF_ROUNDS; i++) {
        k ^= k << 13;
        k ^= k >> 7;
        k ^= k << 17;
        k += i;
    }
    return k;
}

static u64 splitmix(u64 z)
{
    z += 0x9e3779b97f4a7c15UL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
    return z ^ (z >> 31);
}

static int prot_of(u64 flags) { return (flags & 4 ? 1 : 0) | (flags & 2 ? 2 : 0) | (flags & 1 ? 4 : 0); }

static void set_aux(long *sp, long type, u64 value)
{
    long *p = sp + 1 + sp[0] + 1;
    while (*p) p++;
    for (p++; p[0]; p += 2)
        if (p[0] == type) p[1] = (long)value;
}

__attribute__((used, noreturn)) void stage(long *sp)
{
    u64 key = derive_key();
    for (u64 i = 0; i < NSEGS; i++) {
        const struct seg *s = &SEGS[i];
        u64 start = DOWN(s->vaddr), end = UP(s->vaddr + s->memsz);
        if ((long)sys6(9, start, end - start, 3, 0x32, -1, 0) < 0) sys6(60, 120, 0, 0, 0, 0, 0); /* RW, private anonymous fixed */
        unsigned char *out = (unsigned char *)s->vaddr;
        const unsigned char *in = BLOB + s->blob_offset;
        for (u64 j = 0; j < s->filesz; j++) out[j] = in[j] ^ (unsigned char)(splitmix(key + (j >> 3)) >> ((j & 7) * 8));
    }
    for (u64 i = 0; i < NSEGS; i++) {
        const struct seg *s = &SEGS[i];
        u64 start = DOWN(s->vaddr), end = UP(s->vaddr + s->memsz);
        sys6(10, start, end - start, prot_of(s->flags), 0, 0, 0);
    }
    set_aux(sp, 3, PHOFF);  /* AT_PHDR */
    set_aux(sp, 5, PHNUM);  /* AT_PHNUM */
    set_aux(sp, 9, ENTRY);  /* AT_ENTRY: the original entry point */
    __asm__ volatile("mov %0, %%rsp\n\txor %%edx, %%edx\n\tjmp *%1" : : "r"(sp), "r"(ENTRY) : "memory");
    __builtin_unreachable();
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall stage\n\thlt\n");
