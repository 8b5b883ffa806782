/*
 * Translation of each event kind into frames, and the tracer's decisions (filter, single-step
 * toggles, page access), over a FakeBackend holding a small 32-bit XP guest (and a 64-bit one).
 */
#include <stdlib.h>

#include "check.h"
#include "ether_abi.h"
#include "fake_guest.h"
#include "frame_reader.h"
#include "sink.h"
#include "syscall_table.h"
#include "tracer.h"

#define P 1u
#define W 2u
#define U 4u

#define PD 0x10000u
#define OTHER_PD 0x50000u
#define GFN_STACK 0x20u
#define GFN_DATA 0x21u
#define GFN_CODE 0x23u
#define GFN_LAYER 0x24u
#define GFN_KPCR 0x30u
#define GFN_KOBJ 0x31u
#define KPCR 0xFFDFF000u
#define THREAD 0x81000000u
#define OTHER_THREAD 0x81000400u
#define EPROC 0x81000100u
#define OTHER_EPROC 0x81000500u
#define ESP 0x0012F700u

static struct fake_backend f;
static struct sink out;
static struct frame_list frames;
static size_t consumed;   /* frames already looked at */

static void map32(uint32_t pd, uint32_t va, uint32_t gfn, uint32_t flags)
{
    uint32_t pt = pd + 0x1000 * (1 + ((va >> 22) & 7));  /* a page table per 4 MiB slot used */
    fake_put32(&f, pd + ((va >> 22) & 0x3FF) * 4, pt | P | W | U);
    fake_put32(&f, pt + ((va >> 12) & 0x3FF) * 4, (gfn << 12) | P | flags);
}

static void put_utf16(uint64_t gpa, const char *s)
{
    for (size_t i = 0; s[i]; i++) {
        uint8_t *p = fake_page(&f, (gpa + 2 * i) >> 12) + ((gpa + 2 * i) & 0xFFF);
        p[0] = (uint8_t)s[i];
        p[1] = 0;
    }
}

static void build_xp_guest(void)
{
    fake_init(&f, 4, 1u << ETHER_MONITOR_EVENT_SYSCALL);
    map32(PD, 0x0012F000, GFN_STACK, W | U);
    map32(PD, 0x00402000, GFN_DATA, W | U);
    map32(PD, 0x00403000, GFN_LAYER, W | U);
    map32(PD, 0x00405000, GFN_CODE, U);
    map32(PD, KPCR, GFN_KPCR, W);
    map32(PD, THREAD, GFN_KOBJ, W);
    /* The other process: its own (empty) user half, the same kernel. */
    map32(OTHER_PD, KPCR, GFN_KPCR, W);
    map32(OTHER_PD, THREAD, GFN_KOBJ, W);
    /* KPCR -> thread -> process -> DTB / pid / name */
    fake_put32(&f, (GFN_KPCR << 12) + 0x124, THREAD);
    fake_put32(&f, (GFN_KOBJ << 12) + 0x044, EPROC);
    fake_put32(&f, (GFN_KOBJ << 12) + 0x118, PD);
    fake_put32(&f, (GFN_KOBJ << 12) + 0x184, 1234);
    memcpy(fake_page(&f, GFN_KOBJ) + 0x100 + 0x174, "SAMPLE.EXE", 10);
    fake_put32(&f, (GFN_KOBJ << 12) + 0x444, OTHER_EPROC);
    fake_put32(&f, (GFN_KOBJ << 12) + 0x518, OTHER_PD);
    fake_put32(&f, (GFN_KOBJ << 12) + 0x584, 99);
    memcpy(fake_page(&f, GFN_KOBJ) + 0x500 + 0x174, "other.exe", 9);
    /* NtOpenFile's OBJECT_ATTRIBUTES at 0x402000 -> UNICODE_STRING at 0x402020 -> text */
    fake_put32(&f, (GFN_DATA << 12) + 0x00, 24);
    fake_put32(&f, (GFN_DATA << 12) + 0x08, 0x402020);
    fake_put32(&f, (GFN_DATA << 12) + 0x20, (26u << 16) | 24u);  /* Length 24, Maximum 26 */
    fake_put32(&f, (GFN_DATA << 12) + 0x24, 0x402100);
    put_utf16((GFN_DATA << 12) + 0x100, "\\??\\C:\\x.txt");
    /* The user stack at the sysenter: two return addresses, then six arguments. */
    const uint32_t stack[] = { 0x7C90DCDC, 0x00401234, 0x402200, 0x80100000, 0x402000, 0x402040, 1, 0x60 };
    for (unsigned i = 0; i < 8; i++)
        fake_put32(&f, (GFN_STACK << 12) + (ESP & 0xFFF) + 4 * i, stack[i]);
    /* Code at the end of its page; the next page is not mapped. */
    memcpy(fake_page(&f, GFN_CODE) + 0xFFA, "\x88\x07\x46\x47\x49\x75", 6);
}

static struct vm_event_regs_x86 user_regs(uint32_t cr3)
{
    struct vm_event_regs_x86 r;
    memset(&r, 0, sizeof r);
    r.cr0 = 0x8001003B;
    r.cr4 = 0x6D9;
    r.cr3 = cr3;
    r.cs_sel = 0x1b;
    r.cs.ar = 0xcfb;
    r.ss_sel = 0x23;
    r.fs_sel = 0x3b;
    r.fs_base = 0x7FFDF000;
    r.rflags = 0x246;
    return r;
}

static struct vm_event_regs_x86 kernel_regs(uint32_t cr3)
{
    struct vm_event_regs_x86 r = user_regs(cr3);
    r.cs_sel = 0x08;
    r.cs.ar = 0xc9b;
    r.fs_sel = 0x30;
    r.fs_base = KPCR;
    r.rip = 0x804DB9A2;
    return r;
}

