/*
 * The synthetic Windows XP SP2 session through the whole pipeline (replay backend -> tracer ->
 * frames), checked against the facts the session was built from (synthetic_guest.h):
 *   1. in process, with every option on;
 *   2. the ether-agent binary on the same file: byte-identical frames;
 *   3. recorded again through session_recorder and replayed: the same frames;
 *   4. --user-only drops kernel steps; --cr3 gives the same sample frames as --process.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "ether_abi.h"
#include "frame_reader.h"
#include "sink.h"
#include "synthetic_guest.h"
#include "syscall_table.h"
#include "tracer.h"

static const char *session, *table_path, *agent, *workdir;
static struct syscall_table table;

/* Runs the pipeline in process; returns the frame bytes (malloc'd) and the replay actions. */
static uint8_t *run(const char *path, const struct tracer_options *opt, size_t *len,
                    const char *record_to, struct replay_action **actions, size_t *nactions)
{
    char err[256];
    struct backend *replay = replay_backend_open(path, err, sizeof err);
    CHECK(replay != NULL);
    if (!replay) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    struct backend *be = replay;
    if (record_to) {
        be = session_recorder_wrap(replay, record_to, err, sizeof err);
        CHECK(be != NULL);
    }
    struct sink out;
    sink_init_memory(&out);
    struct tracer *t = tracer_new(be, &out, opt);
    CHECK(tracer_start(t) == 0);
    int rc;
    while ((rc = tracer_poll(t, 0)) == BACKEND_REQUEST)
        ;
    CHECK(rc == BACKEND_FINISHED);
    CHECK(tracer_finish(t, "replay-finished") == 0);
    if (actions) {
        const struct replay_action *a;
        *nactions = replay_backend_actions(replay, &a);
        *actions = malloc(*nactions * sizeof **actions + 1);
        memcpy(*actions, a, *nactions * sizeof **actions);
    }
    tracer_free(t);
    backend_close(be);
    *len = out.mem_len;
    return out.mem;
}

static struct tracer_options full_options(void)
{
    struct tracer_options o = { .singlestep = true, .syscalls = true, .memwrites = true,
                                .unpack = true, .process = SYN_SAMPLE_NAME,
                                .guest = GUEST_WINXP_SP2, .timeout_ms = 10000, .table = &table,
                                .table_path = table_path };
    return o;
}

static unsigned count(const struct frame_list *l, const char *type)
{
    unsigned n = 0;
    for (size_t i = 0; i < l->count; i++)
        n += strcmp(l->frames[i].type, type) == 0;
    return n;
}

