/* A dynamically linked program making a spread of system calls (files in the working directory,
 * a failing open, pipes, dup, memory mappings, a short sleep) for the strace comparison. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    char buf[64];
    int fd = open("note.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, "hello, recorder\n", 16);
    close(fd);
    fd = open("note.txt", O_RDONLY);
    long n = read(fd, buf, sizeof buf);
    lseek(fd, 7, SEEK_SET);
    n += read(fd, buf, 4);
    struct stat st;
    fstat(fd, &st);
    close(fd);
    if (open("does-not-exist", O_RDONLY) >= 0) return 9;
    int p[2];
    pipe(p);
    write(p[1], buf, 3);
    read(p[0], buf, 3);
    int d = dup(p[0]);
    close(d);
    close(p[0]);
    close(p[1]);
    void *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(m, 1, 8192);
    mprotect(m, 4096, PROT_READ);
    munmap(m, 8192);
    struct utsname u;
    uname(&u);
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, 0);
    unlink("note.txt");
    getpid();
    return n == 20 ? 3 : 4;
}