static vm_event_request_t req_of(uint32_t reason, struct vm_event_regs_x86 r)
{
    vm_event_request_t q;
    memset(&q, 0, sizeof q);
    q.version = VM_EVENT_INTERFACE_VERSION;
    q.flags = VM_EVENT_FLAG_VCPU_PAUSED;
    q.reason = reason;
    q.data.regs.x86 = r;
    return q;
}

/* Handles a request and returns how many new frames it produced (decoding everything so far). */
static size_t handle(struct tracer *t, const vm_event_request_t *q)
{
    CHECK(tracer_handle(t, q) == 0);
    frames_free(&frames);
    char err[256];
    CHECK(frames_decode(out.mem, out.mem_len, &frames, err, sizeof err) == 0);
    size_t fresh = frames.count - consumed;
    return fresh;
}

static const msgpack_object *next_frame(const char *type)
{
    if (consumed >= frames.count) {
        CHECK(!"a frame was expected");
        return NULL;
    }
    const struct decoded_frame *d = &frames.frames[consumed++];
    CHECK_STR(d->type, type);
    return d->map;
}

static uint64_t seq_of_last(void)
{
    return frames.frames[consumed - 1].seq;
}

static vm_event_request_t cr3_write(uint32_t from, uint32_t to, uint32_t thread)
{
    fake_put32(&f, (GFN_KPCR << 12) + 0x124, thread);
    vm_event_request_t q = req_of(VM_EVENT_REASON_WRITE_CTRLREG, kernel_regs(from));
    q.u.write_ctrlreg.index = VM_EVENT_X86_CR3;
    q.u.write_ctrlreg.old_value = from;
    q.u.write_ctrlreg.new_value = to;
    return q;
}

static vm_event_request_t sysenter(uint32_t cr3, uint32_t number)
{
    struct vm_event_regs_x86 r = user_regs(cr3);
    r.rip = 0x7C90EB8D;
    r.rsp = r.rdx = ESP;
    r.rax = number;
    vm_event_request_t q = req_of(ETHER_VM_EVENT_REASON_SYSCALL, r);
    struct ether_syscall_payload *p = ether_payload(&q);
    p->number = number;
    p->kind = ETHER_KIND_SYSENTER;
    p->insn_address = r.rip;
    p->insn_length = 2;
    p->cpl = 3;
    return q;
}

static vm_event_request_t sysexit(uint32_t cr3, uint32_t esp, uint64_t rax)
{
    struct vm_event_regs_x86 r = user_regs(cr3);
    r.rip = 0x7C90EB94;
    r.rsp = r.rcx = esp;
    r.rax = rax;
    vm_event_request_t q = req_of(ETHER_VM_EVENT_REASON_SYSCALL, r);
    struct ether_syscall_payload *p = ether_payload(&q);
    p->number = rax;
    p->kind = ETHER_KIND_SYSEXIT;
    return q;
}

static vm_event_request_t mem_access(uint32_t gfn, uint32_t gla, uint32_t rip, uint32_t flags)
{
    struct vm_event_regs_x86 r = user_regs(PD);
    r.rip = rip;
    vm_event_request_t q = req_of(VM_EVENT_REASON_MEM_ACCESS, r);
    q.u.mem_access.gfn = gfn;
    q.u.mem_access.gla = gla;
    q.u.mem_access.offset = gla & 0xFFF;
    q.u.mem_access.flags = flags | MEM_ACCESS_GLA_VALID;
    return q;
}

static vm_event_request_t step_at(uint32_t cr3, uint32_t rip, bool kernel)
{
    struct vm_event_regs_x86 r = kernel ? kernel_regs(cr3) : user_regs(cr3);
    r.rip = rip;
    return req_of(VM_EVENT_REASON_SINGLESTEP, r);
}

static void start(struct tracer **t, const struct tracer_options *o)
{
    sink_init_memory(&out);
    frames_free(&frames);
    consumed = 0;
    *t = tracer_new(&f.be, &out, o);
    CHECK(tracer_start(*t) == 0);
    frames_free(&frames);
    char err[256];
    CHECK(frames_decode(out.mem, out.mem_len, &frames, err, sizeof err) == 0);
}

static bool toggled(void)
{
    const struct fake_log_entry *r = fake_last_response(&f);
    return r && (r->flags & VM_EVENT_FLAG_TOGGLE_SINGLESTEP);
}

