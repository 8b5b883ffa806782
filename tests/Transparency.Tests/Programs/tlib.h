/*
 * tlib.h — the freestanding runtime of the transparency suite's programs.
 *
 * Most suite programs are built without libc (gcc -nostdlib -static): a recording of such a
 * program is a few thousand steps instead of glibc's ~36,000 start-up steps, which keeps the suite
 * fast. Everything a technique needs is here: raw system calls, printing, /proc reading, signal
 * handlers with their own sa_restorer, threads from raw clone(2), and the vDSO's time functions
 * looked up the way libc does (AT_SYSINFO_EHDR, then the vDSO's dynamic symbol table).
 *
 * Each program prints "CLEAN" or "DETECTED: <reason>" (plus deterministic details) and exits 0
 * when clean, 1 when it detected something. Timing thresholds are chosen so that a native run on a
 * heavily loaded machine is still clean (minima over several tries, never single samples).
 */
#ifndef TLIB_H
#define TLIB_H

typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef int i32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long size_t;

#define NULL ((void *)0)

/* ---- system calls ------------------------------------------------------------------------ */

static __attribute__((unused)) inline i64 sys6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f)
{
    register i64 r10 __asm__("r10") = d;
    register i64 r8 __asm__("r8") = e;
    register i64 r9 __asm__("r9") = f;
    i64 ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return ret;
}
#define sys0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6((n), (i64)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6((n), (i64)(a), (i64)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6((n), (i64)(a), (i64)(b), (i64)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (i64)(a), (i64)(b), (i64)(c), (i64)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6((n), (i64)(a), (i64)(b), (i64)(c), (i64)(d), (i64)(e), 0)

enum {
    SYS_read = 0, SYS_write = 1, SYS_open = 2, SYS_close = 3, SYS_fstat = 5, SYS_poll = 7, SYS_lseek = 8,
    SYS_mmap = 9, SYS_munmap = 11, SYS_rt_sigaction = 13, SYS_rt_sigprocmask = 14, SYS_pread64 = 17,
    SYS_readv = 19, SYS_sched_yield = 24, SYS_select = 23, SYS_dup = 32, SYS_pause = 34, SYS_nanosleep = 35,
    SYS_getitimer = 36, SYS_alarm = 37, SYS_setitimer = 38, SYS_getpid = 39, SYS_clone = 56, SYS_fork = 57,
    SYS_exit = 60, SYS_wait4 = 61, SYS_kill = 62, SYS_fcntl = 72, SYS_getcwd = 79, SYS_chdir = 80,
    SYS_unlink = 87, SYS_readlink = 89, SYS_gettimeofday = 96, SYS_getrusage = 98, SYS_sysinfo = 99,
    SYS_times = 100, SYS_ptrace = 101, SYS_getppid = 110, SYS_getpgrp = 111, SYS_getsid = 124,
    SYS_personality = 135, SYS_prctl = 157, SYS_gettid = 186, SYS_time = 201, SYS_futex = 202,
    SYS_sched_getaffinity = 204, SYS_epoll_create = 213, SYS_getdents64 = 217, SYS_clock_gettime = 228,
    SYS_clock_getres = 229, SYS_clock_nanosleep = 230, SYS_exit_group = 231, SYS_epoll_wait = 232,
    SYS_tgkill = 234, SYS_openat = 257, SYS_pselect6 = 270, SYS_ppoll = 271, SYS_preadv = 295,
    SYS_prlimit64 = 302, SYS_getcpu = 309,
};

#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_DIRECTORY 0200000
#define AT_FDCWD (-100)

static __attribute__((unused)) inline void exit_group(int code) { sys1(SYS_exit_group, code); for (;;) { } }

/* gcc may emit calls to these even without libc. */
void *memset(void *d, int c, size_t n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, size_t n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }
int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *p = a, *q = b;
    for (; n; n--, p++, q++) if (*p != *q) return *p - *q;
    return 0;
}

/* ---- strings and printing ------------------------------------------------------------------- */

static __attribute__((unused)) size_t t_strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
static __attribute__((unused)) int t_strcmp(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return (u8)*a - (u8)*b; }
static __attribute__((unused)) int t_strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) { if (*a != *b) return (u8)*a - (u8)*b; if (!*a) return 0; }
    return 0;
}
static __attribute__((unused)) const char *t_strstr(const char *h, const char *n)
{
    size_t k = t_strlen(n);
    for (; *h; h++) if (!t_strncmp(h, n, k)) return h;
    return NULL;
}
static __attribute__((unused)) char t_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }
static __attribute__((unused)) const char *t_basename(const char *p) { const char *b = p; for (; *p; p++) if (*p == '/') b = p + 1; return b; }

