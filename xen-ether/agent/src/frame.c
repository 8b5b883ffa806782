#include "frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names follow formats/Model/Register.cs where it has the register; cr0/cr2/cr4/efer are extra. */
const char *const FRAME_REG_NAMES[FRAME_REG_COUNT] = {
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    "rip", "rflags", "fs_base", "gs_base",
    "cs", "ss", "ds", "es", "fs", "gs",
    "cr0", "cr3", "cr4", "efer",
};

void frame_init(struct frame *f)
{
    msgpack_sbuffer_init(&f->sb);
    msgpack_packer_init(&f->pk, &f->sb, msgpack_sbuffer_write);
    f->keys_expected = f->keys_written = 0;
}

void frame_free(struct frame *f)
{
    msgpack_sbuffer_destroy(&f->sb);
}

static void key(struct frame *f, const char *k)
{
    size_t n = strlen(k);
    msgpack_pack_str(&f->pk, n);
    msgpack_pack_str_body(&f->pk, k, n);
    f->keys_written++;
}

void frame_begin(struct frame *f, const char *type, uint64_t seq, uint32_t extra_keys)
{
    static const char zero[FRAME_PREFIX_BYTES];
    msgpack_sbuffer_clear(&f->sb);
    msgpack_sbuffer_write(&f->sb, zero, sizeof zero);
    f->keys_expected = 2 + extra_keys;
    f->keys_written = 0;
    msgpack_pack_map(&f->pk, f->keys_expected);
    frame_str(f, "type", type);
    frame_uint(f, "seq", seq);
}

void frame_uint(struct frame *f, const char *k, uint64_t v)
{
    key(f, k);
    msgpack_pack_uint64(&f->pk, v);
}

void frame_int(struct frame *f, const char *k, int64_t v)
{
    key(f, k);
    msgpack_pack_int64(&f->pk, v);
}

void frame_bool(struct frame *f, const char *k, bool v)
{
    key(f, k);
    if (v)
        msgpack_pack_true(&f->pk);
    else
        msgpack_pack_false(&f->pk);
}

void frame_nil(struct frame *f, const char *k)
{
    key(f, k);
    msgpack_pack_nil(&f->pk);
}

void frame_str(struct frame *f, const char *k, const char *s)
{
    size_t n = strlen(s);
    key(f, k);
    msgpack_pack_str(&f->pk, n);
    msgpack_pack_str_body(&f->pk, s, n);
}

void frame_bin(struct frame *f, const char *k, const void *data, size_t len)
{
    key(f, k);
    msgpack_pack_bin(&f->pk, len);
    if (len)
        msgpack_pack_bin_body(&f->pk, data, len);
}

void frame_uint_array(struct frame *f, const char *k, const uint64_t *v, size_t n)
{
    key(f, k);
    msgpack_pack_array(&f->pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_uint64(&f->pk, v[i]);
}

void frame_bin_array(struct frame *f, const char *k, const uint8_t *const *data, const size_t *lens,
                     size_t n)
{
    key(f, k);
    msgpack_pack_array(&f->pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_bin(&f->pk, lens[i]);
        msgpack_pack_bin_body(&f->pk, data[i], lens[i]);
    }
}

void frame_map(struct frame *f, const char *k, uint32_t n)
{
    key(f, k);
    msgpack_pack_map(&f->pk, n);
    /* The nested keys are counted by key(); they are not keys of the outer map. */
    f->keys_written -= n;
}

void frame_regs(struct frame *f, const char *k, const struct vm_event_regs_x86 *r)
{
    const uint64_t v[FRAME_REG_COUNT] = {
        r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp,
        r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
        r->rip, r->rflags, r->fs_base, r->gs_base,
        r->cs_sel, r->ss_sel, r->ds_sel, r->es_sel, r->fs_sel, r->gs_sel,
        r->cr0, r->cr3, r->cr4, r->msr_efer,
    };
    frame_map(f, k, FRAME_REG_COUNT);
    for (unsigned i = 0; i < FRAME_REG_COUNT; i++)
        frame_uint(f, FRAME_REG_NAMES[i], v[i]);
}

size_t frame_end(struct frame *f)
{
    if (f->keys_written != f->keys_expected) {
        /* A programming error that would make every later frame undecodable: stop loudly. */
        fprintf(stderr, "ether-agent: internal error: frame has %u keys, header says %u\n",
                f->keys_written, f->keys_expected);
        abort();
    }
    size_t body = f->sb.size - FRAME_PREFIX_BYTES;
    if (body > FRAME_MAX_BYTES) {
        fprintf(stderr, "ether-agent: internal error: frame of %zu bytes\n", body);
        abort();
    }
    uint8_t *p = (uint8_t *)f->sb.data;
    p[0] = (uint8_t)(body >> 24);
    p[1] = (uint8_t)(body >> 16);
    p[2] = (uint8_t)(body >> 8);
    p[3] = (uint8_t)body;
    return f->sb.size;
}

const uint8_t *frame_data(const struct frame *f)
{
    return (const uint8_t *)f->sb.data;
}
