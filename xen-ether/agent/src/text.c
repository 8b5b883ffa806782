#include "text.h"

#include <string.h>

static size_t put_code_point(uint32_t cp, char *out, size_t at, size_t cap)
{
    char buf[4];
    size_t n;
    if (cp < 0x80) {
        buf[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        buf[0] = (char)(0xF0 | (cp >> 18));
        buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (at + n + 1 > cap)
        return 0;  /* would not fit with the NUL: stop on a character boundary */
    memcpy(out + at, buf, n);
    return n;
}

size_t utf16le_to_utf8(const uint8_t *in, size_t in_bytes, char *out, size_t out_cap)
{
    size_t at = 0;
    if (out_cap == 0)
        return 0;
    size_t units = in_bytes / 2;
    for (size_t i = 0; i < units; i++) {
        uint32_t u = (uint32_t)in[2 * i] | ((uint32_t)in[2 * i + 1] << 8);
        uint32_t cp = u;
        if (u >= 0xD800 && u <= 0xDBFF) {
            uint32_t low = 0;
            if (i + 1 < units)
                low = (uint32_t)in[2 * i + 2] | ((uint32_t)in[2 * i + 3] << 8);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
                i++;
            } else {
                cp = 0xFFFD;
            }
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            cp = 0xFFFD;
        }
        size_t n = put_code_point(cp, out, at, out_cap);
        if (n == 0)
            break;
        at += n;
    }
    out[at] = '\0';
    return at;
}

size_t ascii_to_utf8(const uint8_t *in, size_t in_bytes, char *out, size_t out_cap)
{
    size_t at = 0;
    if (out_cap == 0)
        return 0;
    for (size_t i = 0; i < in_bytes && in[i] != 0; i++) {
        size_t n = put_code_point(in[i] < 0x80 ? in[i] : 0xFFFD, out, at, out_cap);
        if (n == 0)
            break;
        at += n;
    }
    out[at] = '\0';
    return at;
}