static void test_xp_full(const struct syscall_table *table)
{
    struct tracer *t;
    struct tracer_options o = { .singlestep = true, .syscalls = true, .memwrites = true,
                                .unpack = true, .process = "sample.exe", .guest = GUEST_WINXP_SP2,
                                .timeout_ms = 1000, .table = table, .table_path = "xp.csv" };
    build_xp_guest();
    start(&t, &o);

    /* hello */
    const msgpack_object *m = next_frame("hello");
    uint64_t v;
    bool b;
    CHECK(frame_get_uint(m, "protocol", &v) && v == 1);
    CHECK(frame_str_eq(m, "backend", "fake"));
    CHECK(frame_get_uint(m, "domain", &v) && v == 3);
    CHECK(frame_get_uint(m, "guest_word_size", &v) && v == 4);
    CHECK(frame_str_eq(m, "guest_os", "winxp-sp2"));
    CHECK(frame_get_bool(m, "ether_syscall_event", &b) && b);
    CHECK(frame_str_eq(frame_get(m, "options"), "process", "sample.exe"));
    CHECK(frame_is_nil(frame_get(m, "options"), "cr3"));
    CHECK(f.plan.cr3_writes && f.plan.singlestep && !f.plan.singlestep_from_start);
    CHECK_EQ_U64(f.plan.syscall_mechanisms, ETHER_TRAP_SYSCALL | ETHER_TRAP_SYSENTER | ETHER_REPORT_RETURNS);

    /* Switch to the sample: named, it is the target, single-step goes on, its pages get trapped. */
    vm_event_request_t q = cr3_write(OTHER_PD, PD, THREAD);
    CHECK_EQ_U64(handle(t, &q), 2);
    m = next_frame("process");
    CHECK(frame_get_uint(m, "cr3", &v) && v == PD);
    CHECK(frame_get_uint(m, "pid", &v) && v == 1234);
    CHECK(frame_str_eq(m, "name", "SAMPLE.EXE"));
    CHECK(frame_get_uint(m, "eprocess", &v) && v == EPROC);
    CHECK(frame_get_bool(m, "target", &b) && b);
    m = next_frame("switch");
    CHECK(frame_get_uint(m, "from", &v) && v == OTHER_PD);
    CHECK(frame_get_uint(m, "to", &v) && v == PD);
    CHECK(frame_get_uint(m, "rip", &v) && v == 0x804DB9A2);
    CHECK(toggled());
    CHECK(fake_access_of(&f, GFN_STACK) == PAGE_ACCESS_RX);
    CHECK(fake_access_of(&f, GFN_DATA) == PAGE_ACCESS_RX);
    CHECK(fake_access_of(&f, GFN_LAYER) == PAGE_ACCESS_RX);
    CHECK(fake_access_of(&f, GFN_CODE) == -1);      /* not writable */
    CHECK(fake_access_of(&f, GFN_KPCR) == -1);      /* supervisor */

    /* Away to another process: named, not the target, single-step off; its calls are filtered. */
    q = cr3_write(PD, OTHER_PD, OTHER_THREAD);
    CHECK_EQ_U64(handle(t, &q), 2);
    m = next_frame("process");
    CHECK(frame_str_eq(m, "name", "other.exe") && frame_get_bool(m, "target", &b) && !b);
    m = next_frame("switch");
    CHECK(frame_get_uint(m, "from", &v) && v == PD && frame_get_uint(m, "to", &v) && v == OTHER_PD);
    CHECK(toggled());
    q = sysenter(OTHER_PD, 0x19);
    CHECK_EQ_U64(handle(t, &q), 0);
    CHECK(!toggled());
    q = cr3_write(OTHER_PD, PD, THREAD);
    CHECK_EQ_U64(handle(t, &q), 1);                 /* already named: just the switch */
    next_frame("switch");
    CHECK(toggled());
    /* A switch between two other address spaces is not reported. */
    q = cr3_write(OTHER_PD, 0x70000, OTHER_THREAD);
    q.data.regs.x86.rip = 0x804DB9A2;
    CHECK_EQ_U64(handle(t, &q), 0);
    q = cr3_write(0x70000, PD, THREAD);
    q.data.regs.x86.cr3 = OTHER_PD;   /* what matters is only whether the target is involved */
    CHECK_EQ_U64(handle(t, &q), 1);
    next_frame("switch");

    /* NtOpenFile: number, name, arguments from the user stack at EDX+8, the object name. */
    q = sysenter(PD, 0x74);
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("syscall");
    uint64_t entry_seq = seq_of_last();
    CHECK(frame_str_eq(m, "mechanism", "sysenter"));
    CHECK(frame_get_uint(m, "number", &v) && v == 0x74);
    CHECK(frame_str_eq(m, "name", "NtOpenFile"));
    CHECK(frame_str_eq(m, "args_source", "stack"));
    const msgpack_object *args = frame_get(m, "args");
    CHECK(args && args->type == MSGPACK_OBJECT_ARRAY && args->via.array.size == 16);
    const uint64_t want[] = { 0x402200, 0x80100000, 0x402000, 0x402040, 1, 0x60 };
    for (unsigned i = 0; args && i < 6; i++)
        CHECK_EQ_U64(args->via.array.ptr[i].via.u64, want[i]);
    CHECK(frame_str_eq(m, "object_name", "\\??\\C:\\x.txt"));
    CHECK(frame_get_uint(m, "object_name_arg", &v) && v == 2);
    CHECK(frame_get_uint(m, "rip", &v) && v == 0x7C90EB8D);
    CHECK(frame_get_reg(m, "rdx", &v) && v == ESP);

    /* Its return: paired by (CR3, stack pointer); EAX only (32-bit code). */
    q = sysexit(PD, ESP, 0xFFFFFFFFC0000034ull);
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("syscall_return");
    CHECK(frame_str_eq(m, "mechanism", "sysexit"));
    CHECK(frame_get_uint(m, "number", &v) && v == 0x74);
    CHECK(frame_get_uint(m, "entry_seq", &v) && v == entry_seq);
    CHECK(frame_get_uint(m, "ret", &v) && v == 0xC0000034);
    CHECK(frame_str_eq(m, "name", "NtOpenFile"));
    CHECK(frame_get_uint(m, "rip", &v) && v == 0x7C90EB94);

    /* A return nobody entered (e.g. after attaching mid-call). */
    q = sysexit(PD, ESP - 0x100, 0);
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("syscall_return");
    CHECK(frame_is_nil(m, "number") && frame_is_nil(m, "entry_seq"));
    CHECK(frame_get(m, "name") == NULL);

    /* A step: instruction bytes up to the end of the mapping (6 here). */
    q = step_at(PD, 0x405FFA, false);
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("step");
    const uint8_t *bin;
    size_t len;
    CHECK(frame_get_bin(m, "insn", &bin, &len) && len == 6 && memcmp(bin, "\x88\x07\x46\x47\x49\x75", 6) == 0);
    CHECK(frame_get_uint(m, "cr3", &v) && v == PD);

    /* A trapped write: no frame yet; the page is opened for the one instruction. */
    q = mem_access(GFN_LAYER, 0x403010, 0x405FFA, MEM_ACCESS_R | MEM_ACCESS_W);
    CHECK_EQ_U64(handle(t, &q), 0);
    CHECK(fake_access_of(&f, GFN_LAYER) == PAGE_ACCESS_RWX);
    CHECK(!toggled());                             /* single-step is already on */
    memcpy(fake_page(&f, GFN_LAYER) + 0x10, "\xDE\xAD\xBE\xEF", 4);
    q = step_at(PD, 0x405FFC, false);
    CHECK_EQ_U64(handle(t, &q), 2);
    m = next_frame("memory_write");
    uint64_t write_seq = seq_of_last();
    CHECK(frame_get_uint(m, "address", &v) && v == 0x403010);
    CHECK(frame_get_uint(m, "gfn", &v) && v == GFN_LAYER);
    CHECK(frame_get_uint(m, "rip", &v) && v == 0x405FFA);
    CHECK(frame_get_bin(m, "insn", &bin, &len) && len == 6);
    CHECK(frame_get_bin(m, "bytes", &bin, &len) && len == 16 && memcmp(bin, "\xDE\xAD\xBE\xEF", 4) == 0);
    CHECK(frame_get_uint(m, "size", &v) && v == 0);
    next_frame("step");
    CHECK(fake_access_of(&f, GFN_LAYER) == PAGE_ACCESS_R);   /* dirty: writes and execution trap */

    /* Executing the written page: an unpack frame with the page, then the page is clean again. */
    q = mem_access(GFN_LAYER, 0x403000, 0x403000, MEM_ACCESS_X);
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("unpack");
    CHECK(frame_get_uint(m, "address", &v) && v == 0x403000);
    CHECK(frame_get_uint(m, "layer", &v) && v == 1);
    CHECK(frame_get_uint(m, "write_rip", &v) && v == 0x405FFA);
    CHECK(frame_get_uint(m, "write_seq", &v) && v == write_seq);
    CHECK(frame_get_bin(m, "page", &bin, &len) && len == 4096 && memcmp(bin + 0x10, "\xDE\xAD\xBE\xEF", 4) == 0);
    CHECK(fake_access_of(&f, GFN_LAYER) == PAGE_ACCESS_RX);

    /* Write and execute again: the second layer. */
    q = mem_access(GFN_LAYER, 0x403020, 0x405FFA, MEM_ACCESS_W);
    handle(t, &q);
    q = step_at(PD, 0x405FFC, false);
    CHECK_EQ_U64(handle(t, &q), 2);
    next_frame("memory_write");
    next_frame("step");
    q = mem_access(GFN_LAYER, 0x403000, 0x403000, MEM_ACCESS_X);
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("unpack");
    CHECK(frame_get_uint(m, "layer", &v) && v == 2);

    /* A violation on a page we never trapped: restored, nothing reported. */
    q = mem_access(0x77, 0x9000, 0x405FFA, MEM_ACCESS_W);
    CHECK_EQ_U64(handle(t, &q), 0);
    CHECK(fake_access_of(&f, 0x77) == PAGE_ACCESS_RWX);

    /* Every request was answered; the end frame counts them. */
    unsigned responses = 0;
    for (unsigned i = 0; i < f.nlog; i++)
        responses += f.log[i].kind == 0;
    struct tracer_stats s;
    tracer_get_stats(t, &s);
    CHECK_EQ_U64(responses, s.requests);
    CHECK(tracer_finish(t, "test") == 0);
    CHECK(f.shut_down);
    {
        frames_free(&frames);
        char err[256];
        CHECK(frames_decode(out.mem, out.mem_len, &frames, err, sizeof err) == 0);
        m = next_frame("end");
        CHECK(frame_str_eq(m, "reason", "test"));
        CHECK(frame_get_uint(m, "requests", &v) && v == s.requests);
        CHECK(frame_get_uint(m, "frames", &v) && v == frames.count - 1);
    }

    /* A request of another interface version is refused with a reason. */
    q = step_at(PD, 0x405FFA, false);
    q.version = 6;
    CHECK(tracer_handle(t, &q) != 0);
    CHECK(strstr(tracer_error(t), "interface version 6") != NULL);
    tracer_free(t);
    sink_free(&out);
}

