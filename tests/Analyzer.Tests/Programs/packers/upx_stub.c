/*
 * upx_stub.c - layer 0 of the UPX-style packer the tests build (UpxStylePacker.cs). Like UPX's
 * amd64-linux.elf-entry: the entry code decompresses the folded loader (upx_fold.c) into a fresh
 * mapping, makes it executable and calls it; the loader calls back into this file's decompressor
 * to expand the original program's segments at their own addresses.
 *
 * packed.h (generated): FOLD_LZ[] (the loader, compressed), FOLD_BASE, FOLD_MAP, BLOB[] (the
 * compressed segments), SEGS[], NSEGS, ENTRY, PHOFF, PHNUM, PIE, INTERP.
 */
#include "packer_abi.h"
#include "packed.h"

/* The packer's LZ format: a control byte c < 0x80 copies c+1 literal bytes; c >= 0x80 copies
 * (c & 0x7f) + 3 bytes from (next two bytes, little-endian) + 1 bytes back. */
__attribute__((noinline)) u64 expand(unsigned char *dst, const unsigned char *src, u64 length)
{
    const unsigned char *end = src + length;
    unsigned char *out = dst;
    while (src < end) {
        unsigned c = *src++;
        if (c < 0x80) {
            for (unsigned i = 0; i <= c; i++) *out++ = *src++;
        } else {
            unsigned n = (c & 0x7f) + 3;
            unsigned long back = (unsigned long)(src[0] | src[1] << 8) + 1;
            src += 2;
            for (unsigned i = 0; i < n; i++, out++) *out = out[-(long)back];
        }
    }
    return (u64)(out - dst);
}

extern char __executable_start[], _end[];

__attribute__((used, noreturn)) void stage1(long *sp)
{
    unsigned char *fold = (unsigned char *)sys6(9, FOLD_BASE, FOLD_MAP, 3, 0x32, -1, 0); /* RW, private anonymous fixed */
    if ((long)fold < 0) sys6(60, 120, 0, 0, 0, 0, 0);
    expand(fold, FOLD_LZ, sizeof FOLD_LZ);
    sys6(10, FOLD_BASE, FOLD_MAP, 5, 0, 0, 0);                                          /* R-X */
    struct fold_args args = {
        sp, expand, SEGS, NSEGS, BLOB, ENTRY, PHOFF, PHNUM, PIE,
        (u64)__executable_start, FOLD_BASE + FOLD_MAP - (u64)__executable_start, INTERP,
    };
    ((void (*)(struct fold_args *))fold)(&args);
    sys6(60, 121, 0, 0, 0, 0, 0);
    __builtin_unreachable();
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall stage1\n\thlt\n");
