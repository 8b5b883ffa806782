namespace Ether.Replay.Formats.Abi;

/// <summary>
/// What a system call does, as flags the recorder and the analyses act on. The arguments a trait
/// refers to ("its Target descriptor") carry a <see cref="SyscallArgRole"/> in the call's row.
/// </summary>
[Flags]
public enum SyscallTraits : uint
{
    None = 0,

    // ---- the recorder's own needs ----

    /// <summary>May change the memory map; the recorder re-reads it when the call returns (mmap, munmap, mprotect, brk, mremap, shmat, shmdt, pkey_mprotect, i386 mmap2 and ipc).</summary>
    ChangesMap = 1u << 0,
    /// <summary>Replaces the program image when it succeeds (execve, execveat); its Target is the program.</summary>
    Exec = 1u << 1,
    /// <summary>Ends the thread or process; no exit stop follows (exit, exit_group).</summary>
    Exit = 1u << 2,
    /// <summary>Starts a process or thread (fork, vfork, clone, clone3; clone's flags say which).</summary>
    CreatesTask = 1u << 3,
    /// <summary>May wait an unbounded time for another task, a signal or the outside world (read on a pipe, wait4, futex, pause, ...).</summary>
    Blocks = 1u << 4,
    /// <summary>Sends a signal to its Target process, thread or process group (kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo).</summary>
    SignalsProcess = 1u << 5,
    /// <summary>Reaches into its Target process: its memory or its execution (ptrace, process_vm_readv, process_vm_writev).</summary>
    AccessesProcess = 1u << 6,
    /// <summary>
    /// Sets the thread's signal mask, for good (rt_sigprocmask, sigprocmask, ssetmask, rt_sigreturn,
    /// sigreturn) or while it waits (rt_sigsuspend, sigsuspend, pselect6*, ppoll*, epoll_pwait*, io_pgetevents*,
    /// io_uring_enter). A tracer that changes a thread's mask (e.g. to step with SIGTRAP unblocked) must re-read it after these.
    /// </summary>
    ChangesSignalMask = 1u << 25,

    // ---- descriptors and files (file provenance) ----

    /// <summary>Success returns a new file descriptor (open*, creat, dup*, socket, accept*, memfd_create, eventfd, ...; pipe/socketpair return theirs in memory).</summary>
    ReturnsFd = 1u << 7,
    /// <summary>Closes its Target descriptor(s) (close, close_range).</summary>
    ClosesFd = 1u << 8,
    /// <summary>Gives a second descriptor for its Target descriptor (dup, dup2, dup3; fcntl's F_DUPFD is not flagged: it depends on the command).</summary>
    DuplicatesFd = 1u << 9,
    /// <summary>Opens its Target path (with its DirFd); write access per its OpenFlags argument (open, openat; openat2's flags are in its OpenHowIn struct; open_by_handle_at names the file by handle).</summary>
    OpensFile = 1u << 10,
    /// <summary>Always gives a new, writable file (creat: O_CREAT|O_WRONLY|O_TRUNC; memfd_create: an anonymous file).</summary>
    CreatesFile = 1u << 11,
    /// <summary>Writes data into its Target descriptor (write, pwrite64, writev, pwritev*, sendfile*, splice, tee, copy_file_range).</summary>
    WritesFile = 1u << 12,
    /// <summary>Moves data in the kernel from its Source descriptor to its Target descriptor (sendfile*, splice, tee, copy_file_range).</summary>
    CopiesFile = 1u << 13,
    /// <summary>Changes the size of its Target file (ftruncate*, truncate*, fallocate).</summary>
    ResizesFile = 1u << 14,
    /// <summary>Maps its Target descriptor (mmap, mmap2): a MAP_SHARED mapping with PROT_WRITE writes the file.</summary>
    MapsFile = 1u << 15,
    /// <summary>Gives the Source file the Target name (rename, renameat, renameat2, link, linkat); the file keeps its identity.</summary>
    LinksFile = 1u << 16,
    /// <summary>Changes the directory relative paths start from (chdir, fchdir).</summary>
    ChangesDirectory = 1u << 17,
    /// <summary>Copies data from its Target descriptor into the caller's memory (read, pread64, readv, preadv, preadv2): the results a /proc rewriter changes.</summary>
    ReadsFile = 1u << 18,
    /// <summary>Moves the file offset of its Target descriptor (lseek, _llseek).</summary>
    Seeks = 1u << 19,
    /// <summary>Changes the permission bits of its Target file (chmod, fchmod, fchmodat): e.g. makes a dropped file executable.</summary>
    ChangesMode = 1u << 24,

    // ---- time ----

    /// <summary>Its result holds the current time or a time since boot (clock_gettime*, gettimeofday, time, times, sysinfo's uptime).</summary>
    ReadsClock = 1u << 20,
    /// <summary>Waits for the time in its Timeout argument (nanosleep, clock_nanosleep*; with TIMER_ABSTIME the Timeout is a deadline).</summary>
    Sleeps = 1u << 21,
    /// <summary>Waits for events at most its Timeout argument (poll, ppoll, select, pselect6, epoll_wait, epoll_pwait*, rt_sigtimedwait, ...).</summary>
    HasTimeout = 1u << 22,
    /// <summary>Arms a timer whose expiry is its Timeout argument (alarm, setitimer, timer_settime*, timerfd_settime*).</summary>
    ArmsTimer = 1u << 23,
}

/// <summary>The kind of thing a call acts on, after strace's classes; `ether summary` groups calls by it.</summary>
public enum SyscallCategory : byte
{
    Other,
    File,
    Descriptor,
    Network,
    Process,
    Memory,
    Signal,
    Ipc,
    Time,
}
