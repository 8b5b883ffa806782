/*
 * e2e-kernel32.c: a tiny 32-bit PVH guest kernel for `xen-ether/qemu/e2e.sh --guest32`, linked with the
 * unchanged user program e2e-guest32.c into one ELF.  Why not Debian's 32-bit kernel: under QEMU 7.2's
 * emulator (no NRIPS, no decode assists) Xen 4.17 has to decode every intercepted instruction itself,
 * and a 32-bit PAE Linux PVH guest loops forever at its first CPUID (in xen_prepare_pvh), on Debian's
 * unpatched Xen as on ours (see xen-ether/README.md); so the sysenter path gets a guest that uses no
 * paging.
 *
 * What it does, as 32-bit Linux does it: the GDT layout of i386 Linux (kernel CS 0x60, SS 0x68, user
 * CS 0x73, DS 0x7b); WRMSR SYSENTER_CS = 0x60, SYSENTER_ESP, SYSENTER_EIP; a vDSO-style
 * __kernel_vsyscall (push ecx, edx, ebp; mov esp, ebp; sysenter) given to the program as auxv
 * AT_SYSINFO; entry to ring 3 at the program's _start with a Linux-shaped initial stack (argc, argv,
 * envp, auxv); system calls with i386 numbers and arguments (eax; ebx ecx edx esi edi, [ebp]) returned
 * by sysexit.  Calls: write to fd 1/2 (to the Xen debug console, port 0xe9: the guest's output appears
 * as "(dN) ..." lines in `xl dmesg`), getpid = 1, openat and open of anything but the msr driver's
 * two names = -ENOENT (no file system), and the msr driver in miniature -- finit_module of "/msr.ko"
 * succeeds, pread64 of 8 bytes at offset MSR on "/dev/cpu0msr" is the guest's own RDMSR -- and
 * exit_group, which ends the guest (triple fault; the guest config destroys it on reboot).
 * No paging, no interrupts (IF stays 0), no IDT: any fault ends the guest too.
 */
#define KERNEL_CS 0x60
#define KERNEL_DS 0x68
#define USER_CS 0x73
#define USER_DS 0x7b

typedef unsigned int u32;
typedef unsigned long long u64;

/* The GDT: entries 12-15 as in i386 Linux (sysexit loads CS = SYSENTER_CS + 16, SS = + 24, RPL 3). */
__attribute__((aligned(8))) static u64 gdt[16] = {
    [12] = 0x00cf9a000000ffffULL,   /* 0x60 kernel code, flat */
    [13] = 0x00cf92000000ffffULL,   /* 0x68 kernel data, flat */
    [14] = 0x00cffa000000ffffULL,   /* 0x73 user code, flat, DPL 3 */
    [15] = 0x00cff2000000ffffULL,   /* 0x7b user data, flat, DPL 3 */
};
__attribute__((used)) struct __attribute__((packed)) { unsigned short limit; u32 base; } gdt_desc = { sizeof gdt - 1, (u32)gdt };
__attribute__((used)) struct __attribute__((packed)) { unsigned short limit; u32 base; } no_idt = { 0, 0 };

__attribute__((aligned(16))) unsigned char kstack[8192];
__attribute__((aligned(16))) static unsigned char sysenter_stack[8192], user_stack[16384];

/* The PVH entry (XEN_ELFNOTE_PHYS32_ENTRY): 32-bit flat protected mode, paging off. */
__asm__(".pushsection .note.Xen, \"a\", @note\n .balign 4\n"
        " .long 4, 4, 18\n .asciz \"Xen\"\n .balign 4\n .long pvh_start\n .popsection\n"
        ".text\n.globl pvh_start\npvh_start:\n"
        " cli\n lgdt gdt_desc\n ljmp $0x60, $1f\n"
        "1: mov $0x68, %eax\n mov %eax, %ds\n mov %eax, %es\n mov %eax, %ss\n mov %eax, %fs\n mov %eax, %gs\n"
        " mov $kstack + 8192, %esp\n call kmain\n"
        "2: hlt\n jmp 2b\n");

/* The user side of a system call, in the program's memory (ring 3), as Linux's vDSO does it. */
__asm__(".text\n.globl k32_vsyscall\nk32_vsyscall:\n"
        " push %ecx\n push %edx\n push %ebp\n mov %esp, %ebp\n sysenter\n"
        ".globl k32_vsyscall_ret\nk32_vsyscall_ret:\n"
        " pop %ebp\n pop %edx\n pop %ecx\n ret\n");
