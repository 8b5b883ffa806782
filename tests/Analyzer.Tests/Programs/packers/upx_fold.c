/*
 * upx_fold.c - layer 1 of the UPX-style packer (UPX's amd64-linux.elf-fold): position-independent
 * code that the stub decompresses into a fresh mapping and calls. It
 *   1. maps each PT_LOAD of the original program at its own address (a PIE: at a base it picks) and
 *      has the stub's decompressor expand it there (so the code is written by layer 0, as in UPX);
 *   2. undoes the packer's call/jump filter: every E8/E9 rel32 was turned into a big-endian absolute
 *      target before compression (UPX's "ct" filter); rewriting them back is a fix-up pass by layer 1
 *      over code layer 0 wrote - the pass that makes naive layer tracking ping-pong;
 *   3. gives the segments their protections and rewrites the auxv: AT_PHDR, AT_PHNUM, AT_ENTRY (the
 *      original entry point) and, for a PIE, AT_BASE;
 *   4. static: writes a clean-up stub right after the text (syscall; xor edx,edx; ret), pushes the
 *      original entry and jumps there with munmap(unpacker) in rax/rdi/rsi - the unpacker is gone
 *      when the original program runs; PIE: maps the interpreter (ld.so) and jumps to its entry with
 *      the original stack - ld.so then relocates the program and jumps to AT_ENTRY.
 * Built with -fPIE -nostdlib and linked flat at 0 (upx_fold.ld): no absolute addresses inside.
 */
#include "packer_abi.h"

#define PAGE 4096UL
#define DOWN(x) ((x) & ~(PAGE - 1))
#define UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

static void die(long code) { sys6(60, code, 0, 0, 0, 0, 0); }

static int prot_of(u64 flags) { return (flags & 4 ? 1 : 0) | (flags & 2 ? 2 : 0) | (flags & 1 ? 4 : 0); }

static void unfilter(unsigned char *code, u64 length, u64 address)
{
    for (u64 i = 0; i + 5 <= length;) {
        if (code[i] == 0xe8 || code[i] == 0xe9) {
            u32 v = (u32)code[i + 1] << 24 | (u32)code[i + 2] << 16 | (u32)code[i + 3] << 8 | code[i + 4];
            u32 rel = v - (u32)(address + i + 5);
            code[i + 1] = (unsigned char)rel;
            code[i + 2] = (unsigned char)(rel >> 8);
            code[i + 3] = (unsigned char)(rel >> 16);
            code[i + 4] = (unsigned char)(rel >> 24);
            i += 5;
        } else {
            i++;
        }
    }
}

static void set_aux(long *sp, long type, u64 value)
{
    long argc = sp[0];
    long *p = sp + 1 + argc + 1;
    while (*p) p++;           /* envp */
    for (p++; p[0] != 0; p += 2)
        if (p[0] == type) p[1] = (long)value;
}

struct ehdr { unsigned char ident[16]; unsigned short type, machine; u32 version; u64 entry, phoff, shoff; u32 flags;
              unsigned short ehsize, phentsize, phnum, shentsize, shnum, shstrndx; };
struct phdr { u32 type, flags; u64 offset, vaddr, paddr, filesz, memsz, align; };

