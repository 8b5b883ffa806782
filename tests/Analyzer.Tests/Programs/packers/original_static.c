/*
 * original_static.c - the program the packer tests pack (static, no libc). It reads its argc and
 * auxv as the kernel (or an unpacker) left them, runs a loop of calls (each call's rel32 goes
 * through the packer's filter) and prints what it computed; the exit code is 7.
 */
static long sys3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

extern char _start[];

__attribute__((noinline)) static unsigned mix(unsigned h, unsigned v) { return (h ^ v) * 16777619u; }
__attribute__((noinline)) static unsigned step(unsigned h, unsigned i) { return mix(h, i) + mix(i, h >> 3); }

static char *hex(char *p, unsigned long v)
{
    char digits[16];
    int n = 0;
    do { digits[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    while (n) *p++ = digits[--n];
    return p;
}

static char *text(char *p, const char *s) { while (*s) *p++ = *s++; return p; }

__attribute__((used, noreturn)) void original_main(long *sp)
{
    long argc = sp[0];
    long *p = sp + 1 + argc + 1;
    while (*p) p++;
    unsigned long at_entry = 0;
    for (p++; p[0]; p += 2)
        if (p[0] == 9) at_entry = (unsigned long)p[1];
    unsigned h = 2166136261u;
    for (unsigned i = 0; i < ROUNDS; i++) h = step(h, i);
    char line[128], *o = line;
    o = text(o, "original: argc=");
    o = hex(o, (unsigned long)argc);
    o = text(o, " sum=");
    o = hex(o, h);
    o = text(o, at_entry == (unsigned long)_start ? " AT_ENTRY is mine\n" : " AT_ENTRY is not mine\n");
    sys3(1, 1, (long)line, o - line);
    sys3(60, 7, 0, 0);
    __builtin_unreachable();
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall original_main\n\thlt\n");
