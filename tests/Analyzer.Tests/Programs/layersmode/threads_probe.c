/*
 * threads_probe.c - threads racing into the same written code (`--mode unpack` and `--mode layers`):
 * a loop written into fresh memory calls back into the program; four threads and then the main
 * thread run it at once, so their faults on its page arrive while another thread has just flipped
 * or opened it. Natively and recorded the output must be the same.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* loop(cb, n): for (ebx = 0; ebx < n; ebx++) cb(ebx);  (as in callout_probe.c) */
static const unsigned char loop_code[] = {
    0x53, 0x41, 0x54, 0x41, 0x55, 0x49, 0x89, 0xfc, 0x41, 0x89, 0xf5, 0x31, 0xdb,
    0x89, 0xdf, 0x41, 0xff, 0xd4, 0xff, 0xc3, 0x44, 0x39, 0xeb, 0x72, 0xf4,
    0x41, 0x5d, 0x41, 0x5c, 0x5b, 0xc3,
};

static unsigned char *code;
static __thread unsigned long total;

static void callback(unsigned i) { total += (unsigned long)i * 3 + 1; }

static void *worker(void *arg)
{
    ((void (*)(void (*)(unsigned), unsigned))code)(callback, 200 + (unsigned)(long)arg);
    return (void *)total;
}

int main(void)
{
    code = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) return 2;
    memcpy(code, loop_code, sizeof loop_code);
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, worker, (void *)i);
    unsigned long sum = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (unsigned long)r;
        printf("thread %d: %lu\n", i, (unsigned long)r);
    }
    ((void (*)(void (*)(unsigned), unsigned))code)(callback, 10);
    printf("sum %lu main %lu\n", sum, total);
    return 3;
}
