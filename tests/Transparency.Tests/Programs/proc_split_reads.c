/* /proc/self/status read the awkward ways: one byte per read(), pread() at offsets, readv() over
 * small buffers, lseek() back to the start. A rewriter that only patches whole-file reads shows a
 * different text (or TracerPid pieces) to these. The texts must all agree on TracerPid, and the
 * byte-at-a-time text must be exactly as long as what one big read returns. */
#include "tlib.h"

struct iovec { void *base; size_t len; };
static char whole[8192], bytes[8192], vec[8192], pre[8192];

int main(void)
{
    i64 fd = t_open("/proc/self/status", O_RDONLY);
    check(fd >= 0, "open failed");
    i64 n_whole = sys3(SYS_read, fd, whole, sizeof whole - 1);
    check(n_whole > 0, "read failed");
    whole[n_whole] = 0;

    check(sys3(SYS_lseek, fd, 0, 0) == 0, "lseek failed");
    i64 n_bytes = 0;
    for (;;) {
        i64 r = sys3(SYS_read, fd, bytes + n_bytes, 1);
        check(r >= 0, "1-byte read failed");
        if (r == 0) break;
        n_bytes += r;
        check(n_bytes < (i64)sizeof bytes - 1, "file too long");
    }
    bytes[n_bytes] = 0;

    check(sys3(SYS_lseek, fd, 0, 0) == 0, "lseek failed");
    i64 n_vec = 0;
    for (;;) {
        struct iovec iov[3] = { { vec + n_vec, 7 }, { vec + n_vec + 7, 13 }, { vec + n_vec + 20, 29 } };
        i64 r = sys3(SYS_readv, fd, iov, 3);
        check(r >= 0, "readv failed");
        if (r == 0) break;
        n_vec += r;
        check(n_vec < (i64)sizeof vec - 64, "file too long");
    }
    vec[n_vec] = 0;

    i64 n_pre = 0;
    for (;;) {
        i64 r = sys4(SYS_pread64, fd, pre + n_pre, 100, n_pre);
        check(r >= 0, "pread failed");
        if (r == 0) break;
        n_pre += r;
        check(n_pre < (i64)sizeof pre - 128, "file too long");
    }
    pre[n_pre] = 0;
    t_close(fd);

    check(status_field(whole, "TracerPid") == 0, "TracerPid (one read)");
    check(status_field(bytes, "TracerPid") == 0, "TracerPid (byte by byte)");
    check(status_field(vec, "TracerPid") == 0, "TracerPid (readv)");
    check(status_field(pre, "TracerPid") == 0, "TracerPid (pread)");
    /* Lines before the volatile memory/context-switch counters must agree byte for byte. */
    const char *cut_w = t_strstr(whole, "VmPeak"), *cut_b = t_strstr(bytes, "VmPeak");
    const char *cut_v = t_strstr(vec, "VmPeak"), *cut_p = t_strstr(pre, "VmPeak");
    check(cut_w && cut_b && cut_v && cut_p, "no VmPeak line");
    i64 head = cut_w - whole;
    check(cut_b - bytes == head && cut_v - vec == head && cut_p - pre == head, "texts differ in length before VmPeak");
    check(!memcmp(whole, bytes, head) && !memcmp(whole, vec, head) && !memcmp(whole, pre, head), "texts differ before VmPeak");
    clean();
    return 0;
}
