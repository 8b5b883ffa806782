/* Small pieces: the hash map, guest-string conversion, the syscall table, Windows name rules,
 * the output sink and the session file. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "session_file.h"
#include "sink.h"
#include "syscall_table.h"
#include "text.h"
#include "u64map.h"
#include "windows.h"

static void test_u64map(void)
{
    struct u64map m;
    u64map_init(&m);
    CHECK(u64map_find(&m, 5) == NULL);
    for (uint64_t k = 0; k < 10000; k++) {
        bool inserted;
        uint64_t *v = u64map_upsert(&m, k * 4096, &inserted);
        CHECK(v && inserted);
        *v = k + 1;
    }
    CHECK_EQ_U64(m.count, 10000);
    bool inserted = true;
    CHECK_EQ_U64(*u64map_upsert(&m, 4096 * 77, &inserted), 78);
    CHECK(!inserted);
    CHECK(u64map_find(&m, 4097) == NULL);
    CHECK(u64map_upsert(&m, UINT64_MAX, NULL) == NULL);  /* the reserved key */
    size_t cursor = 0, seen = 0;
    uint64_t k, v, sum = 0;
    while (u64map_next(&m, &cursor, &k, &v)) {
        seen++;
        sum += v;
    }
    CHECK_EQ_U64(seen, 10000);
    CHECK_EQ_U64(sum, 10000ull * 10001 / 2);
    u64map_free(&m);
}

static void test_text(void)
{
    char out[64];
    const uint8_t ascii[] = { 'C', 0, ':', 0, '\\', 0 };
    CHECK_EQ_U64(utf16le_to_utf8(ascii, sizeof ascii, out, sizeof out), 3);
    CHECK_STR(out, "C:\\");

    const uint8_t e_acute[] = { 0xE9, 0x00 };                  /* U+00E9 */
    utf16le_to_utf8(e_acute, sizeof e_acute, out, sizeof out);
    CHECK_STR(out, "\xC3\xA9");

    const uint8_t emoji[] = { 0x3D, 0xD8, 0x00, 0xDE };        /* U+1F600 as a surrogate pair */
    utf16le_to_utf8(emoji, sizeof emoji, out, sizeof out);
    CHECK_STR(out, "\xF0\x9F\x98\x80");

    const uint8_t lone[] = { 0x3D, 0xD8, 'x', 0, 0x00, 0xDE }; /* high then 'x', then a lone low */
    utf16le_to_utf8(lone, sizeof lone, out, sizeof out);
    CHECK_STR(out, "\xEF\xBF\xBD" "x" "\xEF\xBF\xBD");

    /* Truncation stays on a character boundary: 3 bytes of room for "é" (2) + NUL only. */
    const uint8_t two[] = { 0xE9, 0x00, 0xE9, 0x00 };
    CHECK_EQ_U64(utf16le_to_utf8(two, sizeof two, out, 4), 2);
    CHECK_STR(out, "\xC3\xA9");

    const uint8_t odd[] = { 'a', 0, 'b' };                     /* odd byte count: last byte ignored */
    utf16le_to_utf8(odd, sizeof odd, out, sizeof out);
    CHECK_STR(out, "a");

    const uint8_t name[16] = "sample.exe\0junk";
    ascii_to_utf8(name, sizeof name, out, sizeof out);
    CHECK_STR(out, "sample.exe");
    const uint8_t high[] = { 'a', 0xFF, 'b' };
    ascii_to_utf8(high, sizeof high, out, sizeof out);
    CHECK_STR(out, "a\xEF\xBF\xBD" "b");
}

static void test_table(const char *csv)
{
    struct syscall_table t;
    char err[256];
    CHECK(syscall_table_load(&t, csv, err, sizeof err) == 0);
    CHECK_STR(syscall_table_name(&t, 0x74), "NtOpenFile");
    CHECK_STR(syscall_table_name(&t, 0x25), "NtCreateFile");
    CHECK_STR(syscall_table_name(&t, 0x19), "NtClose");
    CHECK(syscall_table_name(&t, 0x1000) == NULL);
    CHECK(syscall_table_name(NULL, 1) == NULL);
    syscall_table_free(&t);

    CHECK(syscall_table_load(&t, "/nonexistent/table.csv", err, sizeof err) != 0);
    CHECK(strstr(err, "cannot open") != NULL);
    char path[] = "/tmp/ether-table-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, "number_hex,number,name\n0x0001,x,NtBad\n", 39) == 39);
    close(fd);
    CHECK(syscall_table_load(&t, path, err, sizeof err) != 0);
    CHECK(strstr(err, ":2: bad number") != NULL);
    unlink(path);

    CHECK(windows_object_attributes_arg("NtOpenFile") == 2);
    CHECK(windows_object_attributes_arg("NtDeleteFile") == 0);
    CHECK(windows_object_attributes_arg("NtReadFile") == -1);
    CHECK(windows_object_attributes_arg(NULL) == -1);
}

