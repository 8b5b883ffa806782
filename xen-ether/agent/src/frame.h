/*
 * frame.h: building one protocol frame (docs/xen-agent-protocol.md): a 4-byte big-endian length,
 * then one MessagePack map with string keys.  Encoding is msgpack-c's; this file only fixes the
 * layout and checks that every frame has exactly as many keys as its map header announced.
 */
#ifndef ETHER_FRAME_H
#define ETHER_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "xen_headers.h"

#define FRAME_PREFIX_BYTES 4
/* No frame the agent writes comes near this; a reader may reject anything longer. */
#define FRAME_MAX_BYTES (1u << 20)

struct frame {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint32_t keys_expected;
    uint32_t keys_written;
};

void frame_init(struct frame *f);
void frame_free(struct frame *f);

/* Starts a frame whose map has "type", "seq" and extra_keys more keys. */
void frame_begin(struct frame *f, const char *type, uint64_t seq, uint32_t extra_keys);
void frame_uint(struct frame *f, const char *key, uint64_t v);
void frame_int(struct frame *f, const char *key, int64_t v);
void frame_bool(struct frame *f, const char *key, bool v);
void frame_nil(struct frame *f, const char *key);
void frame_str(struct frame *f, const char *key, const char *s);
void frame_bin(struct frame *f, const char *key, const void *data, size_t len);
void frame_uint_array(struct frame *f, const char *key, const uint64_t *v, size_t n);
/* "key": array of n byte strings. */
void frame_bin_array(struct frame *f, const char *key, const uint8_t *const *data, const size_t *lens,
                     size_t n);
/* "key": map of the general registers (names as in docs/xen-agent-protocol.md). */
void frame_regs(struct frame *f, const char *key, const struct vm_event_regs_x86 *r);
/* "key": a nested map with n keys; the n keys that follow belong to it. */
void frame_map(struct frame *f, const char *key, uint32_t n);
/* Finishes the frame (fills in the length).  Returns the bytes, prefix included. */
size_t frame_end(struct frame *f);

const uint8_t *frame_data(const struct frame *f);

/* Number of registers frame_regs writes, and their names in order. */
#define FRAME_REG_COUNT 30
extern const char *const FRAME_REG_NAMES[FRAME_REG_COUNT];

#endif
