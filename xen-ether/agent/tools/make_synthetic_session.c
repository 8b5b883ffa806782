/*
 * make-synthetic-session: writes a replay session file (src/session_file.h) of a made-up but
 * realistic 32-bit Windows XP SP2 guest, for tests and for the C# end-to-end test.
 *
 *   make-synthetic-session OUT [--loop-bytes N]
 *
 * The guest: page tables (non-PAE, like XP on hardware without NX), a KPCR, two processes
 * (explorer.exe and the traced sample.exe, found through KPCR -> thread -> EPROCESS), ntdll's
 * KiFastSystemCall, and what the patched Xen would report while sample.exe runs:
 *   1. a CR3 write switching to sample.exe;
 *   2. NtAllocateVirtualMemory, NtOpenFile (OBJECT_ATTRIBUTES -> "\??\C:\sample\input.txt"),
 *      a switch to explorer.exe and one call there, a switch back, NtReadFile (fills a buffer
 *      with an XOR-encrypted layer), NtClose (with the kernel and user steps the patch adds
 *      around an emulated sysenter/sysexit) - each a sysenter entry and a sysexit return;
 *   3. a single-step stretch through a decrypt loop whose every store into the allocated page
 *      traps (memory-write events, with the page contents updated after each store);
 *   4. the jump into the decrypted page: an execute violation (write-then-execute), and two
 *      steps inside the new layer.
 * Registers are simulated instruction by instruction, so rip/esi/edi/ecx/eax/eflags agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ether_abi.h"
#include "../src/session_file.h"
#include "synthetic_guest.h"

#define PAGE 4096u

/* Physical frames of the synthetic guest. */
enum {
    GFN_SAMPLE_PD = 0x100, GFN_PT_LOW = 0x101, GFN_PT_IMAGE = 0x102, GFN_PT_NTDLL = 0x103,
    GFN_PT_SHARED = 0x104, GFN_PT_KPCR = 0x105, GFN_PT_KOBJ = 0x106, GFN_PT_KCODE = 0x107,
    GFN_EXPLORER_PD = 0x300, GFN_EXPLORER_PT_LOW = 0x301, GFN_EXPLORER_STACK = 0x302,
    GFN_CODE = 0x401, GFN_NTDLL = 0x404, GFN_STUBS = 0x405, GFN_SHARED = 0x406, GFN_STUBS_LOW = 0x407,
    GFN_KPCR = 0x500, GFN_KOBJ = 0x501, GFN_KCODE = 0x502,
};

#define PTE_P 0x1u
#define PTE_W 0x2u
#define PTE_U 0x4u

#define KPCR_VA 0xFFDFF000u
#define KOBJ_VA 0x81234000u
#define SAMPLE_THREAD 0x81234000u
#define EXPLORER_THREAD 0x81234800u
#define NTDLL_STUBS_VA 0x7C90D000u
#define NTDLL_STUBS_LOW_VA 0x7C90C000u
#define SHARED_USER_DATA 0x7FFE0000u
#define TEB_VA 0x7FFDF000u
#define EXPLORER_STACK_TOP 0x0007F800u

struct page {
    uint32_t gfn;
    uint8_t b[PAGE];
};

static struct page pages[32];
static unsigned npages;
static struct session_writer *out;
static uint32_t loop_bytes = SYN_DEFAULT_LOOP_BYTES;

static uint8_t *page(uint32_t gfn)
{
    for (unsigned i = 0; i < npages; i++)
        if (pages[i].gfn == gfn)
            return pages[i].b;
    pages[npages].gfn = gfn;
    memset(pages[npages].b, 0, PAGE);
    return pages[npages++].b;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
}

static void check(int rc)
{
    if (rc != 0) {
        fprintf(stderr, "make-synthetic-session: writing the session failed\n");
        exit(1);
    }
}

static void emit_page(uint32_t gfn)
{
    check(session_write_page(out, gfn, page(gfn)));
}

