/*
 * wx_probe.c - what `--mode unpack` must not change (its page flipping must stay invisible):
 * code written into fresh RWX memory and run; its own faults on purpose (a write into code it made
 * read-execute, a read of memory it made PROT_NONE), with the siginfo it gets; code rewritten
 * after mprotect RW and run again; the kernel writing (read()) into fresh writable memory. It
 * prints what it saw; natively and recorded the output must be the same.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf back;
static volatile void *fault_addr;
static volatile int fault_code;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig; (void)ctx;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(back, 1);
}

static void put_code(unsigned char *p, int value)
{
    p[0] = 0xb8; /* mov eax, imm32 */
    memcpy(p + 1, &value, 4);
    p[5] = 0xc3; /* ret */
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);

    unsigned char *code = mmap(0, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fprintf(stderr, "code at %p\n", (void *)code); /* stderr: addresses differ from run to run */
    put_code(code, 42);
    printf("rwx code returned %d\n", ((int (*)(void))code)());

    mprotect(code, 4096, PROT_READ | PROT_EXEC);
    if (sigsetjmp(back, 1) == 0) {
        code[0] = 0x90;
        printf("write into r-x code did not fault\n");
    } else
        printf("write into r-x code: SIGSEGV code %d at +%ld\n", fault_code, (long)((unsigned char *)fault_addr - code));

    mprotect(code, 4096, PROT_READ | PROT_WRITE);
    put_code(code, 7);
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
    printf("rewritten code returned %d\n", ((int (*)(void))code)());

    int fds[2];
    pipe(fds);
    write(fds[1], "kernel wrote this", 17);
    char *buffer = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long got = read(fds[0], buffer, 17);
    printf("read into fresh memory: %ld '%.*s'\n", got, (int)(got > 0 ? got : 0), buffer);

    char *none = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    none[0] = 1;
    mprotect(none, 4096, PROT_NONE);
    if (sigsetjmp(back, 1) == 0) {
        printf("read of PROT_NONE did not fault: %d\n", none[0]);
    } else
        printf("read of PROT_NONE: SIGSEGV code %d at +%ld\n", fault_code, (long)((char *)fault_addr - none));
    return 3;
}
