/*
 * packed-hello.c - the demo sample that ./setup.sh builds, records and analyses.
 *
 * A harmless program shaped like packed malware: it reads a file, maps fresh read-write-execute
 * memory, XOR-decrypts a piece of machine code into it (the "unpacking"), runs it, and reports.
 * Recorded with `ether record`, it shows every instruction and system call, the memory the
 * decryption loop wrote, and one unpacking layer (layer 1, entered at the mapping's start).
 *
 * Build: gcc -static -O1 -o packed-hello packed-hello.c
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KEY 0x5a
#define X(b) ((unsigned char)((b) ^ KEY))

/* The hidden layer, encrypted at compile time. Called as layer(msg, len):
 *   89 f2            mov  edx, esi      ; len
 *   48 89 fe         mov  rsi, rdi      ; msg
 *   bf 01 00 00 00   mov  edi, 1        ; stdout
 *   b8 01 00 00 00   mov  eax, 1        ; SYS_write
 *   0f 05            syscall
 *   c3               ret                                                    */
static const unsigned char encrypted_layer[] = {
    X(0x89), X(0xf2), X(0x48), X(0x89), X(0xfe), X(0xbf), X(0x01), X(0x00), X(0x00), X(0x00),
    X(0xb8), X(0x01), X(0x00), X(0x00), X(0x00), X(0x0f), X(0x05), X(0xc3),
};

int main(void)
{
    char host[64] = "unknown";
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, host, sizeof host - 1);
        host[n > 0 ? n : 0] = '\0';
        host[strcspn(host, "\n")] = '\0';
        close(fd);
    }

    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED)
        return 1;
    for (size_t i = 0; i < sizeof encrypted_layer; i++) /* the unpacking loop */
        code[i] = encrypted_layer[i] ^ KEY;

    static const char message[] = "hello from the unpacked layer\n";
    ((void (*)(const char *, size_t))code)(message, sizeof message - 1);

    printf("packed-hello: ran %zu decrypted bytes at %p on host %s\n", sizeof encrypted_layer, (void *)code, host);
    return 0;
}