static void note(const char *text)
{
    check(session_write_note(out, text));
}

/* Maps va -> gfn in the page directory pd using page table pt (all 4 KiB pages). */
static void map(uint32_t pd, uint32_t pt, uint32_t va, uint32_t gfn, uint32_t flags)
{
    put32(page(pd) + ((va >> 22) & 0x3FF) * 4, (pt << 12) | PTE_P | PTE_W | (flags & PTE_U));
    put32(page(pt) + ((va >> 12) & 0x3FF) * 4, (gfn << 12) | PTE_P | flags);
}

/* ---- the vCPU ------------------------------------------------------------------------------- */

static struct vm_event_regs_x86 regs;

static void user_mode(void)
{
    regs.cs_sel = 0x1b; regs.ss_sel = 0x23; regs.ds_sel = 0x23; regs.es_sel = 0x23;
    regs.fs_sel = 0x3b; regs.gs_sel = 0;
    regs.cs.ar = 0xcfb; regs.ss.ar = 0xcf3; regs.cs.limit = 0xfffff; regs.ss.limit = 0xfffff;
    regs.fs_base = TEB_VA;
}

static void kernel_mode(void)
{
    regs.cs_sel = 0x08; regs.ss_sel = 0x10; regs.ds_sel = 0x23; regs.es_sel = 0x23;
    regs.fs_sel = 0x30; regs.gs_sel = 0;
    regs.cs.ar = 0xc9b; regs.ss.ar = 0xc93; regs.cs.limit = 0xfffff; regs.ss.limit = 0xfffff;
    regs.fs_base = KPCR_VA;
}

static void init_regs(void)
{
    memset(&regs, 0, sizeof regs);
    regs.cr0 = 0x8001003Bu;   /* PG WP NE ET TS MP PE */
    regs.cr4 = 0x000006D9u;   /* PSE, no PAE */
    regs.msr_efer = 0;
    regs.cr3 = SYN_EXPLORER_CR3;
    regs.rflags = 0x202;
    regs.sysenter_cs = 0x08;  /* the guest's own value: the patch keeps it visible */
    regs.sysenter_eip = SYN_KIFASTCALLENTRY;
    regs.sysenter_esp = 0xF8AF1000u;
    regs.dr7 = 0x400;
    regs.gdtr_base = 0x8003F000u; regs.gdtr_limit = 0x3FF;
    regs.vmtrace_pos = ~0ull;
    kernel_mode();
}

static vm_event_request_t request(uint32_t reason)
{
    vm_event_request_t req;
    memset(&req, 0, sizeof req);
    req.version = VM_EVENT_INTERFACE_VERSION;
    req.flags = VM_EVENT_FLAG_VCPU_PAUSED;
    req.reason = reason;
    req.vcpu_id = 0;
    req.data.regs.x86 = regs;
    return req;
}

static void send(const vm_event_request_t *req)
{
    check(session_write_request(out, req));
}

/* ---- the guest's memory ---------------------------------------------------------------------- */

