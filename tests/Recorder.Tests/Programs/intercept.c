// A target for the interception tests (InterceptionTests.cs): each part prints what the program
// saw, so a test can tell whether an interceptor changed it. Natively nothing is changed (and the
// "rdtsc" part dies of SIGSEGV, as PR_SET_TSC asks).
//   calls   getppid, unlink (a call with an effect), uname, and a raw write whose rdx it checks after
//   remote  a marker call (sched_yield with the page's address) after which it reports its page's
//           protection and its TSC mode: an interceptor changes both from outside
//   rdtsc   PR_SET_TSC(PR_TSC_SIGSEGV), then rdtsc
//   fault   makes its page read-only, then writes to it
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static char page[4096] __attribute__((aligned(4096)));

// The protection of the mapping holding addr, from /proc/self/maps ("rw-p", "r--p", ...).
static void protection_of(const void *addr, char out[5])
{
    strcpy(out, "????");
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return;
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3 && (unsigned long)addr >= start && (unsigned long)addr < end) {
            strcpy(out, perms);
            break;
        }
    }
    fclose(maps);
}

static int calls(void)
{
    printf("ppid=%d\n", (int)getppid());

    int fd = open("marker", O_CREAT | O_WRONLY, 0644);
    close(fd);
    int r = unlink("marker");
    printf("unlink=%d exists=%d\n", r, access("marker", F_OK) == 0);

    struct utsname u;
    uname(&u);
    printf("nodename=%s\n", u.nodename);

    // write(1, "abcdef\n", 7) by hand, to see rdx after the call.
    static const char text[] = "abcdef\n";
    long ret;
    register long rdx __asm__("rdx") = 7;
    __asm__ volatile("syscall" : "=a"(ret), "+r"(rdx) : "a"(1L), "D"(1L), "S"(text) : "rcx", "r11", "memory");
    printf("\nwrite=%ld rdx=%ld\n", ret, rdx);
    return 0;
}

static int remote(void)
{
    page[0] = 1;
    long callee_saved = (long)getpid() * 3;
    syscall(SYS_sched_yield, page); // the marker: an interceptor acts at its exit
    char perms[5];
    protection_of(page, perms);
    int tsc = -1;
    prctl(PR_GET_TSC, &tsc, 0, 0, 0);
    printf("page=%s tsc=%d\n", perms, tsc);
    printf("after=%s\n", callee_saved == (long)getpid() * 3 ? "ok" : "broken");
    return 0;
}

static int rdtsc(void)
{
    prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    printf("tsc=%#llx\n", ((unsigned long long)hi << 32) | lo);
    return 0;
}

static int fault(void)
{
    page[0] = 1;
    mprotect(page, sizeof page, PROT_READ);
    *(volatile char *)page = 42;
    printf("page=%d\n", page[0]);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *part = argc > 1 ? argv[1] : "";
    if (!strcmp(part, "calls")) return calls();
    if (!strcmp(part, "remote")) return remote();
    if (!strcmp(part, "rdtsc")) return rdtsc();
    if (!strcmp(part, "fault")) return fault();
    fprintf(stderr, "usage: intercept calls|remote|rdtsc|fault\n");
    return 2;
}