static char out_buf[4096];
static size_t out_len;
static __attribute__((unused)) void flush(void) { size_t off = 0; while (off < out_len) { i64 n = sys3(SYS_write, 1, out_buf + off, out_len - off); if (n <= 0) break; off += n; } out_len = 0; }
static __attribute__((unused)) void put(const char *s) { while (*s) { if (out_len == sizeof out_buf) flush(); out_buf[out_len++] = *s++; } }
static __attribute__((unused)) void put_u(u64 v) { char b[24]; int i = 23; b[i] = 0; do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v); put(b + i); }
static __attribute__((unused)) void put_i(i64 v) { if (v < 0) { put("-"); put_u((u64)-v); } else put_u((u64)v); }
static __attribute__((unused)) void put_x(u64 v) { char b[20]; int i = 19; b[i] = 0; do { b[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v); put("0x"); put(b + i); }
static __attribute__((unused)) void line(const char *s) { put(s); put("\n"); }

/* The verdict: prints it, flushes, exits 0 (clean) or 1 (detected). A verdict line always starts
 * with CLEAN or DETECTED; reason() collects words to print after "DETECTED: ". */
static char reason_buf[512];
static size_t reason_len;
static __attribute__((unused)) void reason(const char *s) { while (*s && reason_len + 1 < sizeof reason_buf) reason_buf[reason_len++] = *s++; }
static __attribute__((unused)) void clean(void) { line("CLEAN"); flush(); exit_group(0); }
static __attribute__((unused)) void detected(const char *why) { put("DETECTED: "); reason_buf[reason_len] = 0; put(reason_buf); line(why); flush(); exit_group(1); }
static __attribute__((unused)) void detected_v(const char *why, i64 value) { put("DETECTED: "); reason_buf[reason_len] = 0; put(reason_buf); put(why); put(" "); put_i(value); put("\n"); flush(); exit_group(1); }
static __attribute__((unused)) void check(int ok, const char *why) { if (!ok) detected(why); }

/* ---- numbers in text --------------------------------------------------------------------------- */

static __attribute__((unused)) i64 parse_i(const char *s, const char **end)
{
    int neg = 0; i64 v = 0;
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '-') { neg = 1; s++; }
    while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
    if (end) *end = s;
    return neg ? -v : v;
}

/* Value of "Key:\t<number>" in a /proc status text, or -1. */
static __attribute__((unused)) i64 status_field(const char *text, const char *key)
{
    size_t k = t_strlen(key);
    for (const char *p = text; *p; ) {
        if (!t_strncmp(p, key, k) && p[k] == ':') return parse_i(p + k + 1, NULL);
        while (*p && *p != '\n') p++;
        if (*p) p++;
    }
    return -1;
}

/* The text after "Key:" (whitespace skipped), copied to out up to the end of the line. */
static __attribute__((unused)) int status_text(const char *text, const char *key, char *out, size_t cap)
{
    size_t k = t_strlen(key);
    for (const char *p = text; *p; ) {
        if (!t_strncmp(p, key, k) && p[k] == ':') {
            p += k + 1;
            while (*p == ' ' || *p == '\t') p++;
            size_t n = 0;
            while (*p && *p != '\n' && n + 1 < cap) out[n++] = *p++;
            out[n] = 0;
            return 1;
        }
        while (*p && *p != '\n') p++;
        if (*p) p++;
    }
    return 0;
}

/* ---- files -------------------------------------------------------------------------------------- */

static __attribute__((unused)) i64 t_open(const char *path, int flags) { return sys4(SYS_openat, AT_FDCWD, path, flags, 0644); }
static __attribute__((unused)) void t_close(i64 fd) { sys1(SYS_close, fd); }

/* Reads a whole file (one read after another until EOF) into buf (NUL-terminated); returns the length or -errno. */
static __attribute__((unused)) i64 read_file(const char *path, char *buf, size_t cap)
{
    i64 fd = t_open(path, O_RDONLY);
    if (fd < 0) return fd;
    size_t n = 0;
    for (;;) {
        i64 r = sys3(SYS_read, fd, buf + n, cap - 1 - n);
        if (r < 0) { t_close(fd); return r; }
        if (r == 0) break;
        n += r;
        if (n == cap - 1) break;
    }
    buf[n] = 0;
    t_close(fd);
    return (i64)n;
}

/* "/proc/<a>/<b>" style paths with numbers. */
static __attribute__((unused)) char *path_cat(char *dst, const char *s) { while (*s) *dst++ = *s++; *dst = 0; return dst; }
static __attribute__((unused)) char *path_num(char *dst, u64 v) { char b[24]; int i = 23; b[i] = 0; do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v); return path_cat(dst, b + i); }