static void test_user_only_and_no_filter(void)
{
    struct tracer *t;
    struct tracer_options o = { .singlestep = true, .user_only = true, .guest = GUEST_WINXP_SP2 };
    build_xp_guest();
    start(&t, &o);
    next_frame("hello");
    CHECK(f.plan.singlestep_from_start && !f.plan.cr3_writes && f.plan.syscall_mechanisms == 0);
    vm_event_request_t q = step_at(PD, 0x804DB9A2, true);
    /* The first request names the address space; the kernel step itself is not reported. */
    CHECK_EQ_U64(handle(t, &q), 1);
    next_frame("process");
    CHECK(!toggled());                 /* no filter: single-step stays on everywhere */
    q = step_at(OTHER_PD, 0x405FFA, false);
    CHECK_EQ_U64(handle(t, &q), 1);    /* user step of any process: no filter */
    next_frame("step");
    tracer_free(t);
    sink_free(&out);
}

static void test_memwrites_without_singlestep(void)
{
    struct tracer *t;
    struct tracer_options o = { .memwrites = true, .have_cr3 = true, .cr3 = PD | 0x18,
                                .guest = GUEST_WINXP_SP2 };
    build_xp_guest();
    start(&t, &o);
    next_frame("hello");
    CHECK(f.plan.singlestep && !f.plan.singlestep_from_start);  /* MTF only to finish writes */
    vm_event_request_t q = mem_access(GFN_DATA, 0x402008, 0x405FFA, MEM_ACCESS_W);
    handle(t, &q);                     /* first request: process frame (cr3 normalized) */
    next_frame("process");
    CHECK(toggled());                  /* single-step on, just for this write */
    q = step_at(PD, 0x405FFC, false);
    CHECK_EQ_U64(handle(t, &q), 1);    /* the write, but no step frame: not asked for */
    next_frame("memory_write");
    CHECK(toggled());                  /* and off again */
    CHECK(fake_access_of(&f, GFN_DATA) == PAGE_ACCESS_RX);  /* no --unpack: clean again */
    tracer_free(t);
    sink_free(&out);
}

