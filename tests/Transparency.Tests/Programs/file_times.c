/* File timestamps against the clock: a file the program writes gets the kernel's current time as
 * its mtime; a tool that slows or shifts the program's clocks but not the file system's makes
 * fresh files look as if they were written in the future. The mtime must be within 1 s of
 * CLOCK_REALTIME, before and after a short sleep. */
#include "tlib.h"

struct kstat { u64 dev, ino, nlink; u32 mode, uid, gid, pad; u64 rdev; i64 size, blksize, blocks; struct t_timespec atime, mtime, ctime; i64 unused[3]; };

int main(void)
{
    i64 fd = t_open("probe.tmp", O_WRONLY | O_CREAT | O_TRUNC);
    check(fd >= 0, "cannot create a file");
    check(sys3(SYS_write, fd, "x", 1) == 1, "write failed");
    struct kstat st;
    check(sys2(SYS_fstat, fd, &st) == 0, "fstat failed");
    i64 now = now_ns(CLOCK_REALTIME);
    i64 m = ts_ns(st.mtime);
    if (m > now + 1000000000L) detected_v("the new file's mtime is ahead of the clock (ms)", (m - now) / 1000000);
    if (now - m > 1000000000L) detected_v("the new file's mtime is behind the clock (ms)", (now - m) / 1000000);
    sleep_ns(10000000);
    check(sys3(SYS_write, fd, "y", 1) == 1, "write failed");
    check(sys2(SYS_fstat, fd, &st) == 0, "fstat failed");
    i64 now2 = now_ns(CLOCK_REALTIME), m2 = ts_ns(st.mtime);
    if (m2 < m) detected("mtime went backwards");
    if (m2 > now2 + 1000000000L) detected_v("mtime ahead of the clock after a write (ms)", (m2 - now2) / 1000000);
    t_close(fd);
    sys1(SYS_unlink, "probe.tmp");
    clean();
    return 0;
}