static void build_memory(void)
{
    uint8_t *p;

    /* sample.exe's address space. */
    map(GFN_SAMPLE_PD, GFN_PT_LOW, SYN_STACK_TOP & ~0xFFFu, SYN_GFN_STACK, PTE_W | PTE_U);
    map(GFN_SAMPLE_PD, GFN_PT_IMAGE, SYN_CODE_VA, GFN_CODE, PTE_U);          /* code: not writable */
    map(GFN_SAMPLE_PD, GFN_PT_IMAGE, SYN_DATA_VA, SYN_GFN_DATA, PTE_W | PTE_U);
    map(GFN_SAMPLE_PD, GFN_PT_IMAGE, SYN_LAYER_VA, SYN_GFN_LAYER, PTE_W | PTE_U);
    map(GFN_SAMPLE_PD, GFN_PT_NTDLL, SYN_KIFASTSYSTEMCALL & ~0xFFFu, GFN_NTDLL, PTE_U);
    map(GFN_SAMPLE_PD, GFN_PT_NTDLL, NTDLL_STUBS_VA, GFN_STUBS, PTE_U);
    map(GFN_SAMPLE_PD, GFN_PT_NTDLL, NTDLL_STUBS_LOW_VA, GFN_STUBS_LOW, PTE_U);
    map(GFN_SAMPLE_PD, GFN_PT_SHARED, SHARED_USER_DATA, GFN_SHARED, PTE_U);
    /* The kernel half, shared by every process (supervisor pages). */
    map(GFN_SAMPLE_PD, GFN_PT_KPCR, KPCR_VA, GFN_KPCR, PTE_W);
    map(GFN_SAMPLE_PD, GFN_PT_KOBJ, KOBJ_VA, GFN_KOBJ, PTE_W);
    map(GFN_SAMPLE_PD, GFN_PT_KCODE, SYN_KIFASTCALLENTRY & ~0xFFFu, GFN_KCODE, 0);

    /* explorer.exe: its own stack, the same kernel page tables. */
    map(GFN_EXPLORER_PD, GFN_EXPLORER_PT_LOW, EXPLORER_STACK_TOP & ~0xFFFu, GFN_EXPLORER_STACK,
        PTE_W | PTE_U);
    memcpy(page(GFN_EXPLORER_PD) + 0x204 * 4, page(GFN_SAMPLE_PD) + 0x204 * 4, 4);
    memcpy(page(GFN_EXPLORER_PD) + 0x3FF * 4, page(GFN_SAMPLE_PD) + 0x3FF * 4, 4);
    memcpy(page(GFN_EXPLORER_PD) + 0x201 * 4, page(GFN_SAMPLE_PD) + 0x201 * 4, 4);

    /* ntoskrnl: the start of KiFastCallEntry and KiSystemCallExit2's "sti; sysexit". */
    memcpy(page(GFN_KCODE) + (SYN_KIFASTCALLENTRY & 0xFFF),
           "\xB9\x23\x00\x00\x00\x6A\x30\x0F\xA1\x8E\xD9\x8E\xC1\x8B\x0D", 15);
    memcpy(page(GFN_KCODE) + (SYN_SYSEXIT_RIP & 0xFFF) - 1, "\xFB\x0F\x35", 3);

    /* ntdll: KiFastSystemCall and KiFastSystemCallRet. */
    p = page(GFN_NTDLL) + (SYN_KIFASTSYSTEMCALL & 0xFFF);
    memcpy(p, "\x8B\xD4\x0F\x34", 4);                        /* mov edx, esp; sysenter */
    page(GFN_NTDLL)[SYN_KIFASTSYSTEMCALLRET & 0xFFF] = 0xC3;   /* ret */
    /* SharedUserData->SystemCall, what the Nt stubs call through. */
    put32(page(GFN_SHARED) + 0x300, SYN_KIFASTSYSTEMCALL);

    /* The decrypt loop (see the listing in run_decrypt_loop). */
    static const uint8_t loop[] = {
        0xBE, 0x00, 0x24, 0x40, 0x00,  /* 401000 mov esi, 0x402400 */
        0xBF, 0x00, 0x30, 0x40, 0x00,  /* 401005 mov edi, 0x403000 */
        0xB9, 0, 0, 0, 0,              /* 40100A mov ecx, n        */
        0x8A, 0x06,                    /* 40100F mov al, [esi]     */
        0x34, SYN_XOR_KEY,             /* 401011 xor al, 0x5A      */
        0x88, 0x07,                    /* 401013 mov [edi], al     */
        0x46,                          /* 401015 inc esi           */
        0x47,                          /* 401016 inc edi           */
        0x49,                          /* 401017 dec ecx           */
        0x75, 0xF5,                    /* 401018 jnz 0x40100F      */
        0xB8, 0x00, 0x30, 0x40, 0x00,  /* 40101A mov eax, 0x403000 */
        0xFF, 0xE0,                    /* 40101F jmp eax           */
    };
    memcpy(page(GFN_CODE), loop, sizeof loop);
    put32(page(GFN_CODE) + 0x0B, loop_bytes);

    /* OBJECT_ATTRIBUTES { Length 24, RootDirectory 0, ObjectName, OBJ_CASE_INSENSITIVE, 0, 0 } */
    p = page(SYN_GFN_DATA);
    put32(p + 0x00, 24);
    put32(p + 0x08, SYN_DATA_VA + 0x20);
    put32(p + 0x0C, 0x40);
    /* UNICODE_STRING { Length, MaximumLength, Buffer } and its UTF-16LE text. */
    const char *path = SYN_OPEN_PATH;
    size_t len = strlen(path);
    put16(p + 0x20, (uint16_t)(2 * len));
    put16(p + 0x22, (uint16_t)(2 * len + 2));
    put32(p + 0x24, SYN_DATA_VA + 0x200);
    for (size_t i = 0; i < len; i++)
        put16(p + 0x200 + 2 * i, (uint16_t)(unsigned char)path[i]);

    /* The kernel: KPCR.PrcbData.CurrentThread, two KTHREADs, two EPROCESSes. */
    put32(page(GFN_KPCR) + 0x1C, KPCR_VA);                 /* SelfPcr */
    put32(page(GFN_KPCR) + 0x124, EXPLORER_THREAD);
    p = page(GFN_KOBJ);
    put32(p + (SAMPLE_THREAD - KOBJ_VA) + 0x44, SYN_SAMPLE_EPROCESS);
    put32(p + (EXPLORER_THREAD - KOBJ_VA) + 0x44, SYN_EXPLORER_EPROCESS);
    put32(p + (SYN_SAMPLE_EPROCESS - KOBJ_VA) + 0x18, SYN_SAMPLE_CR3);
    put32(p + (SYN_SAMPLE_EPROCESS - KOBJ_VA) + 0x84, SYN_SAMPLE_PID);
    memcpy(p + (SYN_SAMPLE_EPROCESS - KOBJ_VA) + 0x174, SYN_SAMPLE_NAME, strlen(SYN_SAMPLE_NAME));
    put32(p + (SYN_EXPLORER_EPROCESS - KOBJ_VA) + 0x18, SYN_EXPLORER_CR3);
    put32(p + (SYN_EXPLORER_EPROCESS - KOBJ_VA) + 0x84, SYN_EXPLORER_PID);
    memcpy(p + (SYN_EXPLORER_EPROCESS - KOBJ_VA) + 0x174, SYN_EXPLORER_NAME,
           strlen(SYN_EXPLORER_NAME));

    for (unsigned i = 0; i < npages; i++)
        emit_page(pages[i].gfn);
}