static void test_unpack_without_memwrites(void)
{
    struct tracer *t;
    struct tracer_options o = { .unpack = true, .process = "sample.exe", .guest = GUEST_WINXP_SP2 };
    build_xp_guest();
    start(&t, &o);
    next_frame("hello");
    vm_event_request_t q = cr3_write(OTHER_PD, PD, THREAD);
    handle(t, &q);
    next_frame("process");
    next_frame("switch");
    CHECK(!toggled());
    q = mem_access(GFN_LAYER, 0x403000, 0x405FFA, MEM_ACCESS_W);
    CHECK_EQ_U64(handle(t, &q), 0);
    CHECK(fake_access_of(&f, GFN_LAYER) == PAGE_ACCESS_RW);   /* writes free, execution traps */
    CHECK(!toggled());
    q = mem_access(GFN_LAYER, 0x403000, 0x403000, MEM_ACCESS_X);
    CHECK_EQ_U64(handle(t, &q), 1);
    const msgpack_object *m = next_frame("unpack");
    uint64_t v;
    CHECK(frame_is_nil(m, "write_seq") && frame_get_uint(m, "write_rip", &v) && v == 0x405FFA);
    CHECK(fake_access_of(&f, GFN_LAYER) == PAGE_ACCESS_RX);
    tracer_free(t);
    sink_free(&out);
}

/*
 * SVM (no mem_access): memory writes and layers derived from single steps.  The decrypt loop's
 * "mov [edi], al" at the end of its code page writes one byte into the layer page; a push writes
 * four bytes below ESP; execution entering the written page is layer 1.  No page access is set.
 */
static void test_writes_from_steps(bool no_mem_access)
{
    struct tracer *t;
    struct tracer_options o = { .singlestep = true, .memwrites = true, .unpack = true,
                                .have_cr3 = true, .cr3 = PD, .guest = GUEST_WINXP_SP2,
                                .derive_writes = !no_mem_access };
    build_xp_guest();
    f.facts.no_mem_access = no_mem_access;
    fake_page(&f, GFN_LAYER)[0] = 0xAB;                   /* what the write left there */
    fake_page(&f, GFN_LAYER)[1] = 0x50;                   /* push eax */
    fake_page(&f, GFN_LAYER)[2] = 0x90;                   /* nop */
    fake_put32(&f, (GFN_STACK << 12) + ((ESP - 4) & 0xFFF), 0x11223344);  /* what the push left */
    start(&t, &o);
    const msgpack_object *m = next_frame("hello");
    CHECK(frame_str_eq(m, "writes_from", "steps"));
    CHECK(!f.plan.mem_access);

    vm_event_request_t q = step_at(PD, 0x405FFA, false);          /* mov [edi], al */
    q.data.regs.x86.rdi = 0x403000;
    q.data.regs.x86.rax = 0xAB;
    CHECK_EQ_U64(handle(t, &q), 2);
    next_frame("process");
    next_frame("step");
    q = step_at(PD, 0x405FFC, false);                              /* after it */
    q.data.regs.x86.rdi = 0x403000;
    CHECK_EQ_U64(handle(t, &q), 2);
    m = next_frame("memory_write");
    uint64_t v;
    const uint8_t *bytes;
    size_t n;
    CHECK(frame_get_uint(m, "address", &v) && v == 0x403000);
    CHECK(frame_get_uint(m, "size", &v) && v == 1);
    CHECK(frame_get_uint(m, "rip", &v) && v == 0x405FFA);
    CHECK(frame_get_bin(m, "bytes", &bytes, &n) && n == 1 && bytes[0] == 0xAB);
    uint64_t write_seq = seq_of_last();
    next_frame("step");

    q = step_at(PD, 0x403000, false);                              /* runs the written page */
    CHECK_EQ_U64(handle(t, &q), 2);
    m = next_frame("unpack");
    CHECK(frame_get_uint(m, "address", &v) && v == 0x403000);
    CHECK(frame_get_uint(m, "layer", &v) && v == 1);
    CHECK(frame_get_uint(m, "write_rip", &v) && v == 0x405FFA);
    CHECK(frame_get_uint(m, "write_seq", &v) && v == write_seq);
    CHECK(frame_get_bin(m, "page", &bytes, &n) && n == 4096 && bytes[0] == 0xAB);
    next_frame("step");

    q = step_at(PD, 0x403001, false);                              /* push eax */
    q.data.regs.x86.rsp = ESP;
    CHECK_EQ_U64(handle(t, &q), 1);                                /* no second layer: clean now */
    next_frame("step");
    q = step_at(PD, 0x403002, false);
    q.data.regs.x86.rsp = ESP - 4;
    CHECK_EQ_U64(handle(t, &q), 2);
    m = next_frame("memory_write");
    CHECK(frame_get_uint(m, "address", &v) && v == ESP - 4);
    CHECK(frame_get_bin(m, "bytes", &bytes, &n) && n == 4 && bytes[0] == 0x44 && bytes[3] == 0x11);
    next_frame("step");

    /* A step whose code page is not mapped yet (demand paging) is held until the vCPU's next
     * event, then written with its bytes. */
    q = step_at(PD, 0x404000, false);
    CHECK_EQ_U64(handle(t, &q), 0);
    map32(PD, 0x404000, 0x25, U);
    memset(fake_page(&f, 0x25), 0x90, 2);                          /* nop; nop */
    q = step_at(PD, 0x404001, false);
    CHECK_EQ_U64(handle(t, &q), 2);
    m = next_frame("step");
    CHECK(frame_get_uint(m, "rip", &v) && v == 0x404000);
    CHECK(frame_get_bin(m, "insn", &bytes, &n) && n > 0 && bytes[0] == 0x90);
    next_frame("step");

    for (unsigned i = 0; i < f.nlog; i++)
        CHECK(f.log[i].kind != 1);                                 /* no page access was ever set */
    tracer_free(t);
    sink_free(&out);
}