/* Field n (1-based) of /proc/.../stat text, after the comm in parentheses; copied to out. */
static __attribute__((unused)) int stat_field(const char *text, int n, char *out, size_t cap)
{
    const char *p = text, *close = NULL;
    for (; *p; p++) if (*p == ')') close = p;
    if (!close) return 0;
    p = close + 2; /* field 3 starts here */
    for (int f = 3; f < n; f++) { while (*p && *p != ' ') p++; if (*p) p++; }
    size_t k = 0;
    while (*p && *p != ' ' && *p != '\n' && k + 1 < cap) out[k++] = *p++;
    out[k] = 0;
    return k > 0;
}

/* ---- start-up --------------------------------------------------------------------------------- */

static char **t_envp;
static u64 *t_auxv;

static __attribute__((unused)) const char *t_getenv(const char *name)
{
    size_t k = t_strlen(name);
    for (char **e = t_envp; *e; e++) if (!t_strncmp(*e, name, k) && (*e)[k] == '=') return *e + k + 1;
    return NULL;
}

static __attribute__((unused)) u64 getauxval(u64 type) { for (u64 *a = t_auxv; *a; a += 2) if (a[0] == type) return a[1]; return 0; }

int main(); /* unprototyped: programs define it with or without arguments */

__attribute__((used)) static void t_start_c(u64 *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    t_envp = argv + argc + 1;
    char **e = t_envp;
    while (*e) e++;
    t_auxv = (u64 *)(e + 1);
    int r = ((int (*)(int, char **))main)(argc, argv);
    flush();
    exit_group(r);
}

__asm__(".globl _start\n_start:\n  xor %rbp,%rbp\n  mov %rsp,%rdi\n  and $-16,%rsp\n  call t_start_c\n  hlt\n");

/* ---- signals ----------------------------------------------------------------------------------- */

struct k_sigaction { void *handler; u64 flags; void *restorer; u64 mask; };
#define SA_SIGINFO 4
#define SA_RESTORER 0x04000000
#define SA_RESTART 0x10000000
#define SA_NODEFER 0x40000000
#define SIGTRAP 5
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGILL 4
#define SIGALRM 14
#define SIGCHLD 17
#define SIGSTOP 19
#define SIGCONT 18

typedef struct {
    int si_signo, si_errno, si_code, pad;
    union { struct { int pid; u32 uid; } kill; void *addr; } u;
    char rest[96];
} t_siginfo;

/* ucontext_t as the kernel lays it out on x86-64 (uc_mcontext.gregs indices as in glibc). */
enum { REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15, REG_RDI, REG_RSI, REG_RBP,
       REG_RBX, REG_RDX, REG_RAX, REG_RCX, REG_RSP, REG_RIP, REG_EFL, REG_CSGSFS, REG_ERR, REG_TRAPNO };
typedef struct { u64 uc_flags; void *uc_link; struct { void *sp; int flags; size_t size; } uc_stack; u64 gregs[23]; } t_ucontext;

__asm__(".globl t_restorer\nt_restorer:\n  mov $15,%eax\n  syscall\n  hlt\n");
void t_restorer(void);

static __attribute__((unused)) int on_signal(int sig, void (*handler)(int, t_siginfo *, void *), u64 flags)
{
    struct k_sigaction sa = { (void *)handler, flags | SA_SIGINFO | SA_RESTORER, (void *)t_restorer, 0 };
    return (int)sys4(SYS_rt_sigaction, sig, &sa, NULL, 8);
}

/* ---- threads from raw clone --------------------------------------------------------------------- */

#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000
#define CLONE_CHILD_CLEARTID 0x200000

/* Starts fn(arg) on a new thread with its own stack; returns the tid. The thread exits when fn returns. */
static __attribute__((unused)) i64 spawn_thread(void (*fn)(void *), void *arg, int *tid_word)
{
    const size_t size = 64 << 10;
    u8 *stack = (u8 *)sys6(SYS_mmap, 0, size, 3, 0x22, -1, 0);
    if ((i64)stack < 0) return (i64)stack;
    u64 *top = (u64 *)(stack + size);
    *--top = (u64)arg;
    *--top = (u64)fn;
    register i64 r10 __asm__("r10") = (i64)tid_word;
    i64 ret;
    __asm__ volatile(
        "syscall\n"
        "test %%rax,%%rax\n"
        "jnz 1f\n"
        "pop %%rax\n"      /* fn */
        "pop %%rdi\n"      /* arg */
        "and $-16,%%rsp\n"
        "call *%%rax\n"
        "mov $60,%%eax\n"
        "xor %%edi,%%edi\n"
        "syscall\n"
        "1:\n"
        : "=a"(ret)
        : "a"(SYS_clone), "D"(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID),
          "S"(top), "d"(0), "r"(r10)
        : "rcx", "r11", "memory");
    return ret;
}