static void test_names(void)
{
    CHECK(windows_image_name_matches("sample.exe", "SAMPLE.EXE"));
    CHECK(!windows_image_name_matches("sample.exe", "sample"));
    CHECK(!windows_image_name_matches("sample", "sample.exe"));
    /* ImageFileName keeps 15 bytes: a longer wanted name matches on its first 15. */
    CHECK(windows_image_name_matches("averyveryveryl", "averyveryverylongname.exe") == false);
    CHECK(windows_image_name_matches("averyveryverylo", "averyveryverylongname.exe"));
}

static void test_sink(void)
{
    struct sink s;
    sink_init_memory(&s);
    CHECK(sink_write(&s, "abc", 3, NULL, NULL, NULL) == 0);
    CHECK(sink_write(&s, "defg", 4, NULL, NULL, NULL) == 0);
    CHECK_EQ_U64(s.mem_len, 7);
    CHECK(memcmp(s.mem, "abcdefg", 7) == 0);
    sink_free(&s);

    /* A pipe whose reader is gone: the write fails instead of killing us with SIGPIPE. */
    int p[2];
    CHECK(pipe(p) == 0);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    sink_init_fd(&s, p[1], 100);
    CHECK(sink_write(&s, "x", 1, NULL, NULL, NULL) == -1);
    close(p[1]);

    /* A pipe with room: everything arrives, in order, in chunks. */
    CHECK(pipe(p) == 0);
    sink_init_fd(&s, p[1], 100);
    uint8_t big[3000], back[3000];
    for (unsigned i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    CHECK(sink_write(&s, big, sizeof big, NULL, NULL, NULL) == 0);
    CHECK(read(p[0], back, sizeof back) == (ssize_t)sizeof back);
    CHECK(memcmp(big, back, sizeof big) == 0);
    close(p[0]);
    close(p[1]);

    char err[256];
    CHECK(sink_connect_unix(&s, "/nonexistent/ether.sock", 100, err, sizeof err) != 0);
    CHECK(strstr(err, "cannot connect") != NULL);
}

static void test_session_file(void)
{
    char path[] = "/tmp/ether-session-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    struct session_info info = { .domain = 9, .vcpus = 2, .word_size = 8, .capabilities = 0x1234 };
    strcpy(info.hypervisor, "xen test");
    strcpy(info.guest_os, "linux");
    char err[256];
    struct session_writer *w = session_writer_open(path, &info, err, sizeof err);
    CHECK(w != NULL);
    uint8_t pagebuf[4096];
    memset(pagebuf, 0xAB, sizeof pagebuf);
    vm_event_request_t req;
    memset(&req, 0, sizeof req);
    req.version = VM_EVENT_INTERFACE_VERSION;
    req.reason = VM_EVENT_REASON_SINGLESTEP;
    req.data.regs.x86.rip = 0x401000;
    CHECK(session_write_note(w, "hello") == 0);
    CHECK(session_write_page(w, 0x1234567890ull, pagebuf) == 0);
    CHECK(session_write_request(w, &req) == 0);
    CHECK(session_writer_close(w) == 0);

    struct session_info back;
    struct session_reader *r = session_reader_open(path, &back, err, sizeof err);
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ_U64(back.domain, 9);
        CHECK_EQ_U64(back.vcpus, 2);
        CHECK_EQ_U64(back.word_size, 8);
        CHECK_EQ_U64(back.capabilities, 0x1234);
        CHECK_STR(back.hypervisor, "xen test");
        struct session_record rec;
        CHECK(session_read_record(r, &rec, err, sizeof err) == 1 && rec.kind == SESSION_NOTE &&
              rec.length == 5 && memcmp(rec.data, "hello", 5) == 0);
        CHECK(session_read_record(r, &rec, err, sizeof err) == 1 && rec.kind == SESSION_PAGE &&
              rec.gfn == 0x1234567890ull && rec.data[4095] == 0xAB);
        CHECK(session_read_record(r, &rec, err, sizeof err) == 1 && rec.kind == SESSION_REQUEST &&
              ((const vm_event_request_t *)rec.data)->data.regs.x86.rip == 0x401000);
        CHECK(session_read_record(r, &rec, err, sizeof err) == 0);
        session_reader_close(r);
    }

    /* A truncated file is reported, not misread. */
    CHECK(truncate(path, 100 + 8 + 2000) == 0);
    r = session_reader_open(path, &back, err, sizeof err);
    CHECK(r != NULL);
    if (r) {
        struct session_record rec;
        int rc;
        while ((rc = session_read_record(r, &rec, err, sizeof err)) == 1)
            ;
        CHECK(rc == -1);
        CHECK(strstr(err, "truncated") != NULL);
        session_reader_close(r);
    }
    /* Not a session at all. */
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(write(fd, "MZ\x90\x00 not a session", 19) == 19);
    close(fd);
    CHECK(session_reader_open(path, &back, err, sizeof err) == NULL);
    CHECK(strstr(err, "not an ether session file") != NULL);
    unlink(path);
}

int main(int argc, char **argv)
{
    test_u64map();
    test_text();
    test_table(argc > 1 ? argv[1] : "tests/data/x86_nt_winxp_sp2.csv");
    test_names();
    test_sink();
    test_session_file();
    return check_report("units");
}
