.globl _start
.text
_start:
  nop
  mov $39, %eax
  syscall
  nop
  mov $39, %eax
  syscall
  nop
  lea buf(%rip), %rdi
  mov $5, %ecx
  mov $0x41, %al
  rep stosb
  nop
  mov $20, %eax
  int $0x80
  nop
  mov $60, %eax
  xor %edi, %edi
  syscall
.bss
buf: .skip 64
