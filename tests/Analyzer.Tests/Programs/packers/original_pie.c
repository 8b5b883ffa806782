/*
 * original_pie.c - the dynamically linked PIE the packer tests pack: libc through ld.so, a loop of
 * calls, output on stdout, exit code 5.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

extern char _start[];

__attribute__((noinline)) static unsigned mix(unsigned h, unsigned v) { return (h ^ v) * 16777619u; }
__attribute__((noinline)) static unsigned step(unsigned h, unsigned i) { return mix(h, i) + mix(i, h >> 3); }

int main(int argc, char **argv)
{
    unsigned h = 2166136261u;
    for (unsigned i = 0; i < ROUNDS; i++) h = step(h, i);
    char *copy = strdup(argc > 1 ? argv[1] : "none");
    printf("original pie: argc=%d arg=%s sum=%x AT_ENTRY %s\n", argc, copy, h,
           getauxval(AT_ENTRY) == (unsigned long)_start ? "is mine" : "is not mine");
    free(copy);
    return 5;
}