/* ---- what happens ------------------------------------------------------------------------------ */

static void switch_to(uint32_t cr3, uint32_t thread)
{
    /* SwapContext: the new thread is current before CR3 is written. */
    kernel_mode();
    regs.rip = 0x804DB9A2u;
    regs.rsp = 0xF8AF0C80u;
    put32(page(GFN_KPCR) + 0x124, thread);
    emit_page(GFN_KPCR);
    vm_event_request_t req = request(VM_EVENT_REASON_WRITE_CTRLREG);
    req.u.write_ctrlreg.index = VM_EVENT_X86_CR3;
    req.u.write_ctrlreg.old_value = regs.cr3;
    req.u.write_ctrlreg.new_value = cr3;
    send(&req);
    regs.cr3 = cr3;
}

static void step(void)
{
    vm_event_request_t req = request(VM_EVENT_REASON_SINGLESTEP);
    req.u.singlestep.gfn = 0;  /* filled by Xen from RIP; the agent does not use it */
    send(&req);
}

/*
 * One Nt call through ntdll: the stub did "mov eax, n; mov edx, 0x7FFE0300; call [edx]", so at
 * KiFastSystemCall's sysenter the stack holds [return into the stub, return into the caller,
 * arguments...].  stack_top is where the caller's ESP was before pushing the arguments.
 */
