# A static, libc-free loop whose instruction count is known by construction:
# 1 (mov) + 2 * N (dec, jnz) + 3 (mov, xor, syscall). N comes from -DITERATIONS=... at build time.
#ifndef ITERATIONS
#define ITERATIONS 5000000
#endif
    .globl _start
    .text
_start:
    mov $ITERATIONS, %ecx
1:  dec %ecx
    jnz 1b
    mov $60, %eax
    xor %edi, %edi
    syscall
