/*
 * walk.c - the program the TUI end-to-end test records (tests/Tui.Tests): a loop, write(), a failing
 * openat() (ENOENT), then a function it writes into its own memory and calls (one unpacking layer),
 * getpid() and exit. Static and without libc so it records in well under a second.
 *
 *   gcc -static -nostdlib -fno-pie -no-pie -O1 -fno-stack-protector -fcf-protection=none -o walk walk.c
 */
static long sys(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

enum { SYS_write = 1, SYS_mprotect = 10, SYS_getpid = 39, SYS_exit = 60, SYS_openat = 257 };

/* Initialised, so it is in the image (not .bss); a page of its own so mprotect covers only it. */
__attribute__((aligned(4096))) unsigned char area[4096] = { 0xcc };

__attribute__((force_align_arg_pointer, noreturn)) void _start(void)
{
    volatile long sum = 0;
    for (long i = 0; i < 50; i++)
        sum += i;
    sys(SYS_write, 1, (long)"hello from walk\n", 16);
    sys(SYS_openat, -100, (long)"/nonexistent/walk", 0);
    if (sys(SYS_mprotect, (long)area, sizeof area, 7) != 0)
        sys(SYS_exit, 2, 0, 0);
    static const unsigned char code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 }; /* mov eax, 42; ret */
    volatile unsigned char *to = area;
    for (unsigned long k = 0; k < sizeof code; k++)
        to[k] = code[k];
    int r = ((int (*)(void))area)();
    sys(SYS_getpid, 0, 0, 0);
    sys(SYS_exit, r == 42 ? 0 : 1, 0, 0);
    __builtin_unreachable();
}