static void nt_call(uint32_t number, const uint32_t *args, unsigned nargs, uint32_t status,
                    uint32_t stub, uint32_t caller, uint32_t stack_top, uint32_t stack_gfn,
                    uint32_t stack_va_base, void (*after)(void), int with_steps)
{
    /* The stub itself, "mov eax, n; mov edx, 7FFE0300h; call [edx]; ret 4*nargs", so the agent
     * can read the argument count from its ret. */
    uint32_t stub_gfn = (stub & ~0xFFFu) == NTDLL_STUBS_LOW_VA ? GFN_STUBS_LOW
                      : (stub & ~0xFFFu) == NTDLL_STUBS_VA     ? GFN_STUBS
                                                               : GFN_NTDLL;
    uint8_t *code = page(stub_gfn) + (stub & 0xFFFu);
    code[0] = 0xB8;
    put32(code + 1, number);
    code[5] = 0xBA;
    put32(code + 6, SHARED_USER_DATA + 0x300);
    code[10] = 0xFF;
    code[11] = 0x12;
    if (nargs == 0) {
        code[12] = 0xC3;
    } else {
        code[12] = 0xC2;
        code[13] = (uint8_t)(4 * nargs);
        code[14] = (uint8_t)((4 * nargs) >> 8);
    }
    emit_page(stub_gfn);

    uint32_t esp = stack_top - 4 * nargs - 8;
    uint8_t *stack = page(stack_gfn);
    put32(stack + (esp - stack_va_base), stub + 12);      /* return into the stub after call [edx] */
    put32(stack + (esp + 4 - stack_va_base), caller);     /* return into the caller */
    for (unsigned i = 0; i < nargs; i++)
        put32(stack + (esp + 8 + 4 * i - stack_va_base), args[i]);
    emit_page(stack_gfn);

    user_mode();
    regs.rip = SYN_SYSENTER_RIP;
    regs.rsp = esp;
    regs.rdx = esp;
    regs.rax = number;
    regs.rflags = 0x246;
    vm_event_request_t req = request(ETHER_VM_EVENT_REASON_SYSCALL);
    struct ether_syscall_payload *p = ether_payload(&req);
    p->number = number;
    p->insn_address = SYN_SYSENTER_RIP;
    p->insn_length = 2;
    p->kind = ETHER_KIND_SYSENTER;
    p->cpl = 3;
    send(&req);

    if (with_steps) {
        /* The patch's extra step after an emulated sysenter: the first kernel instruction. */
        kernel_mode();
        regs.rip = SYN_KIFASTCALLENTRY;
        regs.rsp = (uint32_t)regs.sysenter_esp;
        step();
    }

    if (after)
        after();  /* what the call did to memory */

    /* KiSystemCallExit2: edx = return EIP, ecx = user ESP, sysexit. */
    user_mode();
    regs.rip = SYN_KIFASTSYSTEMCALLRET;
    regs.rsp = esp;
    regs.rcx = esp;
    regs.rdx = SYN_KIFASTSYSTEMCALLRET;
    regs.rax = status;
    req = request(ETHER_VM_EVENT_REASON_SYSCALL);
    p = ether_payload(&req);
    p->number = status;
    p->insn_address = SYN_SYSEXIT_RIP;
    p->insn_length = 2;
    p->kind = ETHER_KIND_SYSEXIT;
    p->cpl = 0;
    send(&req);

    if (with_steps)
        step();  /* the patch's extra step after the emulated sysexit: at KiFastSystemCallRet */
}

