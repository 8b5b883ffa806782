/* text.h: turning guest strings into valid UTF-8 for frames. */
#ifndef ETHER_TEXT_H
#define ETHER_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * UTF-16LE (Windows UNICODE_STRING) to UTF-8, NUL-terminated, truncated on a character boundary
 * to fit out_cap.  Unpaired surrogates become U+FFFD: guest strings are hostile, and a consumer
 * must never receive malformed UTF-8.  Returns the length written (without the NUL).
 */
size_t utf16le_to_utf8(const uint8_t *in, size_t in_bytes, char *out, size_t out_cap);

/* Bytes (e.g. EPROCESS.ImageFileName) up to the first NUL, non-ASCII as U+FFFD; same contract. */
size_t ascii_to_utf8(const uint8_t *in, size_t in_bytes, char *out, size_t out_cap);

#endif