/* Maps ld.so as the kernel would: its PT_LOADs from the file at a base of our choosing. */
static u64 map_interpreter(const char *path, u64 *entry)
{
    long fd = sys6(2, (long)path, 0, 0, 0, 0, 0);
    if (fd < 0) die(122);
    struct ehdr eh;
    struct phdr ph[16];
    if (sys6(17, fd, (long)&eh, sizeof eh, 0, 0, 0) != sizeof eh || eh.phnum > 16) die(123);
    sys6(17, fd, (long)ph, eh.phnum * sizeof ph[0], (long)eh.phoff, 0, 0);
    u64 span = 0;
    for (int i = 0; i < eh.phnum; i++)
        if (ph[i].type == 1 && UP(ph[i].vaddr + ph[i].memsz) > span) span = UP(ph[i].vaddr + ph[i].memsz);
    u64 base = (u64)sys6(9, 0, span, 0, 0x22, -1, 0); /* reserve: PROT_NONE, private anonymous */
    if ((long)base < 0) die(124);
    for (int i = 0; i < eh.phnum; i++) {
        if (ph[i].type != 1) continue;
        u64 start = DOWN(ph[i].vaddr), file_end = ph[i].vaddr + ph[i].filesz, mem_end = UP(ph[i].vaddr + ph[i].memsz);
        int prot = prot_of(ph[i].flags);
        if ((long)sys6(9, base + start, UP(file_end) - start, prot | 2, 0x12, fd, DOWN(ph[i].offset)) < 0) die(125);
        for (u64 a = file_end; a < UP(file_end); a++) *(unsigned char *)(base + a) = 0; /* .bss in the last file page */
        if (mem_end > UP(file_end)) sys6(9, base + UP(file_end), mem_end - UP(file_end), prot, 0x32, -1, 0);
        sys6(10, base + start, UP(file_end) - start, prot, 0, 0, 0);
    }
    sys6(3, fd, 0, 0, 0, 0, 0);
    *entry = base + eh.entry;
    return base;
}

__attribute__((section(".text.entry"), noreturn)) void fold(struct fold_args *a)
{
    u64 base = 0;
    if (a->pie) {
        u64 span = 0;
        for (u64 i = 0; i < a->nsegs; i++)
            if (UP(a->segs[i].vaddr + a->segs[i].memsz) > span) span = UP(a->segs[i].vaddr + a->segs[i].memsz);
        base = (u64)sys6(9, 0, span, 0, 0x22, -1, 0);
        if ((long)base < 0) die(126);
    }
    for (u64 i = 0; i < a->nsegs; i++) {
        const struct seg *s = &a->segs[i];
        u64 start = DOWN(base + s->vaddr), end = UP(base + s->vaddr + s->memsz);
        if ((long)sys6(9, start, end - start, 3, 0x32, -1, 0) < 0) die(127);
        if (a->expand((unsigned char *)(base + s->vaddr), a->blob + s->blob_offset, s->blob_length) != s->filesz) die(128);
        if (s->flags & 1) unfilter((unsigned char *)(base + s->vaddr), s->filesz, s->vaddr); /* targets are image offsets */
    }
    u64 text_end = 0;
    for (u64 i = 0; i < a->nsegs; i++)
        if (a->segs[i].flags & 1) text_end = base + a->segs[i].vaddr + a->segs[i].filesz;
    u64 cleanup = text_end;
    if (!a->pie) {
        /* The clean-up stub goes right after the text, in the text's own mapping (room is checked by the packer). */
        static const unsigned char code[] = { 0x0f, 0x05, 0x31, 0xd2, 0xc3 };
        for (u64 k = 0; k < sizeof code; k++) ((unsigned char *)cleanup)[k] = code[k];
    }
    for (u64 i = 0; i < a->nsegs; i++) {
        const struct seg *s = &a->segs[i];
        u64 start = DOWN(base + s->vaddr), end = UP(base + s->vaddr + s->memsz);
        sys6(10, start, end - start, prot_of(s->flags), 0, 0, 0);
    }
    long *sp = a->sp;
    set_aux(sp, 3, base + a->phoff);  /* AT_PHDR: the original's program headers, in its first segment */
    set_aux(sp, 5, a->phnum);         /* AT_PHNUM */
    set_aux(sp, 9, base + a->entry);  /* AT_ENTRY: the original entry point */
    if (a->pie) {
        u64 interp_entry;
        u64 interp_base = map_interpreter(a->interp, &interp_entry);
        set_aux(sp, 7, interp_base);  /* AT_BASE */
        __asm__ volatile("mov %0, %%rsp\n\txor %%edx, %%edx\n\tjmp *%1" : : "r"(sp), "r"(interp_entry) : "memory");
    } else {
        sp[-1] = (long)(base + a->entry);
        __asm__ volatile("mov %0, %%rsp\n\tmov $11, %%eax\n\tjmp *%3"
                         : : "r"(sp - 1), "D"(a->unmap_start), "S"(a->unmap_length), "r"(cleanup) : "memory");
    }
    __builtin_unreachable();
}
