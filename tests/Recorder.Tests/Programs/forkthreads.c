/* Multi-process, multi-thread attribution: the parent forks; the child runs two threads, each in
 * its own function, each asking the kernel who it is (gettid, getpid) and writing its own marker.
 * The test checks every instruction inside worker_a / worker_b and every system call against the
 * thread the kernel says made it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) void *worker_a(void *arg)
{
    long tid = syscall(SYS_gettid);
    long pid = syscall(SYS_getpid);
    syscall(SYS_write, 1, "A", 1);
    return (void *)(tid + pid);
}

__attribute__((noinline)) void *worker_b(void *arg)
{
    long tid = syscall(SYS_gettid);
    long pid = syscall(SYS_getpid);
    syscall(SYS_write, 1, "B", 1);
    return (void *)(tid + pid);
}

int main(void)
{
    pid_t child = fork();
    if (child == 0) {
        pthread_t a, b;
        pthread_create(&a, 0, worker_a, 0);
        pthread_create(&b, 0, worker_b, 0);
        pthread_join(a, 0);
        pthread_join(b, 0);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    syscall(SYS_write, 1, "P", 1);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
