/* fork.c: a process writes a global and a small function (mov eax, 42; ret) into a page it made
 * executable, then forks. The child reads the global (without writing it first), calls the function
 * the parent wrote, and writes its own value; the parent waits and writes another value.
 * No libc (-nostdlib): a short trace. Fixed addresses (see ForkedProcessTests.cs):
 *   -Wl,--section-start=.shared=0x700000 -Wl,--section-start=.code=0x710000 */
#define SYS_mprotect 10
#define SYS_fork 57
#define SYS_exit 60
#define SYS_wait4 61

__attribute__((section(".shared"))) volatile unsigned long shared_value = 1;
__attribute__((section(".code"), aligned(4096))) unsigned char code_area[4096] = { 0xcc };

static long sys(long n, long a, long b, long c, long d)
{
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}

void _start(void)
{
    static const unsigned char function[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 }; /* mov eax, 42; ret */
    sys(SYS_mprotect, (long)code_area, sizeof code_area, 7 /* rwx */, 0);
    volatile unsigned char *code = code_area;
    for (unsigned i = 0; i < sizeof function; i++) code[i] = function[i];
    shared_value = 0x1122334455667788UL;
    long pid = sys(SYS_fork, 0, 0, 0, 0);
    if (pid == 0) {
        unsigned long seen = shared_value;
        long r = ((long (*)(void))code_area)();
        shared_value = seen + 1;
        sys(SYS_exit, r, 0, 0, 0);
    }
    sys(SYS_wait4, pid, 0, 0, 0);
    shared_value = 0xaa;
    sys(SYS_exit, 0, 0, 0, 0);
}
