/*
 * maps_probe.c - what a program reads about its own memory in /proc must not change under
 * `--mode unpack`, which keeps its pages writable-xor-executable behind its back: it maps regions,
 * writes and runs code in them and mprotects parts, and after each step prints the lines of
 * /proc/self/maps, /proc/thread-self/maps, /proc/<pid>/maps and /proc/self/smaps that cover them
 * (addresses relative to the region; maps read 100 bytes at a time, smaps with pread, one re-read
 * after lseek): fresh read-write and read-write-execute memory, code made read-execute, a page of
 * its own .data made read-write-execute and run, a written page next to a read-write-execute one
 * it only read, and a forked child's view; and how large reads of maps and smaps are cut (whole
 * lines, a page at most per read).
 * Natively and recorded the output must be the same.
 *
 * What the smaps counters depend on, and why each is printed (the test compares them exactly):
 * - Header lines, Size, KernelPageSize, MMUPageSize, THPeligible, VmFlags: the VMAs and their
 *   protections, which the recorder changes behind the program's back and the maps rewriter must
 *   show as the program set them: the point of the probe.
 * - Rss, Pss, Pss_Dirty, Shared_*, Private_*, Anonymous: which pages are mapped, written or shared
 *   with the forked child. The program's own doing, and the rewriter's sums and shares when it
 *   joins or cuts VMAs, except for two things that depend on the page cache of the program's file,
 *   which other processes and the kernel change between two runs:
 *     a page of a file mapping counts as dirty while the file's page-cache page is (a freshly
 *     compiled program until writeback: the tests flush it after compiling it, `sync FILE`), and
 *     a read fault maps the page-cache pages around it that are cached, up to date and unlocked
 *     (fault-around), so pages the program never touched count in Rss or not depending on whether
 *     reclaim or drop_caches evicted them (or page migration held them) between the compile, the
 *     native run and the recorded one. So the program reads every page of the file mappings it
 *     is shown (populate()): what is resident there is then what it touched.
 * - KSM, LazyFree, *HugePages, *PmdMapped, *_Hugetlb, Swap, SwapPss, Locked: 0 here (no KSM,
 *   MADV_FREE, huge pages or mlock; the regions are a few pages). A machine with swap could swap
 *   a page out between two runs: these would then differ, but none of the test machines swaps.
 * - Referenced: not printed (see show()): the accessed bits, which the kernel's page aging clears
 *   and the recorder's reads of memory set.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
static char text[1 << 20];
/* Initialised data: a file-backed private mapping (offsets in maps follow the file). */
static unsigned char data[3 * PAGE] __attribute__((aligned(PAGE))) = { 1 };

static size_t slurp(const char *path, int positional)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); exit(2); }
    size_t n = 0;
    ssize_t r;
    if (positional)
        while ((r = pread(fd, text + n, 4096, (off_t)n)) > 0) n += (size_t)r;
    else {
        /* A first look, then the whole file again from the start (lseek: a fresh text). */
        r = read(fd, text, 100);
        lseek(fd, 0, SEEK_SET);
        while ((r = read(fd, text + n, 100)) > 0) n += (size_t)r;
    }
    close(fd);
    text[n] = 0;
    return n;
}

/* Prints the VMAs of `path` overlapping [base, base+len): header fields (relative addresses) and, for smaps, a few counters and VmFlags. */
static void show(const char *what, const char *path, unsigned char *base, size_t len, int smaps)
{
    slurp(path, smaps);
    int inside = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(0, "\n")) {
        unsigned long start, end, offset, inode;
        char perms[5], dev[16];
        if (sscanf(line, "%lx-%lx %4s %lx %15s %lu", &start, &end, perms, &offset, dev, &inode) == 6) {
            inside = end > (unsigned long)base && start < (unsigned long)base + len;
            if (inside)
                printf("%s %s: +%lx-+%lx %s %lx %s %lu\n", what, smaps ? "smaps" : "maps",
                       start - (unsigned long)base, end - (unsigned long)base, perms, offset, dev, inode);
        } else if (inside && strncmp(line, "Referenced:", 11) != 0)
            /* Every smaps field but Referenced: the accessed bits of a forked child's pages differ when
               the recorder has read them (an observer effect of its memory reads, not of protections). */
            printf("%s   %s\n", what, line);
    }
}

