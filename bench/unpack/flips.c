/*
 * flips.c - `bench unpack`'s fault-rate probe: writes a 'ret' into each of PAGES fresh RWX pages
 * and calls each one, ROUNDS times (every call after a rewrite is a new unpacking moment). Under
 * --mode unpack every page costs a write fault and an execute fault per round: faults/s and page
 * flips/s of the recorder's W^X machinery.
 */
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
    unsigned char *p = mmap(0, PAGES * 4096UL, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    long calls = 0;
    for (int round = 0; round < ROUNDS; round++)
        for (long i = 0; i < PAGES; i++) {
            p[i * 4096] = 0xc3; /* ret */
            ((void (*)(void))(p + i * 4096))();
            calls++;
        }
    printf("%ld calls\n", calls);
    return 0;
}