/* Waits until the thread whose CLONE_CHILD_CLEARTID word is *tid_word has exited. */
static __attribute__((unused)) void join_thread(volatile int *tid_word)
{
    int v;
    while ((v = *tid_word) != 0) sys4(SYS_futex, tid_word, 0 /* FUTEX_WAIT */, v, NULL);
}

/* ---- time ------------------------------------------------------------------------------------- */

struct t_timespec { i64 sec, nsec; };
struct t_timeval { i64 sec, usec; };
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11

static __attribute__((unused)) i64 ts_ns(struct t_timespec t) { return t.sec * 1000000000L + t.nsec; }

static __attribute__((unused)) inline u64 rdtsc(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }
static __attribute__((unused)) inline u64 rdtscp(u32 *aux) { u32 lo, hi, c; __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c)); if (aux) *aux = c; return ((u64)hi << 32) | lo; }

/* The vDSO's functions, found as libc finds them: the ELF image at AT_SYSINFO_EHDR, its dynamic symbols. */
typedef struct { u8 ident[16]; u16 type, machine; u32 version; u64 entry, phoff, shoff; u32 flags; u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx; } t_ehdr;
typedef struct { u32 name, type; u64 flags, addr, offset, size; u32 link, info; u64 addralign, entsize; } t_shdr;
typedef struct { u32 type, flags; u64 offset, vaddr, paddr, filesz, memsz, align; } t_phdr;
typedef struct { u32 name; u8 info, other; u16 shndx; u64 value, size; } t_sym;

static __attribute__((unused)) void *vdso_sym(const char *name)
{
    u8 *base = (u8 *)getauxval(33 /* AT_SYSINFO_EHDR */);
    if (!base) return NULL;
    t_ehdr *eh = (t_ehdr *)base;
    u64 load = 0;
    t_phdr *ph = (t_phdr *)(base + eh->phoff);
    for (int i = 0; i < eh->phnum; i++) if (ph[i].type == 1) { load = ph[i].vaddr - ph[i].offset; break; }
    t_shdr *sh = (t_shdr *)(base + eh->shoff);
    for (int i = 0; i < eh->shnum; i++) {
        if (sh[i].type != 11 /* SHT_DYNSYM */) continue;
        t_sym *syms = (t_sym *)(base + sh[i].offset);
        const char *strs = (const char *)(base + sh[sh[i].link].offset);
        u64 n = sh[i].size / sizeof(t_sym);
        for (u64 k = 0; k < n; k++)
            if (syms[k].shndx && !t_strcmp(strs + syms[k].name, name)) return base + (syms[k].value - load);
    }
    return NULL;
}

typedef int (*clock_gettime_fn)(int, struct t_timespec *);
typedef int (*gettimeofday_fn)(struct t_timeval *, void *);
typedef i64 (*time_fn)(i64 *);

static __attribute__((unused)) clock_gettime_fn vdso_clock_gettime(void) { return (clock_gettime_fn)vdso_sym("__vdso_clock_gettime"); }

/* clock_gettime as libc does it: the vDSO when there is one, else the system call. */
static __attribute__((unused)) i64 now_ns(int clock)
{
    static clock_gettime_fn f;
    static int looked;
    if (!looked) { f = vdso_clock_gettime(); looked = 1; }
    struct t_timespec t = { 0, 0 };
    if (f) f(clock, &t); else sys2(SYS_clock_gettime, clock, &t);
    return ts_ns(t);
}

/* The TSC against CLOCK_MONOTONIC over a stretch of code: start reads the clock then the TSC, end
 * the TSC then the clock, so the TSC's interval lies inside the clock's. */
struct tsc_span { i64 ns0; u64 tsc0; u64 tsc1; i64 ns1; };
static __attribute__((unused)) void tsc_span_start(struct tsc_span *s) { s->ns0 = now_ns(CLOCK_MONOTONIC); s->tsc0 = rdtsc(); }
static __attribute__((unused)) void tsc_span_end(struct tsc_span *s) { s->tsc1 = rdtsc(); s->ns1 = now_ns(CLOCK_MONOTONIC); }
/* The TSC's frequency over the span in GHz x 100 (plausible: 20 - 2000, i.e. 0.2 - 20 GHz); the clock must have advanced. */
static __attribute__((unused)) u64 tsc_ghz_x100(const struct tsc_span *s) { return (s->tsc1 - s->tsc0) * 100 / (u64)(s->ns1 - s->ns0); }

static __attribute__((unused)) i64 sys_now_ns(int clock) { struct t_timespec t = { 0, 0 }; sys2(SYS_clock_gettime, clock, &t); return ts_ns(t); }

static __attribute__((unused)) void sleep_ns(i64 ns) { struct t_timespec t = { ns / 1000000000L, ns % 1000000000L }; while (sys2(SYS_nanosleep, &t, &t) == -4) { } }

#endif