static void after_allocate(void)
{
    /* *BaseAddress and *RegionSize (the caller's locals) are written back by the kernel. */
    put32(page(SYN_GFN_STACK) + 0x900, SYN_LAYER_VA);
    put32(page(SYN_GFN_STACK) + 0x904, PAGE);
    emit_page(SYN_GFN_STACK);
}

static void after_open(void)
{
    put32(page(SYN_GFN_DATA) + 0x100, SYN_FILE_HANDLE);   /* *FileHandle */
    put32(page(SYN_GFN_DATA) + 0x40, 0);                  /* IoStatusBlock.Status */
    put32(page(SYN_GFN_DATA) + 0x44, 1);                  /* .Information = FILE_OPENED */
    emit_page(SYN_GFN_DATA);
}

static void after_read(void)
{
    static const uint8_t code[] = SYN_LAYER_CODE;
    uint8_t *buf = page(SYN_GFN_DATA) + (SYN_READ_BUFFER_VA - SYN_DATA_VA);
    for (uint32_t i = 0; i < loop_bytes; i++)
        buf[i] = (uint8_t)((i < sizeof code ? code[i] : 0x90) ^ SYN_XOR_KEY);
    put32(page(SYN_GFN_DATA) + 0x44, loop_bytes);         /* bytes read */
    emit_page(SYN_GFN_DATA);
}

static void set_zf(uint32_t result)
{
    regs.rflags = (regs.rflags & ~0x40ull) | (result == 0 ? 0x40 : 0);
}

