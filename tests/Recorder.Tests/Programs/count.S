# Exact instruction count: 1 + 2 * ITERATIONS + 3 instructions, every one labelled so the test can
# compute the expected rip sequence from the symbol table. Built static, -nostdlib, no PIE.
    .globl _start
    .text
_start:
i0: mov $ITERATIONS, %ecx
i1: dec %ecx
i2: jnz i1
i3: mov $60, %eax
i4: xor %edi, %edi
i5: syscall
