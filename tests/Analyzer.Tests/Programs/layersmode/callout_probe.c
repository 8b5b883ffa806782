/*
 * callout_probe.c - written code that calls out of itself (`--mode layers`): a loop written into
 * fresh memory calls back into the program's own (never written) code ROUNDS times. In layers
 * mode the loop is single-stepped and the callback runs natively: every return into the loop is
 * an entry into written code. It prints what the callbacks computed; natively and recorded the
 * output must be the same. The written code's address goes to stderr (it differs run to run).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#ifndef ROUNDS
#define ROUNDS 100
#endif

static unsigned long total;

static void callback(unsigned i)
{
    total += (unsigned long)i * i + 1;
}

/* loop(cb, n): for (ebx = 0; ebx < n; ebx++) cb(ebx); */
static const unsigned char loop_code[] = {
    0x53,                   /* push rbx */
    0x41, 0x54,             /* push r12 */
    0x41, 0x55,             /* push r13 (three pushes: rsp 16-aligned at the calls) */
    0x49, 0x89, 0xfc,       /* mov r12, rdi */
    0x41, 0x89, 0xf5,       /* mov r13d, esi */
    0x31, 0xdb,             /* xor ebx, ebx */
    0x89, 0xdf,             /* L: mov edi, ebx */
    0x41, 0xff, 0xd4,       /* call r12 */
    0xff, 0xc3,             /* inc ebx */
    0x44, 0x39, 0xeb,       /* cmp ebx, r13d */
    0x72, 0xf4,             /* jb L */
    0x41, 0x5d,             /* pop r13 */
    0x41, 0x5c,             /* pop r12 */
    0x5b,                   /* pop rbx */
    0xc3,                   /* ret */
};

int main(void)
{
    unsigned char *code = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) return 2;
    fprintf(stderr, "code at %p\n", (void *)code);
    memcpy(code, loop_code, sizeof loop_code);
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
    ((void (*)(void (*)(unsigned), unsigned))code)(callback, ROUNDS);
    printf("callbacks: %d, total %lu\n", ROUNDS, total);
    ((void (*)(void (*)(unsigned), unsigned))code)(callback, 3);
    printf("again: total %lu\n", total);
    return 5;
}
