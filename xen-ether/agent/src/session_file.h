/*
 * session_file.h: the replay session file (what `--replay FILE` reads, what make-synthetic-session
 * and `--record-session FILE` write).
 *
 * Little-endian throughout.  Header:
 *   magic "ETHSESS1" (8 bytes), u32 format version (1), u32 VM_EVENT_INTERFACE_VERSION,
 *   u32 sizeof(vm_event_request_t), u32 domain, u32 vcpus, u32 guest word size (4/8),
 *   u32 monitor capability mask, char hypervisor[32], char guest_os[32]  (NUL-padded)
 * then records until end of file, each: u32 kind, u32 length, length bytes:
 *   1 PAGE     u64 gfn + 4096 bytes: guest-physical page contents from this point of the session on
 *   2 REQUEST  one vm_event_request_t exactly as it sat in the ring (x86-64 layout)
 *   3 NOTE     UTF-8 text for people reading the file; the agent skips it
 * Pages and requests interleave in time order: a PAGE after a REQUEST shows memory as the next
 * requests see it (e.g. the bytes a trapped write put there).
 */
#ifndef ETHER_SESSION_FILE_H
#define ETHER_SESSION_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "xen_headers.h"

#define SESSION_MAGIC "ETHSESS1"
#define SESSION_FORMAT_VERSION 1
#define SESSION_PAGE_SIZE 4096u

enum session_record_kind {
    SESSION_PAGE = 1,
    SESSION_REQUEST = 2,
    SESSION_NOTE = 3,
};

struct session_info {
    uint32_t domain;
    uint32_t vcpus;
    uint32_t word_size;
    uint32_t capabilities;
    char hypervisor[32];
    char guest_os[32];
};

struct session_writer;
struct session_writer *session_writer_open(const char *path, const struct session_info *info,
                                           char *err, size_t errlen);
int session_write_page(struct session_writer *w, uint64_t gfn, const void *page);
int session_write_request(struct session_writer *w, const vm_event_request_t *req);
int session_write_note(struct session_writer *w, const char *text);
/* 0 when everything reached the file. */
int session_writer_close(struct session_writer *w);

struct session_record {
    enum session_record_kind kind;
    uint64_t gfn;           /* PAGE */
    const uint8_t *data;    /* PAGE: 4096 bytes; REQUEST: the struct; NOTE: text (not NUL-terminated) */
    uint32_t length;
};

struct session_reader;
struct session_reader *session_reader_open(const char *path, struct session_info *info, char *err,
                                           size_t errlen);
/* 1 and *rec (valid until the next call), 0 at end of file, -1 on a damaged file (err set). */
int session_read_record(struct session_reader *r, struct session_record *rec, char *err,
                        size_t errlen);
void session_reader_close(struct session_reader *r);

#endif
