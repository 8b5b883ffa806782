/*
 * ether-agent: the dom0 side of Ether on Xen 4.17.  Streams what a guest does (single steps,
 * system calls, memory writes, code run after being written) as length-prefixed MessagePack
 * frames on stdout or a UNIX socket.  Protocol: docs/xen-agent-protocol.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "sink.h"
#include "syscall_table.h"
#include "tracer.h"

enum exit_code {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,    /* failed while tracing */
    EXIT_USAGE = 2,      /* bad arguments, or no Xen / no such domain / unpatched Xen */
    EXIT_CONSUMER = 3,   /* the consumer closed the stream */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void usage(FILE *f)
{
    fputs("usage: ether-agent --domain ID [--process NAME | --cr3 X] [--singlestep] [--syscalls]\n"
          "                   [--memwrites] [--unpack] [--derive-writes] [--user-only] [--socket PATH]\n"
          "                   [--timeout-ms N] [--guest winxp-sp2|windows-x64|linux]\n"
          "                   [--syscall-table FILE] [--max-events N] [--record-session FILE]\n"
          "       ether-agent --replay FILE [same options; --domain must match the file]\n"
          "       ether-agent --domain ID --release   (give back a domain after an agent died)\n"
          "Frames (docs/xen-agent-protocol.md) go to stdout unless --socket is given.\n",
          f);
}

