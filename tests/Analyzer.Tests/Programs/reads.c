// Reads memory from every place a program's bytes come from, for the recorder's read oracle test:
// the initial stack (argv, envp, auxv), initialised and zeroed data, the heap, a file read into a
// buffer, a private file mapping, libc's data, and pages that change behind the program's back:
// a shared mapping written by a child process, a private page dropped by madvise(MADV_DONTNEED), a
// memfd mapping written through its file descriptor. Prints a checksum of what it read.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static const char rodata[] = "read-only data the program reads";
int data[64] = {1, 2, 3, 4, 5, 6, 7, 8};
int bss[1024];

static unsigned long mix(unsigned long h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = h * 31 + b[i];
    return h;
}

int main(int argc, char **argv, char **envp) {
    unsigned long h = 0, env = 0;
    // The initial stack: argv and the environment (strings the kernel put there; the environment is
    // left out of the printed checksum, which a native run compares).
    for (int i = 1; i < argc; i++) h = mix(h, argv[i], strlen(argv[i]));
    for (char **e = envp; *e; e++) env = mix(env, *e, strlen(*e));
    // Initialised data, read-only data, zeroed data.
    h = mix(h, data, sizeof data);
    h = mix(h, rodata, sizeof rodata);
    h = mix(h, bss, sizeof bss);
    // The heap.
    char *heap = malloc(10000);
    memset(heap, 'x', 10000);
    h = mix(h, heap, 10000);
    // A file: read into a buffer, and mapped privately.
    int fd = open(argv[0], O_RDONLY);
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    h = mix(h, buf, (size_t)n);
    const unsigned char *file = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    h = mix(h, file + 4096 + 100, 64);
    h = mix(h, file + 2 * 4096, 16);
    close(fd);
    // A shared mapping a child writes while the parent waits.
    volatile unsigned long *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shared[0] = 1;
    h = mix(h, (const void *)shared, 8);
    pid_t child = fork();
    if (child == 0) {
        shared[0] = 0x1122334455667788UL;
        shared[5] = 42;
        _exit(0);
    }
    waitpid(child, NULL, 0);
    h = mix(h, (const void *)&shared[0], 8);
    h = mix(h, (const void *)&shared[5], 8);
    // A private page the kernel zeroes behind the program's back.
    unsigned long *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    anon[3] = 0xabcdef;
    h = mix(h, &anon[3], 8);
    madvise(anon, 4096, MADV_DONTNEED);
    h = mix(h, &anon[3], 8);
    // A memfd mapping, changed through write(2) on its descriptor.
    int mfd = memfd_create("reads", 0);
    ftruncate(mfd, 4096);
    unsigned char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0);
    h = mix(h, m + 8, 8);
    pwrite(mfd, "changed!", 8, 8);
    h = mix(h, m + 8, 8);
    // The clock, through the vDSO (it reads the kernel's [vvar] page).
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("%lx %d %d\n", h, env != 0, ts.tv_sec > 0);
    return 0;
}
