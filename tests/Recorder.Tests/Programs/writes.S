# Memory writes of known values to known places: stack (push, call, mov), globals of every width,
# the heap (brk), rep stosb, SSE stores. Static, -nostdlib, no PIE. The expected list is in
# MemoryWriteTests.cs, in the order the writes happen.
    .globl _start
    .text
_start:
    # -- stack
    pushq $0x11223344                       # 8 bytes at rsp0-8: 0x0000000011223344
    movabs $0x0102030405060708, %rax
    mov %rax, (%rsp)                        # 8 bytes at rsp0-8
    call leaf                               # return address (after_call) at rsp0-16
after_call:
    # -- globals
    movl $0xdeadbeef, g32(%rip)
    movw $0x1234, g16(%rip)
    movb $0x7f, g8(%rip)
    mov %rax, g64(%rip)
    # -- heap: brk(0), brk(+4096), then two stores at the old break
    mov $12, %eax
    xor %edi, %edi
    syscall
    mov %rax, %rbx
    lea 4096(%rax), %rdi
    mov $12, %eax
    syscall
    movq $-2, (%rbx)                        # 8 bytes ff..fe
    movl $0xcafef00d, 100(%rbx)
    # -- rep stosb: 37 bytes of 0xab into buf, one element per step
    lea buf(%rip), %rdi
    mov $0xab, %al
    mov $37, %ecx
    rep stosb
    # -- SSE stores
    movdqa pattern(%rip), %xmm0
    movups %xmm0, sse(%rip)                 # 16 bytes unaligned store (sse is 16-aligned anyway)
    movdqa %xmm0, sse+16(%rip)              # 16 bytes aligned
    movq %xmm0, sse+32(%rip)                # 8 bytes
    movss %xmm0, sse+40(%rip)               # 4 bytes
    # -- exit(0)
    mov $60, %eax
    xor %edi, %edi
    syscall

leaf:
    ret

    .data
    .balign 16
pattern: .byte 0x10,0x21,0x32,0x43,0x54,0x65,0x76,0x87,0x98,0xa9,0xba,0xcb,0xdc,0xed,0xfe,0x0f
g64: .quad 0
g32: .long 0
g16: .short 0
g8:  .byte 0
    .bss
    .balign 16
sse: .skip 48
buf: .skip 64
