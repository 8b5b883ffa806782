/*
 * packer_abi.h - what the UPX-style stub (upx_stub.c, layer 0) hands its folded loader
 * (upx_fold.c, layer 1). Generated data (packed.h) comes from UpxStylePacker.cs. Also used by
 * the crypter stub (kdf_stub.c): the raw system call all these libc-less programs make.
 */
typedef unsigned long u64;
typedef unsigned int u32;

struct seg {
    u64 vaddr, memsz, filesz, blob_offset, blob_length, flags; /* flags: PF_X 1, PF_W 2, PF_R 4 */
};

struct fold_args {
    long *sp;                                  /* argc, argv..., 0, envp..., 0, auxv as the kernel left them */
    u64 (*expand)(unsigned char *dst, const unsigned char *src, u64 length); /* layer 0's decompressor */
    const struct seg *segs;
    u64 nsegs;
    const unsigned char *blob;                 /* the compressed segments */
    u64 entry, phoff, phnum;                   /* the original ELF header's e_entry, e_phoff, e_phnum */
    u64 pie;                                   /* 1: ET_DYN, mapped anywhere, started through its interpreter */
    u64 unmap_start, unmap_length;             /* the unpacker (stub + folded loader): unmapped by the clean-up stub */
    const char *interp;                        /* PT_INTERP of a PIE */
};

/* A system call with up to six arguments (x86-64: rdi, rsi, rdx, r10, r8, r9). */
static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return ret;
}
