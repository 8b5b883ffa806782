/* Changes its memory map through the i386 system-call gate (int 0x80 from 64-bit code, as a
 * 32-bit caller would): pkey_mprotect (380), shmat (397) and shmdt (398). The recorder must see
 * each of these map changes when the call returns. Prints the three results. */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

static long int80(long nr, long a, long b, long c, long d)
{
    long ret;
    /* The kernel clears r8-r11 on a compat entry from 64-bit code. */
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

int main(void)
{
    /* Below 4 GiB, so that the 32-bit gate can name it. */
    char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (page == MAP_FAILED)
        return 2;
    page[0] = 1;
    long protected_ = int80(380, (long)page, 4096, PROT_READ, -1); /* pkey_mprotect(page, 4096, PROT_READ, -1) */
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id < 0)
        return 3;
    long attached = int80(397, id, 0, 0, 0);                       /* shmat(id, NULL, 0) */
    long detached = int80(398, attached, 0, 0, 0);                 /* shmdt(attached) */
    shmctl(id, IPC_RMID, NULL);
    printf("%ld %d %ld\n", protected_, attached > 0 && attached < 0x100000000L, detached);
    return 0;
}
