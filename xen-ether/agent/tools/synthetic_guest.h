/*
 * synthetic_guest.h: the facts of the synthetic Windows XP SP2 session that make-synthetic-session
 * writes.  The tests check the agent's frames against these constants, which are true by
 * construction of the session (not taken from the agent's output).
 */
#ifndef ETHER_SYNTHETIC_GUEST_H
#define ETHER_SYNTHETIC_GUEST_H

#include <stdint.h>

#define SYN_DOMAIN 7
#define SYN_VCPUS 1

/* Address spaces (non-PAE page directories; CR3 = page-directory address). */
#define SYN_SAMPLE_CR3 0x00100000u
#define SYN_EXPLORER_CR3 0x00300000u
#define SYN_SAMPLE_PID 1234u
#define SYN_EXPLORER_PID 1500u
#define SYN_SAMPLE_NAME "sample.exe"
#define SYN_EXPLORER_NAME "explorer.exe"
#define SYN_SAMPLE_EPROCESS 0x81234200u
#define SYN_EXPLORER_EPROCESS 0x81234A00u

/* Windows XP SP2 x86 system-call numbers (x86_nt_winxp_sp2.csv). */
#define SYN_NR_NtAllocateVirtualMemory 0x11u
#define SYN_NR_NtClose 0x19u
#define SYN_NR_NtOpenFile 0x74u
#define SYN_NR_NtReadFile 0xb7u

/* ntdll (XP SP2): KiFastSystemCall = "mov edx, esp; sysenter", KiFastSystemCallRet = "ret". */
#define SYN_KIFASTSYSTEMCALL 0x7C90EB8Bu
#define SYN_SYSENTER_RIP 0x7C90EB8Du
#define SYN_KIFASTSYSTEMCALLRET 0x7C90EB94u
#define SYN_SYSEXIT_RIP 0x8053CB5Du   /* KiSystemCallExit2's sysexit (kernel) */
#define SYN_KIFASTCALLENTRY 0x8053CAD0u

/* The sample's user memory. */
#define SYN_STACK_TOP 0x0012F800u       /* ESP at each sysenter lies below this */
#define SYN_CODE_VA 0x00401000u
#define SYN_DATA_VA 0x00402000u
#define SYN_LAYER_VA 0x00403000u        /* allocated, written by the decrypt loop, then executed */
#define SYN_OBJECT_ATTRIBUTES_VA 0x00402000u
#define SYN_READ_BUFFER_VA 0x00402400u
#define SYN_FILE_HANDLE 0x7C8u
#define SYN_OPEN_PATH "\\??\\C:\\sample\\input.txt"

/* Guest frames of the pages the walk must protect (the sample's writable user pages). */
#define SYN_GFN_STACK 0x400u
#define SYN_GFN_DATA 0x402u
#define SYN_GFN_LAYER 0x403u
#define SYN_WRITABLE_USER_PAGES 3

/* The decrypted layer: mov eax, 42; ret; nop; nop.  Stored XOR 0x5A in the read buffer. */
#define SYN_LAYER_CODE { 0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3, 0x90, 0x90 }
#define SYN_XOR_KEY 0x5A

/* The decrypt loop at SYN_CODE_VA (see make_synthetic_session.c for the listing). */
#define SYN_LOOP_WRITE_RIP 0x00401013u  /* mov [edi], al */
#define SYN_DEFAULT_LOOP_BYTES 8
/* Steps in the stretch for n loop bytes: 3 set-up, 7 per byte, mov eax + jmp eax, then the
 * layer's first two instructions (at 0x403000 and 0x403005). */
#define SYN_STEPS(n) (3u + 7u * (n) + 2u + 2u)
/* Steps in the sysenter/sysexit of NtClose (one in the kernel, one back in user mode). */
#define SYN_SYSCALL_STEPS 2u
#define SYN_SYSCALLS 4u                 /* by the sample (explorer makes one more) */

#endif
