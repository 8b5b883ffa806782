#include "session_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES (8 + 7 * 4 + 32 + 32)

struct session_writer {
    FILE *f;
    int failed;
};

struct session_reader {
    FILE *f;
    const char *path;
    uint8_t *buf;
    size_t cap;
    uint64_t offset;
};

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | ((uint64_t)get_u32(p + 4) << 32);
}

struct session_writer *session_writer_open(const char *path, const struct session_info *info,
                                           char *err, size_t errlen)
{
    uint8_t h[HEADER_BYTES] = { 0 };
    struct session_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->f = fopen(path, "wb");
    if (!w->f) {
        snprintf(err, errlen, "cannot create session file %s: %s", path, strerror(errno));
        free(w);
        return NULL;
    }
    memcpy(h, SESSION_MAGIC, 8);
    put_u32(h + 8, SESSION_FORMAT_VERSION);
    put_u32(h + 12, VM_EVENT_INTERFACE_VERSION);
    put_u32(h + 16, (uint32_t)sizeof(vm_event_request_t));
    put_u32(h + 20, info->domain);
    put_u32(h + 24, info->vcpus);
    put_u32(h + 28, info->word_size);
    put_u32(h + 32, info->capabilities);
    /* NUL-padded fields; at most 31 bytes so the reader always finds a NUL. */
    memcpy(h + 36, info->hypervisor, strnlen(info->hypervisor, 31));
    memcpy(h + 68, info->guest_os, strnlen(info->guest_os, 31));
    if (fwrite(h, sizeof h, 1, w->f) != 1)
        w->failed = 1;
    return w;
}

static int write_record(struct session_writer *w, uint32_t kind, const void *a, size_t alen,
                        const void *b, size_t blen)
{
    uint8_t h[8];
    put_u32(h, kind);
    put_u32(h + 4, (uint32_t)(alen + blen));
    if (fwrite(h, sizeof h, 1, w->f) != 1 || (alen && fwrite(a, alen, 1, w->f) != 1) ||
        (blen && fwrite(b, blen, 1, w->f) != 1)) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

int session_write_page(struct session_writer *w, uint64_t gfn, const void *page)
{
    uint8_t g[8];
    put_u32(g, (uint32_t)gfn);
    put_u32(g + 4, (uint32_t)(gfn >> 32));
    return write_record(w, SESSION_PAGE, g, sizeof g, page, SESSION_PAGE_SIZE);
}

int session_write_request(struct session_writer *w, const vm_event_request_t *req)
{
    return write_record(w, SESSION_REQUEST, req, sizeof *req, NULL, 0);
}

int session_write_note(struct session_writer *w, const char *text)
{
    return write_record(w, SESSION_NOTE, text, strlen(text), NULL, 0);
}

int session_writer_close(struct session_writer *w)
{
    if (!w)
        return 0;
    int rc = w->failed;
    if (fclose(w->f) != 0)
        rc = 1;
    free(w);
    return rc ? -1 : 0;
}

struct session_reader *session_reader_open(const char *path, struct session_info *info, char *err,
                                           size_t errlen)
{
    uint8_t h[HEADER_BYTES];
    struct session_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->path = path;
    r->f = fopen(path, "rb");
    if (!r->f) {
        snprintf(err, errlen, "cannot open session file %s: %s", path, strerror(errno));
        free(r);
        return NULL;
    }
    if (fread(h, sizeof h, 1, r->f) != 1 || memcmp(h, SESSION_MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s is not an ether session file (no ETHSESS1 header)", path);
        goto fail;
    }
    if (get_u32(h + 8) != SESSION_FORMAT_VERSION) {
        snprintf(err, errlen, "%s: session format version %u, this agent reads %u", path,
                 get_u32(h + 8), SESSION_FORMAT_VERSION);
        goto fail;
    }
    if (get_u32(h + 12) != VM_EVENT_INTERFACE_VERSION ||
        get_u32(h + 16) != sizeof(vm_event_request_t)) {
        snprintf(err, errlen,
                 "%s: recorded with vm_event interface %u (%u-byte requests), this agent has %u (%zu)",
                 path, get_u32(h + 12), get_u32(h + 16), VM_EVENT_INTERFACE_VERSION,
                 sizeof(vm_event_request_t));
        goto fail;
    }
    memset(info, 0, sizeof *info);
    info->domain = get_u32(h + 20);
    info->vcpus = get_u32(h + 24);
    info->word_size = get_u32(h + 28);
    info->capabilities = get_u32(h + 32);
    memcpy(info->hypervisor, h + 36, 31);
    memcpy(info->guest_os, h + 68, 31);
    if (info->vcpus == 0 || info->vcpus > 4096 || (info->word_size != 4 && info->word_size != 8)) {
        snprintf(err, errlen, "%s: implausible header (vcpus %u, word size %u)", path, info->vcpus,
                 info->word_size);
        goto fail;
    }
    r->offset = sizeof h;
    return r;
fail:
    fclose(r->f);
    free(r);
    return NULL;
}

int session_read_record(struct session_reader *r, struct session_record *rec, char *err,
                        size_t errlen)
{
    uint8_t h[8];
    size_t n = fread(h, 1, sizeof h, r->f);
    if (n == 0 && feof(r->f))
        return 0;
    if (n != sizeof h) {
        snprintf(err, errlen, "%s: truncated record header at offset %llu", r->path,
                 (unsigned long long)r->offset);
        return -1;
    }
    uint32_t kind = get_u32(h), length = get_u32(h + 4);
    if (length > (16u << 20)) {
        snprintf(err, errlen, "%s: record of %u bytes at offset %llu", r->path, length,
                 (unsigned long long)r->offset);
        return -1;
    }
    if (length > r->cap) {
        uint8_t *b = realloc(r->buf, length);
        if (!b) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        r->buf = b;
        r->cap = length;
    }
    if (length && fread(r->buf, length, 1, r->f) != 1) {
        snprintf(err, errlen, "%s: truncated record at offset %llu", r->path,
                 (unsigned long long)r->offset);
        return -1;
    }
    memset(rec, 0, sizeof *rec);
    switch (kind) {
    case SESSION_PAGE:
        if (length != 8 + SESSION_PAGE_SIZE)
            goto bad;
        rec->gfn = get_u64(r->buf);
        rec->data = r->buf + 8;
        rec->length = SESSION_PAGE_SIZE;
        break;
    case SESSION_REQUEST:
        if (length != sizeof(vm_event_request_t))
            goto bad;
        rec->data = r->buf;
        rec->length = length;
        break;
    case SESSION_NOTE:
        rec->data = r->buf;
        rec->length = length;
        break;
    default:
        goto bad;
    }
    rec->kind = (enum session_record_kind)kind;
    r->offset += sizeof h + length;
    return 1;
bad:
    snprintf(err, errlen, "%s: bad record (kind %u, %u bytes) at offset %llu", r->path, kind,
             length, (unsigned long long)r->offset);
    return -1;
}

void session_reader_close(struct session_reader *r)
{
    if (!r)
        return;
    fclose(r->f);
    free(r->buf);
    free(r);
}