/* The bytes a step frame says the instruction at `rip` reads: one range, equal to the fake's memory. */
static void check_read(const msgpack_object *m, unsigned i, uint64_t address, size_t size, uint64_t gpa)
{
    const msgpack_object *at = frame_get(m, "reads_at"), *bytes = frame_get(m, "reads");
    CHECK(at && bytes && at->type == MSGPACK_OBJECT_ARRAY && bytes->type == MSGPACK_OBJECT_ARRAY);
    if (!at || !bytes || i >= at->via.array.size || i >= bytes->via.array.size) {
        CHECK(!"a read was expected");
        return;
    }
    CHECK_EQ_U64(at->via.array.ptr[i].via.u64, address);
    const msgpack_object *b = &bytes->via.array.ptr[i];
    CHECK_EQ_U64(b->via.bin.size, size);
    uint8_t want[8];
    CHECK(fake_read_phys(&f, gpa, want, size) == 0);
    CHECK(memcmp(b->via.bin.ptr, want, size) == 0);
}

/* The pages a step frame carries: exactly `n` of them, each the fake's page at that address. */
static void check_pages(const msgpack_object *m, unsigned n, const uint64_t *va, const uint32_t *gfn)
{
    const msgpack_object *at = frame_get(m, "pages_at"), *pages = frame_get(m, "pages");
    if (n == 0) {
        CHECK(!at && !pages);
        return;
    }
    CHECK(at && pages && at->via.array.size == n && pages->via.array.size == n);
    for (unsigned i = 0; at && pages && i < n && i < at->via.array.size; i++) {
        CHECK_EQ_U64(at->via.array.ptr[i].via.u64, va[i]);
        CHECK_EQ_U64(pages->via.array.ptr[i].via.bin.size, 4096);
        CHECK(memcmp(pages->via.array.ptr[i].via.bin.ptr, fake_page(&f, gfn[i]), 4096) == 0);
    }
}

/* Every stepped instruction says what it reads: the operand bytes each time, the whole page the
 * first time that page is read in the address space (user and kernel steps alike). */
static void test_reads_from_steps(void)
{
    struct tracer *t;
    struct tracer_options o = { .singlestep = true, .have_cr3 = true, .cr3 = PD, .guest = GUEST_WINXP_SP2 };
    build_xp_guest();
    uint8_t *code = fake_page(&f, GFN_CODE) + 0x100;
    memcpy(code, "\x8B\x06"            /* 405100 mov eax, [esi] */
                 "\x8A\x46\x08"        /* 405102 mov al, [esi+8] */
                 "\x46"                /* 405105 inc esi: reads nothing */
                 "\xC3"                /* 405106 ret: reads [esp] */
                 "\x8B\x0D\x24\xF1\xDF\xFF", 13);  /* 405107 mov ecx, [0xFFDFF124] (kernel) */
    fake_put32(&f, (GFN_LAYER << 12) + 0, 0xCAFEF00D);
    start(&t, &o);
    const msgpack_object *m = next_frame("hello");
    CHECK(frame_str_eq(m, "reads_from", "steps"));

    vm_event_request_t q = step_at(PD, 0x405100, false);
    q.data.regs.x86.rsi = 0x402000;
    CHECK_EQ_U64(handle(t, &q), 2);
    next_frame("process");
    m = next_frame("step");
    check_read(m, 0, 0x402000, 4, GFN_DATA << 12);
    check_pages(m, 1, (const uint64_t[]){ 0x402000 }, (const uint32_t[]){ GFN_DATA });

    q = step_at(PD, 0x405102, false);                    /* the same page again: no page */
    q.data.regs.x86.rsi = 0x402000;
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("step");
    check_read(m, 0, 0x402008, 1, (GFN_DATA << 12) + 8);
    check_pages(m, 0, NULL, NULL);

    q = step_at(PD, 0x405105, false);
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("step");
    CHECK(!frame_get(m, "reads_at") && !frame_get(m, "reads"));
    check_pages(m, 0, NULL, NULL);

    q = step_at(PD, 0x405106, false);
    q.data.regs.x86.rsp = ESP;
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("step");
    check_read(m, 0, ESP, 4, (GFN_STACK << 12) + (ESP & 0xFFF));   /* 0x7C90DCDC */
    check_pages(m, 1, (const uint64_t[]){ ESP & ~0xFFFu }, (const uint32_t[]){ GFN_STACK });

    /* A read across a page boundary: the bytes of both pages, only the new page whole. */
    q = step_at(PD, 0x405100, false);
    q.data.regs.x86.rsi = 0x402FFE;
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("step");
    const msgpack_object *b = frame_get(m, "reads");
    CHECK(b && b->via.array.size == 1 && b->via.array.ptr[0].via.bin.size == 4 &&
          memcmp(b->via.array.ptr[0].via.bin.ptr + 2, "\x0D\xF0", 2) == 0);
    check_pages(m, 1, (const uint64_t[]){ 0x403000 }, (const uint32_t[]){ GFN_LAYER });

    /* An unmapped operand: nothing read (the instruction faults instead). */
    q = step_at(PD, 0x405100, false);
    q.data.regs.x86.rsi = 0x00600000;
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("step");
    CHECK(!frame_get(m, "reads_at") && !frame_get(m, "pages_at"));

    /* Kernel code is stepped too (VMX's MTF without --user-only): its reads come the same way. */
    q = step_at(PD, 0x405107, true);
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("step");
    check_read(m, 0, KPCR + 0x124, 4, (GFN_KPCR << 12) + 0x124);
    check_pages(m, 1, (const uint64_t[]){ KPCR }, (const uint32_t[]){ GFN_KPCR });
    tracer_free(t);
    sink_free(&out);
}

