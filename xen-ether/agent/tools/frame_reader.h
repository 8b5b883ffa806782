/*
 * frame_reader.h: decoding the agent's frame stream (docs/xen-agent-protocol.md) with msgpack-c.
 * Used by ether-frame-dump and the tests; it checks the framing rules a consumer relies on: a
 * 4-byte big-endian length no larger than the maximum, then exactly one MessagePack map of that
 * many bytes with a string "type" and an unsigned "seq".
 */
#ifndef ETHER_FRAME_READER_H
#define ETHER_FRAME_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

struct decoded_frame {
    msgpack_unpacked unpacked;  /* owns the zone */
    const msgpack_object *map;  /* the frame's top-level map */
    char type[32];
    uint64_t seq;
    size_t bytes;               /* body length from the prefix */
};

struct frame_list {
    struct decoded_frame *frames;
    size_t count;
};

/* Decodes every frame in buf.  0, or -1 with a reason in err (what a consumer would reject). */
int frames_decode(const uint8_t *buf, size_t len, struct frame_list *out, char *err, size_t errlen);
void frames_free(struct frame_list *l);

/* Lookups in a map; NULL / false when the key is missing or has another type. */
const msgpack_object *frame_get(const msgpack_object *map, const char *key);
bool frame_get_uint(const msgpack_object *map, const char *key, uint64_t *v);
bool frame_get_bool(const msgpack_object *map, const char *key, bool *v);
bool frame_is_nil(const msgpack_object *map, const char *key);
/* Compares a string value; false if missing. */
bool frame_str_eq(const msgpack_object *map, const char *key, const char *want);
/* Copies a string value (NUL-terminated, truncated); false if missing. */
bool frame_get_str(const msgpack_object *map, const char *key, char *out, size_t cap);
bool frame_get_bin(const msgpack_object *map, const char *key, const uint8_t **data, size_t *len);
/* The frame's "regs" map entry for one register. */
bool frame_get_reg(const msgpack_object *map, const char *reg, uint64_t *v);

/* One frame as a JSON object on one line (bin values as lowercase hex strings). */
void frame_print_json(FILE *f, const msgpack_object *o);

/* Reads a whole file (or stdin for "-"); NULL on error. */
uint8_t *read_all(const char *path, size_t *len);

#endif