static void check_full_session(const uint8_t *buf, size_t len, const struct replay_action *acts,
                               size_t nacts)
{
    struct frame_list l;
    char err[256];
    CHECK(frames_decode(buf, len, &l, err, sizeof err) == 0);
    if (l.count == 0)
        return;
    uint64_t v;
    bool b;

    /* Frame order and sequence numbers. */
    CHECK_STR(l.frames[0].type, "hello");
    CHECK_STR(l.frames[l.count - 1].type, "end");
    for (size_t i = 0; i < l.count; i++)
        CHECK_EQ_U64(l.frames[i].seq, i);
    CHECK(frame_get_uint(l.frames[0].map, "domain", &v) && v == SYN_DOMAIN);
    CHECK(frame_str_eq(l.frames[0].map, "backend", "replay"));
    CHECK(frame_str_eq(l.frames[l.count - 1].map, "reason", "replay-finished"));

    /* Processes: sample.exe (the target) first, then explorer.exe. */
    CHECK_EQ_U64(count(&l, "process"), 2);
    CHECK_STR(l.frames[1].type, "process");
    CHECK(frame_str_eq(l.frames[1].map, "name", SYN_SAMPLE_NAME));
    CHECK(frame_get_uint(l.frames[1].map, "pid", &v) && v == SYN_SAMPLE_PID);
    CHECK(frame_get_uint(l.frames[1].map, "cr3", &v) && v == SYN_SAMPLE_CR3);
    CHECK(frame_get_bool(l.frames[1].map, "target", &b) && b);

    /* The sample is scheduled in, out (to explorer) and in again. */
    CHECK_EQ_U64(count(&l, "switch"), 3);
    static const uint64_t to[] = { SYN_SAMPLE_CR3, SYN_EXPLORER_CR3, SYN_SAMPLE_CR3 };
    unsigned sw = 0;
    for (size_t i = 0; i < l.count && sw < 3; i++)
        if (strcmp(l.frames[i].type, "switch") == 0)
            CHECK(frame_get_uint(l.frames[i].map, "to", &v) && v == to[sw++]);

    /* System calls of the sample, in order, each paired with its return; explorer's is filtered. */
    static const uint64_t numbers[] = { SYN_NR_NtAllocateVirtualMemory, SYN_NR_NtOpenFile,
                                        SYN_NR_NtReadFile, SYN_NR_NtClose };
    static const char *const names[] = { "NtAllocateVirtualMemory", "NtOpenFile", "NtReadFile",
                                         "NtClose" };
    /* Read by the agent from each ntdll stub's "ret 4*argc". */
    static const uint64_t arg_counts[] = { 6, 6, 9, 1 };
    CHECK_EQ_U64(count(&l, "syscall"), SYN_SYSCALLS);
    CHECK_EQ_U64(count(&l, "syscall_return"), SYN_SYSCALLS);
    unsigned call = 0;
    uint64_t last_entry_seq = 0;
    for (size_t i = 0; i < l.count; i++) {
        const msgpack_object *m = l.frames[i].map;
        if (strcmp(l.frames[i].type, "process") == 0 && frame_str_eq(m, "name", SYN_EXPLORER_NAME))
            CHECK(frame_get_bool(m, "target", &b) && !b);
        if (strcmp(l.frames[i].type, "syscall") == 0 && call < SYN_SYSCALLS) {
            CHECK(frame_get_uint(m, "number", &v) && v == numbers[call]);
            CHECK(frame_str_eq(m, "name", names[call]));
            CHECK(frame_get_uint(m, "cr3", &v) && v == SYN_SAMPLE_CR3);
            CHECK(frame_get_uint(m, "rip", &v) && v == SYN_SYSENTER_RIP);
            CHECK(frame_str_eq(m, "mechanism", "sysenter"));
            CHECK(frame_get_uint(m, "arg_count", &v) && v == arg_counts[call]);
            const msgpack_object *a = frame_get(m, "args");
            CHECK(a && a->type == MSGPACK_OBJECT_ARRAY && a->via.array.size >= 9);
            if (a && numbers[call] == SYN_NR_NtAllocateVirtualMemory) {
                CHECK_EQ_U64(a->via.array.ptr[0].via.u64, 0xFFFFFFFFu);   /* NtCurrentProcess() */
                CHECK_EQ_U64(a->via.array.ptr[4].via.u64, 0x3000);        /* MEM_COMMIT|RESERVE */
                CHECK_EQ_U64(a->via.array.ptr[5].via.u64, 0x40);          /* PAGE_EXECUTE_READWRITE */
            }
            if (a && numbers[call] == SYN_NR_NtOpenFile) {
                CHECK_EQ_U64(a->via.array.ptr[2].via.u64, SYN_OBJECT_ATTRIBUTES_VA);
                CHECK(frame_str_eq(m, "object_name", SYN_OPEN_PATH));
            }
            if (a && numbers[call] == SYN_NR_NtReadFile) {
                CHECK_EQ_U64(a->via.array.ptr[0].via.u64, SYN_FILE_HANDLE);
                CHECK_EQ_U64(a->via.array.ptr[5].via.u64, SYN_READ_BUFFER_VA);
                CHECK_EQ_U64(a->via.array.ptr[6].via.u64, 0x200);
            }
            if (a && numbers[call] == SYN_NR_NtClose)
                CHECK_EQ_U64(a->via.array.ptr[0].via.u64, SYN_FILE_HANDLE);
            last_entry_seq = l.frames[i].seq;
        }
        if (strcmp(l.frames[i].type, "syscall_return") == 0 && call < SYN_SYSCALLS) {
            CHECK(frame_get_uint(m, "number", &v) && v == numbers[call]);
            CHECK(frame_get_uint(m, "entry_seq", &v) && v == last_entry_seq);
            CHECK(frame_get_uint(m, "ret", &v) && v == 0);
            CHECK(frame_get_uint(m, "rip", &v) && v == SYN_KIFASTSYSTEMCALLRET);
            call++;
        }
    }
    CHECK_EQ_U64(call, SYN_SYSCALLS);

    /* The single-step stretch: every step, instruction bytes from guest memory. */
    CHECK_EQ_U64(count(&l, "step"), SYN_STEPS(SYN_DEFAULT_LOOP_BYTES) + SYN_SYSCALL_STEPS);
    unsigned writes = 0;
    uint64_t first_write_seq = 0;
    bool saw_unpack = false;
    for (size_t i = 0; i < l.count; i++) {
        const msgpack_object *m = l.frames[i].map;
        const uint8_t *bin;
        size_t blen;
        if (strcmp(l.frames[i].type, "step") == 0 && frame_get_uint(m, "rip", &v)) {
            CHECK(frame_get_bin(m, "insn", &bin, &blen) && blen == 15);
            if (v == SYN_LOOP_WRITE_RIP)
                CHECK(blen >= 2 && bin[0] == 0x88 && bin[1] == 0x07);        /* mov [edi], al */
            if (v == SYN_CODE_VA)
                CHECK(blen >= 5 && bin[0] == 0xBE);                          /* mov esi, imm32 */
            if (v == SYN_KIFASTCALLENTRY)
                CHECK(frame_get_reg(m, "cs", &v) && v == 0x08);              /* kernel step */
        }
        if (strcmp(l.frames[i].type, "memory_write") == 0) {
            static const uint8_t code[] = SYN_LAYER_CODE;
            CHECK(frame_get_uint(m, "address", &v) && v == SYN_LAYER_VA + writes);
            CHECK(frame_get_uint(m, "gfn", &v) && v == SYN_GFN_LAYER);
            CHECK(frame_get_uint(m, "rip", &v) && v == SYN_LOOP_WRITE_RIP);
            CHECK(frame_get_bin(m, "bytes", &bin, &blen) && blen == 16 && bin[0] == code[writes]);
            CHECK(frame_get_bin(m, "insn", &bin, &blen) && blen == 15 && bin[0] == 0x88);
            if (writes == 0)
                first_write_seq = l.frames[i].seq;
            writes++;
        }
        if (strcmp(l.frames[i].type, "unpack") == 0) {
            static const uint8_t code[] = SYN_LAYER_CODE;
            saw_unpack = true;
            CHECK(frame_get_uint(m, "address", &v) && v == SYN_LAYER_VA);
            CHECK(frame_get_uint(m, "rip", &v) && v == SYN_LAYER_VA);
            CHECK(frame_get_uint(m, "layer", &v) && v == 1);
            CHECK(frame_get_uint(m, "write_rip", &v) && v == SYN_LOOP_WRITE_RIP);
            CHECK(frame_get_uint(m, "write_seq", &v) && v == first_write_seq);
            CHECK(frame_get_bin(m, "page", &bin, &blen) && blen == 4096 &&
                  memcmp(bin, code, sizeof code) == 0);
            /* The first step after it is inside the new layer. */
            CHECK(i + 1 < l.count && strcmp(l.frames[i + 1].type, "step") == 0);
        }
    }
    CHECK_EQ_U64(writes, SYN_DEFAULT_LOOP_BYTES);
    CHECK(saw_unpack);
    CHECK_EQ_U64(count(&l, "unpack"), 1);
    CHECK_EQ_U64(count(&l, "stall"), 0);

    /* What the tracer asked of the backend: the sample's 3 writable pages trapped, and an answer
     * to every request. */
    unsigned protected = 0, responses = 0, toggles = 0;
    uint64_t requests = 0;
    for (size_t i = 0; i < nacts; i++) {
        if (acts[i].kind == REPLAY_ACCESS && acts[i].access == PAGE_ACCESS_RX &&
            acts[i].request_index == 1)
            protected++;
        if (acts[i].kind == REPLAY_RESPONSE) {
            responses++;
            toggles += (acts[i].flags & VM_EVENT_FLAG_TOGGLE_SINGLESTEP) != 0;
            CHECK(acts[i].flags & VM_EVENT_FLAG_VCPU_PAUSED);
        }
        if (acts[i].request_index > requests)
            requests = acts[i].request_index;
    }
    CHECK_EQ_U64(protected, SYN_WRITABLE_USER_PAGES);
    CHECK_EQ_U64(responses, requests);
    CHECK(frame_get_uint(l.frames[l.count - 1].map, "requests", &v) && v == requests);
    /* On at the switch to the sample, off to explorer, on again when back. */
    CHECK_EQ_U64(toggles, 3);
    frames_free(&l);
}

