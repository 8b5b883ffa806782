#include "windows.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

const struct winxp_offsets WINXP_SP2_X86 = {
    .kpcr_current_thread = 0x124,
    .kthread_apc_process = 0x44,
    .eprocess_dtb = 0x18,
    .eprocess_pid = 0x84,
    .eprocess_image_name = 0x174,
};

int winxp_current_process(const struct guest_memory *gm, const struct paging *pg, uint64_t kpcr,
                          const struct winxp_offsets *off, struct windows_process *out)
{
    uint32_t thread, process, dtb, pid;
    uint8_t name[16];

    if (gm_read_u32(gm, pg, kpcr + off->kpcr_current_thread, &thread) || thread == 0)
        return -1;
    if (gm_read_u32(gm, pg, (uint64_t)thread + off->kthread_apc_process, &process) || process == 0)
        return -1;
    if (gm_read_u32(gm, pg, (uint64_t)process + off->eprocess_dtb, &dtb) ||
        gm_read_u32(gm, pg, (uint64_t)process + off->eprocess_pid, &pid) ||
        gm_read(gm, pg, (uint64_t)process + off->eprocess_image_name, name, sizeof name) != sizeof name)
        return -1;

    name[15] = 0;
    out->eprocess = process;
    out->dtb = dtb;
    out->pid = pid;
    ascii_to_utf8(name, sizeof name, out->name, sizeof out->name);
    return 0;
}

bool windows_image_name_matches(const char *image_name, const char *wanted)
{
    size_t i = 0;
    for (; i < 15 && wanted[i]; i++) {
        if (tolower((unsigned char)image_name[i]) != tolower((unsigned char)wanted[i]))
            return false;
    }
    return i == 15 || image_name[i] == '\0';
}

int windows_object_name(const struct guest_memory *gm, const struct paging *pg, unsigned width,
                        uint64_t object_attributes, char *out, size_t out_cap, size_t max_bytes)
{
    /* OBJECT_ATTRIBUTES { ULONG Length; HANDLE RootDirectory; PUNICODE_STRING ObjectName; ... } */
    uint32_t length;
    uint64_t name_ptr, buffer;
    uint16_t len, max_len;
    uint32_t expected = width == 8 ? 48 : 24;

    if (object_attributes == 0)
        return -1;
    if (gm_read_u32(gm, pg, object_attributes, &length) || length != expected)
        return -1;
    if (gm_read_ptr(gm, pg, object_attributes + 2 * width, width, &name_ptr) || name_ptr == 0)
        return -1;
    /* UNICODE_STRING { USHORT Length; USHORT MaximumLength; PWSTR Buffer; } (Buffer aligned) */
    if (gm_read_u16(gm, pg, name_ptr, &len) || gm_read_u16(gm, pg, name_ptr + 2, &max_len) ||
        gm_read_ptr(gm, pg, name_ptr + width, width, &buffer))
        return -1;
    if ((len & 1) || len > max_len || (len && buffer == 0))
        return -1;

    size_t want = len < max_bytes ? len : max_bytes;
    uint8_t *raw = malloc(want ? want : 1);
    if (!raw)
        return -1;
    size_t got = gm_read(gm, pg, buffer, raw, want);
    if (got != want) {
        free(raw);
        return -1;
    }
    utf16le_to_utf8(raw, got, out, out_cap);
    free(raw);
    return 0;
}
