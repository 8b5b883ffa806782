/* A two-layer "packer": decrypts code into a fresh RWX mapping and calls it, then decrypts a
 * different payload over the same bytes and calls it again. The recorder must show the bytes that
 * actually ran each time (not the first ones it cached) and take an unpack snapshot at the first
 * executed step of each layer. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KEY 0x5a
/* mov $42, %eax; ret   and   mov $7, %eax; add $35, %eax; ret  — both XOR KEY */
static const unsigned char layer1[] = { 0xb8 ^ KEY, 42 ^ KEY, 0 ^ KEY, 0 ^ KEY, 0 ^ KEY, 0xc3 ^ KEY };
static const unsigned char layer2[] = { 0xb8 ^ KEY, 7 ^ KEY, 0 ^ KEY, 0 ^ KEY, 0 ^ KEY, 0x83 ^ KEY, 0xc0 ^ KEY, 35 ^ KEY, 0xc3 ^ KEY };

static void decrypt(volatile unsigned char *to, const unsigned char *from, int n)
{
    for (int i = 0; i < n; i++) to[i] = from[i] ^ KEY;
}

int main(void)
{
    unsigned char *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) return 2;
    decrypt(code, layer1, sizeof layer1);
    int a = ((int (*)(void))code)();
    decrypt(code, layer2, sizeof layer2);
    int b = ((int (*)(void))code)();
    return a == 42 && b == 42 ? 0 : 1;
}