static uint8_t *run_agent(const char *const *extra, size_t *len, int *status)
{
    char out_path[512], cmd[4096];
    snprintf(out_path, sizeof out_path, "%s/replay-agent.out", workdir);
    int n = snprintf(cmd, sizeof cmd, "'%s' --replay '%s'", agent, session);
    for (size_t i = 0; extra[i]; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " '%s'", extra[i]);
    snprintf(cmd + n, sizeof cmd - (size_t)n, " > '%s'", out_path);
    *status = system(cmd);
    return read_all(out_path, len);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: test_replay_session SESSION TABLE AGENT WORKDIR\n");
        return 2;
    }
    session = argv[1];
    table_path = argv[2];
    agent = argv[3];
    workdir = argv[4];
    char err[256];
    if (syscall_table_load(&table, table_path, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }

    /* 1. In process. */
    struct tracer_options o = full_options();
    size_t len;
    struct replay_action *acts;
    size_t nacts;
    uint8_t *frames = run(session, &o, &len, NULL, &acts, &nacts);
    check_full_session(frames, len, acts, nacts);
    free(acts);

    /* 2. The same through the command line. */
    const char *const args[] = { "--domain", "7", "--process", SYN_SAMPLE_NAME, "--singlestep",
                                 "--syscalls", "--memwrites", "--unpack", "--syscall-table",
                                 table_path, NULL };
    size_t cli_len;
    int status;
    uint8_t *cli = run_agent(args, &cli_len, &status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(cli && cli_len == len && memcmp(cli, frames, len) == 0);
    free(cli);

    /* 3. Recorded again while replaying, then replayed: the same frames. */
    char recorded[512];
    snprintf(recorded, sizeof recorded, "%s/re-recorded-session.bin", workdir);
    size_t len1, len2;
    uint8_t *f1 = run(session, &o, &len1, recorded, NULL, NULL);
    uint8_t *f2 = run(recorded, &o, &len2, NULL, NULL, NULL);
    /* The hello frame names the backend and hypervisor of each; compare from frame 1 on. */
    size_t skip1 = 4 + ((size_t)f1[0] << 24 | (size_t)f1[1] << 16 | (size_t)f1[2] << 8 | f1[3]);
    size_t skip2 = 4 + ((size_t)f2[0] << 24 | (size_t)f2[1] << 16 | (size_t)f2[2] << 8 | f2[3]);
    CHECK(len1 - skip1 == len2 - skip2 && memcmp(f1 + skip1, f2 + skip2, len1 - skip1) == 0);
    CHECK(len1 == len && memcmp(f1, frames, len) == 0);
    free(f1);
    free(f2);

    /* 4a. --user-only: the kernel step after sysenter is dropped, the user ones stay. */
    struct tracer_options u = full_options();
    u.user_only = true;
    size_t ulen;
    uint8_t *uf = run(session, &u, &ulen, NULL, NULL, NULL);
    struct frame_list l;
    CHECK(frames_decode(uf, ulen, &l, err, sizeof err) == 0);
    CHECK_EQ_U64(count(&l, "step"), SYN_STEPS(SYN_DEFAULT_LOOP_BYTES) + SYN_SYSCALL_STEPS - 1);
    for (size_t i = 0; i < l.count; i++) {
        uint64_t cs;
        if (strcmp(l.frames[i].type, "step") == 0)
            CHECK(frame_get_reg(l.frames[i].map, "cs", &cs) && (cs & 3) == 3);
    }
    frames_free(&l);
    free(uf);

    /* 4b. --cr3 of the sample: the same calls, steps, writes and unpack as --process. */
    struct tracer_options c = full_options();
    c.process = NULL;
    c.have_cr3 = true;
    c.cr3 = SYN_SAMPLE_CR3;
    size_t clen;
    uint8_t *cf = run(session, &c, &clen, NULL, NULL, NULL);
    struct frame_list a, bl;
    CHECK(frames_decode(cf, clen, &a, err, sizeof err) == 0);
    CHECK(frames_decode(frames, len, &bl, err, sizeof err) == 0);
    static const char *const kinds[] = { "syscall", "syscall_return", "step", "memory_write",
                                         "unpack", "switch" };
    for (unsigned k = 0; k < 6; k++)
        CHECK_EQ_U64(count(&a, kinds[k]), count(&bl, kinds[k]));
    frames_free(&a);
    frames_free(&bl);
    free(cf);

    /* 4c. Syscalls only, no table: numbers without names, no steps, no page traps. */
    struct tracer_options s = { .syscalls = true, .guest = GUEST_WINXP_SP2 };
    size_t slen;
    uint8_t *sf = run(session, &s, &slen, NULL, &acts, &nacts);
    CHECK(frames_decode(sf, slen, &l, err, sizeof err) == 0);
    CHECK_EQ_U64(count(&l, "syscall"), SYN_SYSCALLS + 1);   /* explorer's call too: no filter */
    CHECK_EQ_U64(count(&l, "step") + count(&l, "memory_write") + count(&l, "unpack"), 0);
    for (size_t i = 0; i < l.count; i++)
        if (strcmp(l.frames[i].type, "syscall") == 0)
            CHECK(frame_get(l.frames[i].map, "name") == NULL);
    for (size_t i = 0; i < nacts; i++)
        CHECK(acts[i].kind != REPLAY_ACCESS || acts[i].access == PAGE_ACCESS_RWX);
    frames_free(&l);
    free(acts);
    free(sf);

    /* 5. The same stream over a UNIX socket the recorder listens on. */
    {
        /* sun_path is 108 bytes: keep the path short rather than under the build directory. */
        char sock_path[64];
        snprintf(sock_path, sizeof sock_path, "/tmp/ether-test-%d.sock", (int)getpid());
        unlink(sock_path);
        int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
        CHECK(bind(lfd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(lfd, 1) == 0);
        pid_t pid = fork();
        if (pid == 0) {
            execl(agent, agent, "--replay", session, "--domain", "7", "--process", SYN_SAMPLE_NAME,
                  "--singlestep", "--syscalls", "--memwrites", "--unpack", "--syscall-table",
                  table_path, "--socket", sock_path, (char *)NULL);
            _exit(127);
        }
        int cfd = accept(lfd, NULL, NULL);
        CHECK(cfd >= 0);
        size_t cap = 1 << 16, n = 0;
        uint8_t *buf = malloc(cap);
        for (ssize_t got; cfd >= 0 && (got = read(cfd, buf + n, cap - n)) > 0;) {
            n += (size_t)got;
            if (n == cap)
                buf = realloc(buf, cap *= 2);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK(n == len && memcmp(buf, frames, len) == 0);
        free(buf);
        close(cfd);
        close(lfd);
        unlink(sock_path);
    }

    /* 6. --max-events stops early with its own end reason. */
    {
        const char *const max_args[] = { "--syscalls", "--max-events", "5", NULL };
        size_t mlen;
        int st;
        uint8_t *m = run_agent(max_args, &mlen, &st);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        struct frame_list ml;
        uint64_t v;
        CHECK(m && frames_decode(m, mlen, &ml, err, sizeof err) == 0);
        CHECK(ml.count > 0 && frame_str_eq(ml.frames[ml.count - 1].map, "reason", "max-events"));
        CHECK(ml.count > 0 && frame_get_uint(ml.frames[ml.count - 1].map, "requests", &v) && v == 5);
        frames_free(&ml);
        free(m);
    }

    free(frames);
    syscall_table_free(&table);
    return check_report("replay_session");
}
