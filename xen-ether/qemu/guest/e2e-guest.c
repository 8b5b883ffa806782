/*
 * e2e-guest.c: the program xen-ether/qemu/e2e.sh runs as the guest's only user process (its /init),
 * and also natively on the host, to compare.  Built -static -nostdlib -fno-pie at test time: every
 * instruction it runs is its own, so the trace of it can be checked exactly.
 *
 * It makes known system calls (write, getpid, openat of a known missing path, mmap at a fixed
 * address, exit_group), decrypts a few bytes of code into that fresh memory and runs them (one
 * unpacking layer at 0x500000), runs a loop of a known length (LOOP_N iterations of 3 instructions
 * between the symbols e2e_loop and e2e_loop_end), and checks what a tracer with the trap flag could
 * give away: the flags pushf stores, the flags in a fault's signal frame, and its own trap-flag
 * single-steps (SIGTRAP, each counted once).  It prints one line per fact; natively and traced the
 * lines must be the same.
 */
#define SYS_write 1
#define SYS_mmap 9
#define SYS_rt_sigaction 13
#define SYS_rt_sigreturn 15
#define SYS_getpid 39
#define SYS_openat 257
#define SYS_exit_group 231

#define LAYER_ADDR 0x500000L
#define LOOP_N 100
#define OWN_STEPS 5
#define KEY 0x5a

typedef unsigned long u64;

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}

static unsigned long slen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }
static void put(const char *s) { sys6(SYS_write, 1, (long)s, (long)slen(s), 0, 0, 0); }

static void put_line(const char *label, long v)
{
    char buf[64];
    int i = 0, n = 0;
    char digits[24];
    while (label[i]) buf[n++] = label[i++];
    if (v < 0) { buf[n++] = '-'; v = -v; }
    i = 0;
    do { digits[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i) buf[n++] = digits[--i];
    buf[n++] = '\n';
    sys6(SYS_write, 1, (long)buf, n, 0, 0, 0);
}

/* The layer: write(1, "e2e layer ran\n", 14); return 42 -- position independent, XOR-encrypted. */
#define E(b) ((unsigned char)((b) ^ KEY))
static const unsigned char layer[] = {
    E(0xb8), E(0x01), E(0x00), E(0x00), E(0x00),              /* mov eax, 1 */
    E(0xbf), E(0x01), E(0x00), E(0x00), E(0x00),              /* mov edi, 1 */
    E(0x48), E(0x8d), E(0x35), E(0x0d), E(0x00), E(0x00), E(0x00), /* lea rsi, [rip+0x0d] */
    E(0xba), E(0x0e), E(0x00), E(0x00), E(0x00),              /* mov edx, 14 */
    E(0x0f), E(0x05),                                         /* syscall */
    E(0xb8), E(0x2a), E(0x00), E(0x00), E(0x00),              /* mov eax, 42 */
    E(0xc3),                                                  /* ret */
    E('e'), E('2'), E('e'), E(' '), E('l'), E('a'), E('y'), E('e'), E('r'), E(' '), E('r'), E('a'),
    E('n'), E('\n'),
};

struct ksigaction { void (*handler)(int, void *, void *); u64 flags; void (*restorer)(void); u64 mask; };
#define SA_SIGINFO 4
#define SA_RESTORER 0x04000000
#define REG_EFL_OFFSET (40 + 17 * 8)   /* ucontext: uc_flags, uc_link, uc_stack (24), then gregs[REG_EFL=17] */
#define REG_RIP_OFFSET (40 + 16 * 8)

extern void e2e_restorer(void);
__asm__(".text\n.globl e2e_restorer\ne2e_restorer:\n mov $15, %eax\n syscall\n hlt\n");

static volatile long traps, segv_tf = -1;

static void on_trap(int sig, void *info, void *uc)
{
    u64 *efl = (u64 *)((char *)uc + REG_EFL_OFFSET);
    (void)sig; (void)info;
    if (++traps >= OWN_STEPS) *efl &= ~0x100UL;   /* enough: the program's own single-stepping ends */
}

extern char e2e_fault[], e2e_after_fault[];
static void on_segv(int sig, void *info, void *uc)
{
    u64 *efl = (u64 *)((char *)uc + REG_EFL_OFFSET);
    u64 *rip = (u64 *)((char *)uc + REG_RIP_OFFSET);
    (void)sig; (void)info;
    segv_tf = (long)((*efl >> 8) & 1);   /* natively 0: a tracer's TF must not show here */
    *rip = (u64)e2e_after_fault;
}

static void handle(int sig, void (*h)(int, void *, void *))
{
    struct ksigaction sa = { h, SA_SIGINFO | SA_RESTORER, e2e_restorer, 0 };
    sys6(SYS_rt_sigaction, sig, (long)&sa, 0, 8, 0, 0);
}

void _start(void)
{
    put("e2e guest start\n");
    put_line("getpid ", sys6(SYS_getpid, 0, 0, 0, 0, 0, 0) > 0);
    put_line("openat ", sys6(SYS_openat, -100, (long)"/etc/ether-e2e-missing", 0, 0, 0, 0));

    /* Unpacking: decrypt into fresh executable memory at a fixed address, run it. */
    unsigned char *p = (unsigned char *)sys6(SYS_mmap, LAYER_ADDR, 4096, 7, 0x100022, -1, 0);
    put_line("mmap ", (long)p);
    for (unsigned i = 0; i < sizeof layer; i++)
        ((volatile unsigned char *)p)[i] = layer[i] ^ KEY;
    long r = ((long (*)(void))p)();
    put_line("layer returned ", r);

    /* The loop of known length: LOOP_N times add/dec/jnz. */
    long acc = 0;
    __asm__ volatile("mov %1, %%ecx\n"
                     ".globl e2e_loop\ne2e_loop:\n"
                     "add %%rcx, %0\n dec %%ecx\n jnz e2e_loop\n"
                     ".globl e2e_loop_end\ne2e_loop_end:\n"
                     : "+r"(acc) : "i"(LOOP_N) : "rcx", "cc");
    put_line("loop sum ", acc);

    /* What pushf stores: the guest's own flags (TF clear). */
    u64 flags;
    __asm__ volatile("pushfq\n pop %0" : "=r"(flags));
    put_line("pushf tf ", (long)((flags >> 8) & 1));

    /* The program's own trap-flag single-steps: OWN_STEPS SIGTRAPs, each once. */
    handle(5 /* SIGTRAP */, on_trap);
    __asm__ volatile("pushfq\n orq $0x100, (%%rsp)\n popfq\n"
                     "nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n" ::: "memory", "cc");
    put_line("own traps ", traps);

    /* A fault's signal frame holds the guest's flags. */
    handle(11 /* SIGSEGV */, on_segv);
    __asm__ volatile(".globl e2e_fault\ne2e_fault:\n movb $1, 0\n"
                     ".globl e2e_after_fault\ne2e_after_fault:\n" ::: "memory");
    put_line("segv frame tf ", segv_tf);

    put("e2e guest done\n");
    sys6(SYS_exit_group, 0, 0, 0, 0, 0, 0);
    for (;;) {}
}
