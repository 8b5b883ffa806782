#include "frame_reader.h"

#include <stdlib.h>
#include <string.h>

#define FRAME_MAX_BYTES (1u << 20)

int frames_decode(const uint8_t *buf, size_t len, struct frame_list *out, char *err, size_t errlen)
{
    size_t at = 0, cap = 0;
    out->frames = NULL;
    out->count = 0;
    while (at < len) {
        if (len - at < 4) {
            snprintf(err, errlen, "frame %zu: %zu stray bytes after the last frame", out->count,
                     len - at);
            goto fail;
        }
        size_t body = ((size_t)buf[at] << 24) | ((size_t)buf[at + 1] << 16) |
                      ((size_t)buf[at + 2] << 8) | buf[at + 3];
        if (body == 0 || body > FRAME_MAX_BYTES) {
            snprintf(err, errlen, "frame %zu: length %zu out of range", out->count, body);
            goto fail;
        }
        if (len - at - 4 < body) {
            snprintf(err, errlen, "frame %zu: truncated (%zu of %zu bytes)", out->count,
                     len - at - 4, body);
            goto fail;
        }
        if (out->count == cap) {
            cap = cap ? cap * 2 : 64;
            struct decoded_frame *f = realloc(out->frames, cap * sizeof *f);
            if (!f) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            out->frames = f;
        }
        struct decoded_frame *d = &out->frames[out->count];
        memset(d, 0, sizeof *d);
        msgpack_unpacked_init(&d->unpacked);
        size_t off = 0;
        msgpack_unpack_return rc =
            msgpack_unpack_next(&d->unpacked, (const char *)buf + at + 4, body, &off);
        out->count++;
        if (rc != MSGPACK_UNPACK_SUCCESS || off != body) {
            snprintf(err, errlen, "frame %zu: body is not exactly one MessagePack value",
                     out->count - 1);
            goto fail;
        }
        d->map = &d->unpacked.data;
        d->bytes = body;
        if (d->map->type != MSGPACK_OBJECT_MAP ||
            !frame_get_str(d->map, "type", d->type, sizeof d->type) ||
            !frame_get_uint(d->map, "seq", &d->seq)) {
            snprintf(err, errlen, "frame %zu: not a map with a string \"type\" and a \"seq\"",
                     out->count - 1);
            goto fail;
        }
        at += 4 + body;
    }
    /* The array may have moved while growing: point each map at its final place. */
    for (size_t i = 0; i < out->count; i++)
        out->frames[i].map = &out->frames[i].unpacked.data;
    return 0;
fail:
    frames_free(out);
    return -1;
}

void frames_free(struct frame_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        msgpack_unpacked_destroy(&l->frames[i].unpacked);
    free(l->frames);
    l->frames = NULL;
    l->count = 0;
}

const msgpack_object *frame_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == klen &&
            memcmp(kv->key.via.str.ptr, key, klen) == 0)
            return &kv->val;
    }
    return NULL;
}

bool frame_get_uint(const msgpack_object *map, const char *key, uint64_t *v)
{
    const msgpack_object *o = frame_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *v = o->via.u64;
    return true;
}

bool frame_get_bool(const msgpack_object *map, const char *key, bool *v)
{
    const msgpack_object *o = frame_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    *v = o->via.boolean;
    return true;
}

bool frame_is_nil(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = frame_get(map, key);
    return o && o->type == MSGPACK_OBJECT_NIL;
}

bool frame_get_str(const msgpack_object *map, const char *key, char *out, size_t cap)
{
    const msgpack_object *o = frame_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_STR || cap == 0)
        return false;
    size_t n = o->via.str.size < cap - 1 ? o->via.str.size : cap - 1;
    memcpy(out, o->via.str.ptr, n);
    out[n] = '\0';
    return true;
}

bool frame_str_eq(const msgpack_object *map, const char *key, const char *want)
{
    const msgpack_object *o = frame_get(map, key);
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(want) &&
           memcmp(o->via.str.ptr, want, o->via.str.size) == 0;
}

bool frame_get_bin(const msgpack_object *map, const char *key, const uint8_t **data, size_t *len)
{
    const msgpack_object *o = frame_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_BIN)
        return false;
    *data = (const uint8_t *)o->via.bin.ptr;
    *len = o->via.bin.size;
    return true;
}

bool frame_get_reg(const msgpack_object *map, const char *reg, uint64_t *v)
{
    return frame_get_uint(frame_get(map, "regs"), reg, v);
}

static void print_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void frame_print_json(FILE *f, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: fputs("null", f); break;
    case MSGPACK_OBJECT_BOOLEAN: fputs(o->via.boolean ? "true" : "false", f); break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: fprintf(f, "%llu", (unsigned long long)o->via.u64); break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: fprintf(f, "%lld", (long long)o->via.i64); break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: fprintf(f, "%g", o->via.f64); break;
    case MSGPACK_OBJECT_STR: print_string(f, o->via.str.ptr, o->via.str.size); break;
    case MSGPACK_OBJECT_BIN:
        fputc('"', f);
        for (uint32_t i = 0; i < o->via.bin.size; i++)
            fprintf(f, "%02x", (unsigned char)o->via.bin.ptr[i]);
        fputc('"', f);
        break;
    case MSGPACK_OBJECT_ARRAY:
        fputc('[', f);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i)
                fputc(',', f);
            frame_print_json(f, &o->via.array.ptr[i]);
        }
        fputc(']', f);
        break;
    case MSGPACK_OBJECT_MAP:
        fputc('{', f);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            if (i)
                fputc(',', f);
            frame_print_json(f, &o->via.map.ptr[i].key);
            fputc(':', f);
            frame_print_json(f, &o->via.map.ptr[i].val);
        }
        fputc('}', f);
        break;
    default: fputs("\"?\"", f); break;
    }
}

uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
        cap *= 2;
        uint8_t *b = realloc(buf, cap);
        if (!b) {
            free(buf);
            buf = NULL;
        }
        buf = b;
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}