static void look(const char *what, unsigned char *base, size_t len)
{
    char path[64];
    show(what, "/proc/self/maps", base, len, 0);
    show(what, "/proc/thread-self/maps", base, len, 0);
    snprintf(path, sizeof path, "/proc/%d/maps", getpid());
    show(what, path, base, len, 0);
    show(what, "/proc/self/smaps", base, len, 1);
}

/* How the kernel hands out a seq_file to a large read: whole records, at most a page of them per read. */
static void chunks(const char *path)
{
    static char big[1 << 16];
    int fd = open(path, O_RDONLY);
    ssize_t r, most = 0;
    int reads = 0, whole = 1;
    while ((r = read(fd, big, sizeof big)) > 0) {
        reads++;
        if (r > most) most = r;
        if (big[r - 1] != '\n') whole = 0;
    }
    close(fd);
    printf("%s read 64 KiB at a time: several reads %d, at most a page each %d, whole lines %d\n",
           path, reads > 1, most <= PAGE, whole);
}

/* Reads a byte of every page of the mappings overlapping [base, base+len): the pages of a file mapping
   the program never touched are resident only if fault-around found them in the page cache (see the
   top), so it touches them all; what is resident is then its own doing in every run. */
static void populate(unsigned char *base, size_t len)
{
    slurp("/proc/self/maps", 0);
    for (char *line = strtok(text, "\n"); line; line = strtok(0, "\n")) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) == 2 && end > (unsigned long)base && start < (unsigned long)base + len)
            for (unsigned long page = start; page < end; page += PAGE)
                (void)*(volatile unsigned char *)page;
    }
}

static void put_code(unsigned char *p, int value)
{
    p[0] = 0xb8; /* mov eax, imm32 */
    memcpy(p + 1, &value, 4);
    p[5] = 0xc3; /* ret */
}

int main(void)
{
    /* A: read-write data; one page written, the next made read-only. */
    unsigned char *a = mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a[0] = 1;
    mprotect(a + PAGE, PAGE, PROT_READ);
    look("A", a, 4 * PAGE);

    /* B: read-write-execute; code written and run in the first page, data written in the second. */
    unsigned char *b = mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    put_code(b, 42);
    printf("B code returned %d\n", ((int (*)(void))b)());
    b[PAGE] = 2;
    look("B", b, 3 * PAGE);

    /* C: code written into read-write memory, made read-execute and run; then its second page writable again and written. */
    unsigned char *c = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    put_code(c, 7);
    put_code(c + PAGE, 8);
    mprotect(c, 2 * PAGE, PROT_READ | PROT_EXEC);
    printf("C code returned %d\n", ((int (*)(void))c)());
    look("C1", c, 2 * PAGE);
    mprotect(c + PAGE, PAGE, PROT_READ | PROT_WRITE);
    c[PAGE] = 3;
    look("C2", c, 2 * PAGE);

    /* A again: the read-only page writable again (one mapping natively). */
    mprotect(a + PAGE, PAGE, PROT_READ | PROT_WRITE);
    look("A2", a, 4 * PAGE);

    /* D: the middle page of its own .data made read-write-execute, code written there and run. */
    mprotect(data + PAGE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    put_code(data + PAGE, 9);
    printf("D code returned %d\n", ((int (*)(void))(data + PAGE))());
    populate(data, 3 * PAGE);
    look("D", data, 3 * PAGE);

    chunks("/proc/self/maps");
    chunks("/proc/self/smaps");

    /* E: one page written, the next made read-write-execute and only read (the shared zero page: not
       resident for smaps), between guard pages. The recorder keeps the second page from being both
       writable and executable, so the kernel may hold the two pages in one VMA that the rewriter cuts:
       its counters then go to the page that holds them. */
    unsigned char *guarded = mmap(0, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *e = guarded + PAGE;
    mprotect(e, 2 * PAGE, PROT_READ | PROT_WRITE);
    e[0] = 4;
    mprotect(e + PAGE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    printf("E read %d\n", *(volatile unsigned char *)(e + PAGE));
    look("E", e, 2 * PAGE);

    /* F: a forked child's own view of B. */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        b[2 * PAGE] = 6;
        look("F", b, 3 * PAGE);
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    return 0;
}
