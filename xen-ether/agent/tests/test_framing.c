/* Framing: what frame.c encodes, frame_reader decodes to the same values; the prefix is a
 * big-endian length; broken streams are rejected; a wrong key count stops the agent. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "frame.h"
#include "frame_reader.h"

static void test_round_trip(void)
{
    struct frame f;
    frame_init(&f);
    static const uint64_t uints[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 0xFFFFFFFFull,
                                      0x100000000ull, UINT64_MAX };
    static uint8_t page[4096];
    for (unsigned i = 0; i < sizeof page; i++)
        page[i] = (uint8_t)(i ^ 0xA5);
    char long_str[70000];
    memset(long_str, 'x', sizeof long_str - 1);
    long_str[sizeof long_str - 1] = '\0';
    struct vm_event_regs_x86 regs;
    memset(&regs, 0, sizeof regs);
    regs.rax = 0x74;
    regs.rsp = 0x12F7C0;
    regs.rip = 0x7C90EB8D;
    regs.r15 = UINT64_MAX;
    regs.cs_sel = 0x1b;
    regs.cr3 = 0x100000;
    regs.msr_efer = 0xD01;

    frame_begin(&f, "test", 42, 12);
    for (unsigned i = 0; i < 3; i++) {
        char key[8];
        snprintf(key, sizeof key, "u%u", i);
        frame_uint(&f, key, uints[i * 5]);
    }
    frame_uint_array(&f, "uints", uints, sizeof uints / sizeof uints[0]);
    frame_int(&f, "neg", -5);
    frame_bool(&f, "yes", true);
    frame_nil(&f, "nothing");
    frame_str(&f, "empty", "");
    frame_str(&f, "long", long_str);
    frame_bin(&f, "page", page, sizeof page);
    frame_bin(&f, "nobytes", NULL, 0);
    frame_regs(&f, "regs", &regs);
    size_t n = frame_end(&f);
    const uint8_t *d = frame_data(&f);
    CHECK_EQ_U64(((size_t)d[0] << 24 | (size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3]), n - 4);
    CHECK(n - 4 > 70000 + 4096);  /* needed the 4-byte length, not just 16 bits */

    /* Two frames back to back. */
    uint8_t *stream = malloc(2 * n);
    memcpy(stream, d, n);
    frame_begin(&f, "second", 43, 0);
    size_t n2 = frame_end(&f);
    memcpy(stream + n, frame_data(&f), n2);

    struct frame_list l;
    char err[256];
    CHECK(frames_decode(stream, n + n2, &l, err, sizeof err) == 0);
    CHECK_EQ_U64(l.count, 2);
    if (l.count == 2) {
        const msgpack_object *m = l.frames[0].map;
        CHECK_STR(l.frames[0].type, "test");
        CHECK_EQ_U64(l.frames[0].seq, 42);
        CHECK_EQ_U64(m->via.map.size, 14);
        uint64_t v;
        CHECK(frame_get_uint(m, "u0", &v) && v == 0);
        CHECK(frame_get_uint(m, "u1", &v) && v == 256);
        CHECK(frame_get_uint(m, "u2", &v) && v == UINT64_MAX);
        const msgpack_object *arr = frame_get(m, "uints");
        CHECK(arr && arr->type == MSGPACK_OBJECT_ARRAY && arr->via.array.size == 11);
        for (unsigned i = 0; arr && i < arr->via.array.size; i++)
            CHECK_EQ_U64(arr->via.array.ptr[i].via.u64, uints[i]);
        const msgpack_object *neg = frame_get(m, "neg");
        CHECK(neg && neg->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && neg->via.i64 == -5);
        bool b;
        CHECK(frame_get_bool(m, "yes", &b) && b);
        CHECK(frame_is_nil(m, "nothing"));
        CHECK(frame_str_eq(m, "empty", ""));
        CHECK(frame_str_eq(m, "long", long_str));
        const uint8_t *bin;
        size_t blen;
        CHECK(frame_get_bin(m, "page", &bin, &blen) && blen == 4096 && memcmp(bin, page, 4096) == 0);
        CHECK(frame_get_bin(m, "nobytes", &bin, &blen) && blen == 0);
        CHECK(frame_get_reg(m, "rax", &v) && v == 0x74);
        CHECK(frame_get_reg(m, "rip", &v) && v == 0x7C90EB8D);
        CHECK(frame_get_reg(m, "r15", &v) && v == UINT64_MAX);
        CHECK(frame_get_reg(m, "cs", &v) && v == 0x1b);
        CHECK(frame_get_reg(m, "cr3", &v) && v == 0x100000);
        CHECK(frame_get_reg(m, "efer", &v) && v == 0xD01);
        const msgpack_object *r = frame_get(m, "regs");
        CHECK(r && r->via.map.size == FRAME_REG_COUNT);
        CHECK_STR(l.frames[1].type, "second");
        CHECK_EQ_U64(l.frames[1].map->via.map.size, 2);
    }
    frames_free(&l);

    /* What a consumer must reject. */
    CHECK(frames_decode(stream, n - 1, &l, err, sizeof err) != 0 && strstr(err, "truncated"));
    CHECK(frames_decode(stream, 3, &l, err, sizeof err) != 0 && strstr(err, "stray"));
    uint8_t huge[8] = { 0x00, 0x20, 0x00, 0x00, 0x80, 0, 0, 0 };   /* 2 MiB > maximum */
    CHECK(frames_decode(huge, sizeof huge, &l, err, sizeof err) != 0 && strstr(err, "out of range"));
    uint8_t not_map[5] = { 0, 0, 0, 1, 0x05 };                       /* a bare integer */
    CHECK(frames_decode(not_map, sizeof not_map, &l, err, sizeof err) != 0);
    uint8_t extra[7] = { 0, 0, 0, 3, 0x80, 0xC0, 0xC0 };             /* {} then junk inside */
    CHECK(frames_decode(extra, sizeof extra, &l, err, sizeof err) != 0 && strstr(err, "exactly one"));
    free(stream);
    frame_free(&f);
}

static void test_key_count_guard(void)
{
    /* A frame whose map header disagrees with its keys would corrupt the stream for the
     * consumer: the agent aborts instead. */
    pid_t pid = fork();
    if (pid == 0) {
        struct frame f;
        frame_init(&f);
        freopen("/dev/null", "w", stderr);
        frame_begin(&f, "bad", 1, 2);
        frame_uint(&f, "only_one", 1);
        frame_end(&f);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int main(void)
{
    test_round_trip();
    test_key_count_guard();
    return check_report("framing");
}