static void run_decrypt_loop(void)
{
    uint8_t *data = page(SYN_GFN_DATA), *layer = page(SYN_GFN_LAYER);
    user_mode();
    regs.rflags = 0x246;

#define AT(x) (regs.rip = (x), step())
    AT(0x401000); regs.rsi = SYN_READ_BUFFER_VA;
    AT(0x401005); regs.rdi = SYN_LAYER_VA;
    AT(0x40100A); regs.rcx = loop_bytes;
    for (uint32_t i = 0; i < loop_bytes; i++) {
        AT(0x40100F);
        regs.rax = (regs.rax & ~0xFFull) | data[(uint32_t)regs.rsi - SYN_DATA_VA];
        AT(0x401011);
        regs.rax ^= SYN_XOR_KEY;
        set_zf((uint32_t)regs.rax & 0xFF);
        AT(0x401013);
        /* The store hits a trapped page: EPT write violation before it happens. */
        vm_event_request_t req = request(VM_EVENT_REASON_MEM_ACCESS);
        req.u.mem_access.gfn = SYN_GFN_LAYER;
        req.u.mem_access.gla = regs.rdi;
        req.u.mem_access.offset = regs.rdi & 0xFFF;
        req.u.mem_access.flags = MEM_ACCESS_R | MEM_ACCESS_W | MEM_ACCESS_GLA_VALID |
                                 MEM_ACCESS_FAULT_WITH_GLA;
        send(&req);
        layer[(uint32_t)regs.rdi - SYN_LAYER_VA] = (uint8_t)regs.rax;
        emit_page(SYN_GFN_LAYER);
        AT(0x401015); regs.rsi++;
        AT(0x401016); regs.rdi++;
        AT(0x401017); regs.rcx--; set_zf((uint32_t)regs.rcx);
        AT(0x401018);
    }
    AT(0x40101A); regs.rax = SYN_LAYER_VA;
    AT(0x40101F);
    AT(SYN_LAYER_VA);
    /* Fetching from the written page: EPT execute violation (write-then-execute). */
    vm_event_request_t req = request(VM_EVENT_REASON_MEM_ACCESS);
    req.u.mem_access.gfn = SYN_GFN_LAYER;
    req.u.mem_access.gla = SYN_LAYER_VA;
    req.u.mem_access.offset = 0;
    req.u.mem_access.flags = MEM_ACCESS_X | MEM_ACCESS_GLA_VALID | MEM_ACCESS_FAULT_WITH_GLA;
    send(&req);
    regs.rax = 42;
    AT(SYN_LAYER_VA + 5);
#undef AT
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--loop-bytes") == 0 && i + 1 < argc) {
            char *end;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (*end || n < 8 || n > 0x200) {
                fprintf(stderr, "make-synthetic-session: --loop-bytes is 8..512\n");
                return 2;
            }
            loop_bytes = (uint32_t)n;
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            fprintf(stderr, "usage: make-synthetic-session OUT [--loop-bytes N]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: make-synthetic-session OUT [--loop-bytes N]\n");
        return 2;
    }

    struct session_info info = {
        .domain = SYN_DOMAIN, .vcpus = SYN_VCPUS, .word_size = 4,
        .capabilities = (1u << 2) | (1u << 0) | (1u << ETHER_MONITOR_EVENT_SYSCALL),
    };
    snprintf(info.hypervisor, sizeof info.hypervisor, "xen 4.17 (synthetic)");
    snprintf(info.guest_os, sizeof info.guest_os, "winxp-sp2");
    char err[256];
    out = session_writer_open(path, &info, err, sizeof err);
    if (!out) {
        fprintf(stderr, "make-synthetic-session: %s\n", err);
        return 1;
    }
    note("synthetic Windows XP SP2 guest: sample.exe decrypts a layer and runs it");
    init_regs();
    build_memory();

    note("1. scheduler switches to sample.exe");
    switch_to(SYN_SAMPLE_CR3, SAMPLE_THREAD);

    note("2. system calls");
    uint32_t top = SYN_STACK_TOP, stack_base = SYN_STACK_TOP & ~0xFFFu;
    const uint32_t alloc_args[] = { 0xFFFFFFFFu, stack_base + 0x900, 0, stack_base + 0x904,
                                    0x3000, 0x40 };
    nt_call(SYN_NR_NtAllocateVirtualMemory, alloc_args, 6, 0, 0x7C90CF3Eu, 0x00401200u, top,
            SYN_GFN_STACK, stack_base, after_allocate, 0);
    const uint32_t open_args[] = { SYN_DATA_VA + 0x100, 0x80100000u, SYN_OBJECT_ATTRIBUTES_VA,
                                   SYN_DATA_VA + 0x40, 1, 0x60 };
    nt_call(SYN_NR_NtOpenFile, open_args, 6, 0, 0x7C90DCD0u, 0x00401220u, top, SYN_GFN_STACK,
            stack_base, after_open, 0);

    note("explorer.exe runs for a while (outside the filter)");
    switch_to(SYN_EXPLORER_CR3, EXPLORER_THREAD);
    const uint32_t close_args[] = { 0x44 };
    nt_call(SYN_NR_NtClose, close_args, 1, 0, 0x7C90CFD0u, 0x01001500u, EXPLORER_STACK_TOP,
            GFN_EXPLORER_STACK, EXPLORER_STACK_TOP & ~0xFFFu, NULL, 0);
    switch_to(SYN_SAMPLE_CR3, SAMPLE_THREAD);

    const uint32_t read_args[] = { SYN_FILE_HANDLE, 0, 0, 0, SYN_DATA_VA + 0x40,
                                   SYN_READ_BUFFER_VA, 0x200, 0, 0 };
    nt_call(SYN_NR_NtReadFile, read_args, 9, 0, 0x7C90E27Cu, 0x00401240u, top, SYN_GFN_STACK,
            stack_base, after_read, 0);
    const uint32_t close2_args[] = { SYN_FILE_HANDLE };
    nt_call(SYN_NR_NtClose, close2_args, 1, 0, 0x7C90CFD0u, 0x00401260u, top, SYN_GFN_STACK,
            stack_base, NULL, 1);

    note("3. the decrypt loop, single-stepped; every store into the new page traps");
    run_decrypt_loop();
    note("4. done");

    if (session_writer_close(out) != 0) {
        fprintf(stderr, "make-synthetic-session: writing %s failed\n", path);
        return 1;
    }
    return 0;
}
