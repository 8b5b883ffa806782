/* Descriptors a program did not open: debuggers and tracers often leak theirs into the program
 * (gdb's pipes, strace -o's log file, a launcher's sockets). A shell gives exactly 0, 1 and 2. */
#include "tlib.h"

struct dirent64 { u64 ino; i64 off; u16 reclen; u8 type; char name[]; };

int main(void)
{
    i64 dir = t_open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    check(dir >= 0, "cannot open /proc/self/fd");
    static char buf[8192];
    int extra = 0;
    for (;;) {
        i64 n = sys3(SYS_getdents64, dir, buf, sizeof buf);
        check(n >= 0, "getdents64 failed");
        if (n == 0) break;
        for (i64 off = 0; off < n; ) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->reclen;
            if (d->name[0] == '.') continue;
            i64 fd = parse_i(d->name, NULL);
            if (fd <= 2 || fd == dir) continue;
            char path[64], target[256];
            path_num(path_cat(path, "/proc/self/fd/"), fd);
            i64 k = sys3(SYS_readlink, path, target, sizeof target - 1);
            target[k > 0 ? k : 0] = 0;
            put("fd "); put_i(fd); put(" -> "); put(target); put("\n");
            extra++;
        }
    }
    if (extra) detected_v("descriptors left open by someone else:", extra);
    clean();
    return 0;
}