/* SVM (no mem_access): a load from a page not present yet faults, and the patch does not report
 * the instruction's second run; the step is held until the vCPU's next event and carries its reads
 * then.  One that also writes memory carries none (its operand no longer holds what it read). */
static void test_reads_of_pages_not_present_yet(void)
{
    struct tracer *t;
    struct tracer_options o = { .singlestep = true, .have_cr3 = true, .cr3 = PD, .guest = GUEST_WINXP_SP2 };
    build_xp_guest();
    f.facts.no_mem_access = true;
    memcpy(fake_page(&f, GFN_CODE) + 0x200, "\x8B\x06" "\x90" "\x01\x06" "\x90", 6);  /* mov eax, [esi]; nop; add [esi], eax; nop */
    start(&t, &o);
    next_frame("hello");

    vm_event_request_t q = step_at(PD, 0x405200, false);
    q.data.regs.x86.rsi = 0x406000;                       /* not mapped yet */
    CHECK_EQ_U64(handle(t, &q), 1);                       /* the step is held */
    next_frame("process");
    map32(PD, 0x406000, 0x26, W | U);                     /* the kernel's fault handling */
    fake_put32(&f, 0x26000, 0x600DF00D);
    q = step_at(PD, 0x405202, false);
    CHECK_EQ_U64(handle(t, &q), 2);
    const msgpack_object *m = next_frame("step");
    uint64_t v;
    CHECK(frame_get_uint(m, "rip", &v) && v == 0x405200);
    check_read(m, 0, 0x406000, 4, 0x26000);
    check_pages(m, 1, (const uint64_t[]){ 0x406000 }, (const uint32_t[]){ 0x26 });
    next_frame("step");

    q = step_at(PD, 0x405203, false);
    q.data.regs.x86.rsi = 0x407000;                       /* not mapped yet, and written */
    CHECK_EQ_U64(handle(t, &q), 0);
    map32(PD, 0x407000, 0x27, W | U);
    q = step_at(PD, 0x405205, false);
    q.data.regs.x86.rsi = 0x407000;
    CHECK(handle(t, &q) >= 2);
    m = next_frame("step");
    CHECK(frame_get_uint(m, "rip", &v) && v == 0x405203);
    CHECK(!frame_get(m, "reads_at") && !frame_get(m, "pages_at"));
    tracer_free(t);
    sink_free(&out);
}

/* A 64-bit guest with 4-level paging: PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000, the
 * stack page (at rsp) at gfn 0x60. */
static void build_64bit_guest(uint32_t capabilities, uint64_t rsp)
{
    fake_init(&f, 8, capabilities);
    fake_put64(&f, 0x1000, 0x2000 | P | W | U);
    fake_put64(&f, 0x2000, 0x3000 | P | W | U);
    fake_put64(&f, 0x3000, 0x4000 | P | W | U);
    fake_put64(&f, 0x4000 + ((rsp >> 12) & 511) * 8, 0x60000 | P | W | U);
}

/* Registers of 64-bit user code (EFER.LMA, CS.L, DPL 3) in that address space. */
static struct vm_event_regs_x86 user_regs64(uint64_t rip, uint64_t rsp)
{
    struct vm_event_regs_x86 r;
    memset(&r, 0, sizeof r);
    r.cr0 = 0x80050033;
    r.cr4 = 0x370678;
    r.msr_efer = 0xD01;
    r.cr3 = 0x1000;
    r.cs_sel = 0x33;
    r.cs.ar = 0xa9b | 0x60;  /* L, DPL 3 */
    r.rip = rip;
    r.rsp = rsp;
    return r;
}

/* 64-bit code: a RIP-relative load (the address counts from the next instruction) and a pop. */
static void test_reads_64bit(void)
{
    struct tracer *t;
    struct tracer_options o = { .singlestep = true, .guest = GUEST_LINUX };
    uint64_t rsp = 0x14EF00;
    build_64bit_guest(0, rsp);
    fake_put64(&f, 0x3000 + 2 * 8, 0x5000 | P | W | U);    /* PT 0x5000: code and data */
    fake_put64(&f, 0x5000 + 1 * 8, 0x70000 | P | U);        /* 0x401000: code */
    fake_put64(&f, 0x5000 + 2 * 8, 0x71000 | P | W | U);    /* 0x402000: data */
    memcpy(fake_page(&f, 0x70), "\x48\x8B\x05\xF9\x0F\x00\x00" "\x5B", 8);  /* mov rax, [rip+0xff9]; pop rbx */
    fake_put64(&f, 0x71000, 0x1122334455667788ull);
    fake_put64(&f, 0x60000 + (rsp & 0xFFF), 0x00007FFFDEADBEEFull);
    start(&t, &o);
    next_frame("hello");

    struct vm_event_regs_x86 r = user_regs64(0x401000, rsp);
    vm_event_request_t q = req_of(VM_EVENT_REASON_SINGLESTEP, r);
    CHECK_EQ_U64(handle(t, &q), 1);
    const msgpack_object *m = next_frame("step");
    check_read(m, 0, 0x402000, 8, 0x71000);
    check_pages(m, 1, (const uint64_t[]){ 0x402000 }, (const uint32_t[]){ 0x71 });
    r.rip = 0x401007;
    q = req_of(VM_EVENT_REASON_SINGLESTEP, r);
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("step");
    check_read(m, 0, rsp, 8, 0x60000 + (rsp & 0xFFF));
    check_pages(m, 1, (const uint64_t[]){ rsp & ~0xFFFull }, (const uint32_t[]){ 0x60 });
    tracer_free(t);
    sink_free(&out);
}