static int die(enum exit_code code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int die(enum exit_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ether-agent: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end != '\0' || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    enum {
        OPT_DOMAIN = 256, OPT_PROCESS, OPT_CR3, OPT_SINGLESTEP, OPT_SYSCALLS, OPT_MEMWRITES,
        OPT_UNPACK, OPT_USER_ONLY, OPT_SOCKET, OPT_TIMEOUT, OPT_GUEST, OPT_TABLE, OPT_MAX_EVENTS,
        OPT_RECORD, OPT_REPLAY, OPT_RELEASE, OPT_HELP, OPT_VERSION, OPT_DERIVE,
    };
    static const struct option longopts[] = {
        { "domain", required_argument, NULL, OPT_DOMAIN },
        { "process", required_argument, NULL, OPT_PROCESS },
        { "cr3", required_argument, NULL, OPT_CR3 },
        { "singlestep", no_argument, NULL, OPT_SINGLESTEP },
        { "syscalls", no_argument, NULL, OPT_SYSCALLS },
        { "memwrites", no_argument, NULL, OPT_MEMWRITES },
        { "unpack", no_argument, NULL, OPT_UNPACK },
        { "user-only", no_argument, NULL, OPT_USER_ONLY },
        { "derive-writes", no_argument, NULL, OPT_DERIVE },
        { "socket", required_argument, NULL, OPT_SOCKET },
        { "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
        { "guest", required_argument, NULL, OPT_GUEST },
        { "syscall-table", required_argument, NULL, OPT_TABLE },
        { "max-events", required_argument, NULL, OPT_MAX_EVENTS },
        { "record-session", required_argument, NULL, OPT_RECORD },
        { "replay", required_argument, NULL, OPT_REPLAY },
        { "release", no_argument, NULL, OPT_RELEASE },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    struct tracer_options opt = { .guest = GUEST_WINXP_SP2, .timeout_ms = 10000 };
    bool have_domain = false, release = false;
    uint64_t domain = 0, v;
    const char *socket_path = NULL, *record_path = NULL, *replay_path = NULL, *table_path = NULL;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DOMAIN:
            if (parse_u64(optarg, &domain) || domain >= 0x7FF0)
                return die(EXIT_USAGE, "--domain wants a domain id, not '%s'", optarg);
            have_domain = true;
            break;
        case OPT_PROCESS:
            if (!optarg[0])
                return die(EXIT_USAGE, "--process wants an image name (e.g. sample.exe)");
            opt.process = optarg;
            break;
        case OPT_CR3:
            if (parse_u64(optarg, &opt.cr3))
                return die(EXIT_USAGE, "--cr3 wants a number (e.g. 0x3a1c000), not '%s'", optarg);
            opt.have_cr3 = true;
            break;
        case OPT_SINGLESTEP: opt.singlestep = true; break;
        case OPT_SYSCALLS: opt.syscalls = true; break;
        case OPT_MEMWRITES: opt.memwrites = true; break;
        case OPT_UNPACK: opt.unpack = true; break;
        case OPT_USER_ONLY: opt.user_only = true; break;
        case OPT_DERIVE: opt.derive_writes = true; break;
        case OPT_SOCKET: socket_path = optarg; break;
        case OPT_TIMEOUT:
            if (parse_u64(optarg, &v) || v > 3600000)
                return die(EXIT_USAGE, "--timeout-ms wants milliseconds (0 = wait forever), not '%s'",
                           optarg);
            opt.timeout_ms = (int)v;
            break;
        case OPT_GUEST:
            if (strcmp(optarg, "winxp-sp2") == 0)
                opt.guest = GUEST_WINXP_SP2;
            else if (strcmp(optarg, "windows-x64") == 0)
                opt.guest = GUEST_WINDOWS_X64;
            else if (strcmp(optarg, "linux") == 0)
                opt.guest = GUEST_LINUX;
            else
                return die(EXIT_USAGE, "--guest is winxp-sp2, windows-x64 or linux, not '%s'", optarg);
            break;
        case OPT_TABLE: table_path = optarg; break;
        case OPT_MAX_EVENTS:
            if (parse_u64(optarg, &opt.max_events) || opt.max_events == 0)
                return die(EXIT_USAGE, "--max-events wants a positive count, not '%s'", optarg);
            break;
        case OPT_RECORD: record_path = optarg; break;
        case OPT_REPLAY: replay_path = optarg; break;
        case OPT_RELEASE: release = true; break;
        case OPT_HELP: usage(stdout); return EXIT_OK;
        case OPT_VERSION: printf("ether-agent %s (protocol %d)\n", AGENT_VERSION, PROTOCOL_VERSION); return EXIT_OK;
        default:
            return die(EXIT_USAGE, "unknown or incomplete option '%s' (try --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return die(EXIT_USAGE, "unexpected argument '%s' (try --help)", argv[optind]);
    if (!have_domain && !replay_path)
        return die(EXIT_USAGE, "--domain ID is required (or --replay FILE; try --help)");

    char err[512] = "";
    if (release) {
        if (replay_path)
            return die(EXIT_USAGE, "--release acts on a live domain, not a replay");
        if (xen_backend_release((uint32_t)domain, err, sizeof err) != 0)
            return die(EXIT_USAGE, "%s", err);
        fprintf(stderr, "ether-agent: domain %" PRIu64 " released\n", domain);
        return EXIT_OK;
    }
    if (opt.process && opt.have_cr3)
        return die(EXIT_USAGE, "--process and --cr3 both choose the traced address space: give one");
    if (!opt.singlestep && !opt.syscalls && !opt.memwrites && !opt.unpack)
        return die(EXIT_USAGE, "nothing to trace: give --singlestep, --syscalls, --memwrites or --unpack");

    /* The hypervisor first: without Xen the agent must fail at once, before any output. */
    struct backend *be = replay_path ? replay_backend_open(replay_path, err, sizeof err)
                                     : xen_backend_open((uint32_t)domain, err, sizeof err);
    if (!be)
        return die(EXIT_USAGE, "%s", err);
    if (replay_path && have_domain) {
        struct guest_facts facts;
        if (be->ops->describe(be->self, &facts) == 0 && facts.domain != domain) {
            backend_close(be);
            return die(EXIT_USAGE, "%s is a session of domain %u, not %" PRIu64, replay_path,
                       facts.domain, domain);
        }
    }
    if (record_path) {
        struct backend *wrapped = session_recorder_wrap(be, record_path, err, sizeof err);
        if (!wrapped) {
            backend_close(be);
            return die(EXIT_USAGE, "%s", err);
        }
        be = wrapped;
    }

    struct syscall_table table = { 0 };
    if (table_path) {
        if (syscall_table_load(&table, table_path, err, sizeof err) != 0) {
            backend_close(be);
            return die(EXIT_USAGE, "%s", err);
        }
        opt.table = &table;
        opt.table_path = table_path;
    }

    struct sink out;
    if (socket_path) {
        if (sink_connect_unix(&out, socket_path, opt.timeout_ms, err, sizeof err) != 0) {
            backend_close(be);
            syscall_table_free(&table);
            return die(EXIT_USAGE, "%s", err);
        }
    } else {
        if (isatty(STDOUT_FILENO)) {
            backend_close(be);
            syscall_table_free(&table);
            return die(EXIT_USAGE, "frames are binary: redirect stdout or use --socket PATH");
        }
        sink_init_fd(&out, STDOUT_FILENO, opt.timeout_ms);
    }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int code = EXIT_OK;
    struct tracer *t = tracer_new(be, &out, &opt);
    if (!t) {
        backend_close(be);
        return die(EXIT_RUNTIME, "out of memory");
    }
    if (tracer_start(t) != 0) {
        code = die(EXIT_USAGE, "%s", tracer_error(t));
        be->ops->shutdown(be->self);
        goto out;
    }

    const char *reason = "signal";
    while (!stop_signal) {
        int rc = tracer_poll(t, 200);
        if (rc == BACKEND_FINISHED) {
            reason = replay_path ? "replay-finished" : "domain-gone";
            break;
        }
        if (rc == BACKEND_ERROR) {
            const char *e = tracer_error(t);
            bool consumer_gone = strstr(e, "consumer closed") != NULL;
            code = die(consumer_gone ? EXIT_CONSUMER : EXIT_RUNTIME, "%s", e);
            if (consumer_gone) {
                be->ops->shutdown(be->self);
                goto out;
            }
            reason = "error";
            break;
        }
        struct tracer_stats s;
        tracer_get_stats(t, &s);
        if (opt.max_events && s.requests >= opt.max_events) {
            reason = "max-events";
            break;
        }
    }
    if (tracer_finish(t, reason) != 0 && code == EXIT_OK)
        code = die(EXIT_CONSUMER, "%s", tracer_error(t));
    if (!replay_path && code == EXIT_OK) {
        /* How fast the monitor ran: one line for the operator (a live domain only; replays stay
         * silent on success). */
        struct tracer_stats s;
        tracer_get_stats(t, &s);
        double span = s.last_request_s - s.first_request_s;
        fprintf(stderr, "ether-agent: %llu events in %.1f s from the first to the last (%.1f/s), %llu frames\n",
                (unsigned long long)s.requests, span, span > 0 ? (double)s.requests / span : 0.0,
                (unsigned long long)s.frames);
    }

out:
    tracer_free(t);
    backend_close(be);
    syscall_table_free(&table);
    if (out.fd >= 0 && out.fd != STDOUT_FILENO)
        close(out.fd);
    return code;
}
