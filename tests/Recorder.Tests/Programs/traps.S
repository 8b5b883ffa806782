# Exact instruction count with the instructions the recorder must handle specially: pushf/popf
# round trips (the trap-flag account and its repair), rdtsc/rdtscp (answered from the virtual
# clock, not stepped) and a system call. 1 + 11 * ITERATIONS + 3 instructions, every one labelled.
    .globl _start
    .text
_start:
t0: mov $ITERATIONS, %ebx
t1: pushfq
t2: popfq
t3: rdtsc
t4: rdtscp
t5: pushfw
t6: popfw
t7: mov $39, %eax
t8: syscall
t9: nop
t10: dec %ebx
t11: jnz t1
t12: mov $60, %eax
t13: xor %edi, %edi
t14: syscall
