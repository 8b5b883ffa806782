/*
 * mremap_probe.c - mremap of memory whose pages the recorder's W^X flipping gave different real
 * protections. The kernel resizes or moves only a range inside ONE mapping (vma); natively the
 * program's own protections are uniform, so the calls below succeed. Recorded, written and
 * not-yet-written pages differ (rw- / r--), which splits the mapping: `--mode unpack` must still
 * let them succeed, keep tracking the moved pages, and leave a real EFAULT (a range the program
 * itself split with mprotect) as it is. It prints what it saw; natively and recorded the same.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void put_code(unsigned char *p, int value)
{
    p[0] = 0xb8; /* mov eax, imm32 */
    memcpy(p + 1, &value, 4);
    p[5] = 0xc3; /* ret */
}

int main(void)
{
    /* Data: page 0 written (really rw- when recorded), page 1 not (really r--), then grown and moved. */
    char *data = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data[0] = 4;
    char *grown = mremap(data, 2 * 4096, 64 * 4096, MREMAP_MAYMOVE);
    if (grown == MAP_FAILED) { printf("grow data: errno %d\n", errno); return 1; }
    grown[63 * 4096] = 5;
    grown[4096] = 6;
    printf("grown data: %d %d %d\n", grown[0], grown[4096], grown[63 * 4096]);

    /* Code: written and run in page 0 (really r-x when recorded), data written in page 2 (rw-). */
    unsigned char *code = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    put_code(code, 42);
    int first = ((int (*)(void))code)();
    code[2 * 4096] = 9;
    unsigned char *moved = mremap(code, 3 * 4096, 6 * 4096, MREMAP_MAYMOVE);
    if (moved == (unsigned char *)MAP_FAILED) { printf("move code: errno %d\n", errno); return 1; }
    fprintf(stderr, "moved code at %p\n", (void *)(moved + 5 * 4096)); /* stderr: addresses differ from run to run */
    int again = ((int (*)(void))moved)();
    put_code(moved + 5 * 4096, 43); /* new code in the grown part, then run */
    int grown_code = ((int (*)(void))(moved + 5 * 4096))();
    printf("code: %d before the move, %d after, %d written after it; data %d\n", first, again, grown_code, moved[2 * 4096]);

    /* The kernel writes into moved memory (a page never written by the program). */
    int fds[2];
    pipe(fds);
    write(fds[1], "kernel wrote this", 17);
    long got = read(fds[0], moved + 3 * 4096, 17);
    printf("read into moved memory: %ld '%.*s'\n", got, (int)(got > 0 ? got : 0), (char *)moved + 3 * 4096);

    /* Its own split: page 1 made read-only by the program itself; mremap over both fails natively. */
    char *split = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    split[0] = 1;
    mprotect(split + 4096, 4096, PROT_READ);
    void *r = mremap(split, 2 * 4096, 4 * 4096, MREMAP_MAYMOVE);
    printf("mremap over its own split: %s errno %d\n", r == MAP_FAILED ? "failed" : "succeeded", r == MAP_FAILED ? errno : 0);
    return 5;
}
