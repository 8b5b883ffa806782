/*
 * e2e-guest32.c: the 32-bit program of `xen-ether/qemu/e2e.sh --guest32` -- the only user process (its
 * /init) of a 32-bit (legacy-mode, PAE) Linux PVH guest, and natively on the host, to compare.  Built
 * -m32 -static -nostdlib -fno-pie at test time.
 *
 * It makes every system call through the kernel's vDSO entry __kernel_vsyscall (auxv AT_SYSINFO), the
 * way 32-bit glibc does: on a 32-bit kernel whose CPU has SEP that is `sysenter` (returning by
 * `sysexit`), which is what the Ether patch traps on SVM with SYSENTER_CS forced to 0 (#GP intercept).
 * Known calls: write, getpid, openat of a known missing path, exit_group.  As the guest's /init (pid 1)
 * it also reads MSR SYSENTER_CS (0x174) through /dev/cpu0msr (the msr module, loaded from /msr.ko) and
 * prints it: the guest must see its own value (__KERNEL_CS, 0x60), not the 0 the hardware holds while
 * Ether traps sysenter.  Natively (not pid 1) that part is skipped; every other line is the same.
 */
#define NR_write 4
#define NR_open 5
#define NR_close 6
#define NR_getpid 20
#define NR_pread64 180
#define NR_exit_group 252
#define NR_openat 295
#define NR_finit_module 350
#define AT_SYSINFO 32
#define MSR_IA32_SYSENTER_CS 0x174

typedef unsigned int u32;

u32 vsyscall;   /* __kernel_vsyscall */

/* sys32(n, a..f): eax = n, ebx ecx edx esi edi ebp = a..f, then the vDSO's entry, as glibc calls it. */
long sys32(long n, long a, long b, long c, long d, long e, long f);
__asm__(".text\n.globl sys32\nsys32:\n"
        " push %ebp\n push %edi\n push %esi\n push %ebx\n"
        " mov 20(%esp), %eax\n mov 24(%esp), %ebx\n mov 28(%esp), %ecx\n mov 32(%esp), %edx\n"
        " mov 36(%esp), %esi\n mov 40(%esp), %edi\n mov 44(%esp), %ebp\n"
        " call *vsyscall\n"
        " pop %ebx\n pop %esi\n pop %edi\n pop %ebp\n ret\n");

static unsigned slen(const char *s) { unsigned n = 0; while (s[n]) n++; return n; }
static void put(const char *s) { sys32(NR_write, 1, (long)s, (long)slen(s), 0, 0, 0); }

static void put_line(const char *label, long v, int hex)
{
    char buf[64], digits[16];
    int i = 0, n = 0;
    unsigned long u;
    while (label[i]) buf[n++] = label[i++];
    if (!hex && v < 0) { buf[n++] = '-'; v = -v; }
    if (hex) { buf[n++] = '0'; buf[n++] = 'x'; }
    u = (unsigned long)v;
    i = 0;
    do { digits[i++] = "0123456789abcdef"[u % (hex ? 16 : 10)]; u /= hex ? 16 : 10; } while (u);
    while (i) buf[n++] = digits[--i];
    buf[n++] = '\n';
    sys32(NR_write, 1, (long)buf, n, 0, 0, 0);
}

/* The guest's own RDMSR of SYSENTER_CS, through the msr driver. */
static void sysenter_cs(void)
{
    long fd = sys32(NR_open, (long)"/msr.ko", 0, 0, 0, 0, 0);
    long r = fd < 0 ? fd : sys32(NR_finit_module, fd, (long)"", 0, 0, 0, 0);
    if (fd >= 0) sys32(NR_close, fd, 0, 0, 0, 0, 0);
    if (r < 0) { put_line("sysenter_cs unreadable: msr module ", r, 0); return; }
    unsigned char v[8];
    fd = sys32(NR_open, (long)"/dev/cpu0msr", 0, 0, 0, 0, 0);
    r = fd < 0 ? fd : sys32(NR_pread64, fd, (long)v, 8, MSR_IA32_SYSENTER_CS, 0, 0);
    if (r != 8) { put_line("sysenter_cs unreadable: ", r, 0); return; }
    put_line("sysenter_cs ", (long)(v[0] | v[1] << 8 | v[2] << 16 | (u32)v[3] << 24), 1);
}

__attribute__((used)) static void start_c(u32 *sp)
{
    u32 argc = sp[0], *p = sp + 1 + argc + 1;   /* argv, NULL, then envp */
    while (*p) p++;
    for (p++; p[0]; p += 2)                      /* auxv: (type, value) pairs up to AT_NULL */
        if (p[0] == AT_SYSINFO) vsyscall = p[1];
    if (!vsyscall) {
        static const char msg[] = "e2e32: no AT_SYSINFO\n";
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(NR_write), "b"(1), "c"(msg), "d"(sizeof msg - 1) : "memory");
        __asm__ volatile("int $0x80" :: "a"(NR_exit_group), "b"(1));
    }
    put("e2e32 guest start\n");
    long pid = sys32(NR_getpid, 0, 0, 0, 0, 0, 0);
    put_line("getpid ", pid > 0, 0);
    put_line("openat ", sys32(NR_openat, -100, (long)"/etc/ether-e2e-missing", 0, 0, 0, 0), 0);
    if (pid == 1) sysenter_cs();
    put("e2e32 guest done\n");
    sys32(NR_exit_group, 0, 0, 0, 0, 0, 0);
    for (;;) {}
}

__asm__(".text\n.globl _start\n_start:\n"
        " xor %ebp, %ebp\n mov %esp, %eax\n and $-16, %esp\n sub $12, %esp\n push %eax\n"
        " call start_c\n hlt\n");