extern char k32_vsyscall[], k32_vsyscall_ret[];

/* The kernel side: eax = number, ebx ecx edx esi edi = arguments 1-5, [ebp] the 6th, ebp the user's
 * stack; back to k32_vsyscall_ret by sysexit (EDX = EIP, ECX = ESP). */
long ksyscall(long nr, long a, long b, long c, long d, long e, long f);
__asm__(".text\n.globl sysenter_entry\nsysenter_entry:\n"
        " push %ebp\n pushl (%ebp)\n push %edi\n push %esi\n push %edx\n push %ecx\n push %ebx\n push %eax\n"
        " call ksyscall\n add $28, %esp\n pop %ecx\n mov $k32_vsyscall_ret, %edx\n sysexit\n");
extern char sysenter_entry[];

static void wrmsr(u32 msr, u64 v) { __asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))); }
static u64 rdmsr(u32 msr) { u32 lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return lo | (u64)hi << 32; }
static void outb(unsigned char v, unsigned short port) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }

static int same(const char *a, const char *b) { while (*a && *a == *b) a++, b++; return *a == *b; }

enum { FD_MSR_KO = 3, FD_MSR_DEV = 4, ENOENT = 2, EBADF = 9, EINVAL = 22, ENOSYS = 38 };
enum { NR_write = 4, NR_open = 5, NR_close = 6, NR_getpid = 20, NR_pread64 = 180, NR_exit_group = 252,
       NR_openat = 295, NR_finit_module = 350 };

__attribute__((used)) long ksyscall(long nr, long a, long b, long c, long d, long e, long f)
{
    (void)e; (void)f;
    switch (nr) {
    case NR_write:
        if (a != 1 && a != 2) return -EBADF;
        for (long i = 0; i < c; i++) outb(((const unsigned char *)b)[i], 0xe9);
        return c;
    case NR_getpid:
        return 1;
    case NR_open:
    case NR_openat: {
        const char *path = (const char *)(nr == NR_open ? a : b);
        if (same(path, "/msr.ko")) return FD_MSR_KO;
        if (same(path, "/dev/cpu0msr")) return FD_MSR_DEV;
        return -ENOENT;
    }
    case NR_close:
        return a == FD_MSR_KO || a == FD_MSR_DEV ? 0 : -EBADF;
    case NR_finit_module:
        return a == FD_MSR_KO ? 0 : -EBADF;
    case NR_pread64: {   /* fd, buf, count, pos low, pos high: the msr driver's read */
        if (a != FD_MSR_DEV) return -EBADF;
        if (c != 8 || e != 0) return -EINVAL;
        u64 v = rdmsr((u32)d);
        for (int i = 0; i < 8; i++) ((unsigned char *)b)[i] = (unsigned char)(v >> (8 * i));
        return 8;
    }
    case NR_exit_group:
        /* The end: a fault with no IDT is a triple fault, which ends the domain. */
        __asm__ volatile("lidt no_idt\n int3" ::: "memory");
        for (;;) {}
    }
    return -ENOSYS;
}

extern void _start(void);   /* e2e-guest32.c */

__attribute__((used)) void kmain(void)
{
    wrmsr(0x174, KERNEL_CS);                          /* SYSENTER_CS */
    wrmsr(0x175, (u32)(sysenter_stack + sizeof sysenter_stack));   /* SYSENTER_ESP */
    wrmsr(0x176, (u32)sysenter_entry);                /* SYSENTER_EIP */

    /* The program's initial stack, as Linux builds it: argc, argv, NULL, envp NULL, auxv. */
    static const char arg0[] = "/init";
    u32 *sp = (u32 *)(user_stack + sizeof user_stack) - 16;
    u32 init[] = { 1, (u32)arg0, 0, 0, 32 /* AT_SYSINFO */, (u32)k32_vsyscall, 0 /* AT_NULL */, 0 };
    for (unsigned i = 0; i < sizeof init / sizeof init[0]; i++) sp[i] = init[i];

    /* Ring 3 at _start: IRET with user SS:ESP, EFLAGS (IF off), CS:EIP. */
    __asm__ volatile("mov %0, %%ds\n mov %0, %%es\n mov %0, %%fs\n mov %0, %%gs\n"
                     "push %0\n push %1\n push $0x2\n push %2\n push %3\n iret\n"
                     :: "r"((u32)USER_DS), "r"(sp), "r"((u32)USER_CS), "r"(_start) : "memory");
}