/* 64-bit guests: 4-level paging, syscall/sysret, register (and stack) arguments. */
static void test_64bit(enum guest_profile guest)
{
    struct tracer *t;
    struct tracer_options o = { .syscalls = true, .guest = guest };
    uint64_t rsp = 0x000000000014F000ull - 0x100;
    build_64bit_guest(1u << ETHER_MONITOR_EVENT_SYSCALL, rsp);
    for (unsigned i = 0; i < 12; i++)
        fake_put64(&f, 0x60000 + ((rsp + 0x28) & 0xFFF) + 8 * i, 0x5000 + i);
    start(&t, &o);
    next_frame("hello");

    struct vm_event_regs_x86 r = user_regs64(0x00007FFA12340014ull, rsp);
    r.rax = 0x55;
    r.rdi = 1; r.rsi = 2; r.rdx = 3; r.r10 = 4; r.r8 = 5; r.r9 = 6;
    vm_event_request_t q = req_of(ETHER_VM_EVENT_REASON_SYSCALL, r);
    struct ether_syscall_payload *p = ether_payload(&q);
    p->number = 0x55;
    p->kind = ETHER_KIND_SYSCALL;
    CHECK_EQ_U64(handle(t, &q), 1);
    const msgpack_object *m = next_frame("syscall");
    uint64_t v;
    CHECK(frame_str_eq(m, "mechanism", "syscall"));
    CHECK(frame_get_uint(m, "rip", &v) && v == 0x00007FFA12340014ull);  /* not cut to 32 bits */
    const msgpack_object *a = frame_get(m, "args");
    if (guest == GUEST_WINDOWS_X64) {
        CHECK(frame_str_eq(m, "args_source", "registers+stack"));
        CHECK(a && a->via.array.size == 16);
        const uint64_t want[] = { 4, 3, 5, 6, 0x5000, 0x5001 };   /* R10 RDX R8 R9 [rsp+0x28].. */
        for (unsigned i = 0; a && i < 6; i++)
            CHECK_EQ_U64(a->via.array.ptr[i].via.u64, want[i]);
    } else {
        CHECK(frame_str_eq(m, "args_source", "registers"));
        CHECK(a && a->via.array.size == 6);
        for (unsigned i = 0; a && i < 6; i++)
            CHECK_EQ_U64(a->via.array.ptr[i].via.u64, i + 1);      /* RDI RSI RDX R10 R8 R9 */
    }
    uint64_t entry_seq = seq_of_last();
    r.rip = 0x00007FFA12340016ull;
    r.rax = 0xFFFFFFFFFFFFFFFEull;   /* -ENOENT: 64 bits kept */
    q = req_of(ETHER_VM_EVENT_REASON_SYSCALL, r);
    p = ether_payload(&q);
    p->kind = ETHER_KIND_SYSRET;
    CHECK_EQ_U64(handle(t, &q), 1);
    m = next_frame("syscall_return");
    CHECK(frame_str_eq(m, "mechanism", "sysret"));
    CHECK(frame_get_uint(m, "ret", &v) && v == 0xFFFFFFFFFFFFFFFEull);
    CHECK(frame_get_uint(m, "entry_seq", &v) && v == entry_seq);
    tracer_free(t);
    sink_free(&out);
}

static void test_refusals(void)
{
    struct tracer *t;
    struct tracer_options o = { .syscalls = true, .guest = GUEST_WINXP_SP2 };
    fake_init(&f, 4, 0);  /* an unpatched hypervisor */
    sink_init_memory(&out);
    t = tracer_new(&f.be, &out, &o);
    CHECK(tracer_start(t) != 0);
    CHECK(strstr(tracer_error(t), "no Ether system-call event") != NULL);
    CHECK(out.mem_len == 0);   /* nothing written before the refusal */
    tracer_free(t);
    struct tracer_options o2 = { .singlestep = true, .process = "x.exe", .guest = GUEST_LINUX };
    t = tracer_new(&f.be, &out, &o2);
    CHECK(tracer_start(t) != 0);
    CHECK(strstr(tracer_error(t), "--process needs --guest winxp-sp2") != NULL);
    tracer_free(t);
    sink_free(&out);
}

int main(int argc, char **argv)
{
    struct syscall_table table;
    char err[256];
    if (argc < 2 || syscall_table_load(&table, argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "usage: test_translate x86_nt_winxp_sp2.csv\n");
        return 2;
    }
    test_xp_full(&table);
    test_user_only_and_no_filter();
    test_memwrites_without_singlestep();
    test_unpack_without_memwrites();
    test_writes_from_steps(true);
    test_writes_from_steps(false);
    test_reads_from_steps();
    test_reads_64bit();
    test_reads_of_pages_not_present_yet();
    test_64bit(GUEST_WINDOWS_X64);
    test_64bit(GUEST_LINUX);
    test_refusals();
    frames_free(&frames);
    syscall_table_free(&table);
    return check_report("translate");
}
