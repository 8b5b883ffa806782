using Ether.Replay.Formats.Abi;
using static Ether.Replay.Formats.Abi.SyscallTraits;

namespace Ether.Replay.Formats.Tests.Abi;

/// <summary>The system-call table: complete, consistent, and saying what the recorder and the analyses ask of it.</summary>
public class LinuxSyscallTableTests
{
    public static TheoryData<string> Abis => [SyscallTables.LinuxX86_64Abi, SyscallTables.LinuxI386Abi];

    [Theory]
    [MemberData(nameof(Abis))]
    public void Every_call_of_the_generated_tables_has_exactly_one_row(string abi)
    {
        // A header update that adds calls regenerates the tables and fails here until each new call
        // gets a row (even a Raw one): someone decides what it is.
        var table = LinuxSyscalls.For(abi);
        var missing = table.Numbers.Entries().Where(e => table.Find(e.Number) is null).Select(e => e.Name).ToList();
        Assert.True(missing.Count == 0, $"{abi}: no row for {string.Join(", ", missing)}");
        var rowsForAbi = LinuxSyscalls.Rows.Where(r => r.OnlyAbi is null || r.OnlyAbi == abi)
            .GroupBy(r => (r.Name, General: r.OnlyAbi is null)).Where(g => g.Count() > 1).Select(g => g.Key.Name).ToList();
        Assert.True(rowsForAbi.Count == 0, $"{abi}: more than one row for {string.Join(", ", rowsForAbi)}");
    }

    [Fact]
    public void Every_row_names_a_real_call()
    {
        // The socketcall sub-calls send and recv have no number of their own on either ABI.
        var known = SyscallTables.Find(SyscallTables.LinuxX86_64Abi).Entries().Select(e => e.Name)
            .Concat(SyscallTables.Find(SyscallTables.LinuxI386Abi).Entries().Select(e => e.Name))
            .Concat(["send", "recv"]).ToHashSet();
        var unknown = LinuxSyscalls.Rows.Select(r => r.Name).Where(n => !known.Contains(n)).ToList();
        Assert.True(unknown.Count == 0, "rows for calls no table has: " + string.Join(", ", unknown));
    }

    [Fact]
    public void Arguments_read_real_argument_registers()
    {
        foreach (var call in LinuxSyscalls.Rows)
            foreach (var arg in call.Args)
            {
                Assert.True(arg.Index is >= 0 and <= 5, $"{call.Name}: argument {arg.Kind} reads register {arg.Index}");
                Assert.True(arg.Aux is >= -1 and <= 5, $"{call.Name}: argument {arg.Kind} has helper {arg.Aux}");
            }
    }

    [Fact]
    public void Map_changes_are_the_old_hand_typed_numbers_plus_the_i386_calls_they_missed()
    {
        // Before the table: x86-64 mmap mprotect munmap brk mremap shmat shmdt pkey_mprotect; i386 brk
        // mmap munmap mprotect mremap mmap2 ipc — without pkey_mprotect 380, shmat 397, shmdt 398.
        Assert.Equal([9, 10, 11, 12, 25, 30, 67, 329], Numbers(LinuxSyscalls.X86_64, ChangesMap));
        Assert.Equal(new long[] { 45, 90, 91, 125, 163, 192, 117, 380, 397, 398 }.Order(), Numbers(LinuxSyscalls.I386, ChangesMap));
    }

    [Fact]
    public void Exec_exit_and_task_creation_are_the_numbers_the_recorder_typed_before()
    {
        Assert.Equal([59, 322], Numbers(LinuxSyscalls.X86_64, Exec));
        Assert.Equal([11, 358], Numbers(LinuxSyscalls.I386, Exec));
        Assert.Equal([60, 231], Numbers(LinuxSyscalls.X86_64, Exit));
        Assert.Equal([1, 252], Numbers(LinuxSyscalls.I386, Exit));
        Assert.Equal([56, 57, 58, 435], Numbers(LinuxSyscalls.X86_64, CreatesTask));
        Assert.Equal([2, 120, 190, 435], Numbers(LinuxSyscalls.I386, CreatesTask)); // clone3 435 is i386's too
    }

    [Fact]
    public void Signal_mask_changes_cover_the_calls_the_trap_flag_hiding_typed_and_their_i386_time64_variants()
    {
        // The transparency work typed x86-64 14 15 130 270 271 281 441 333 and i386 126 175 119 173 72
        // 179 308 309 319; the table adds i386's ssetmask 69, io_pgetevents 385, pselect6_time64 413,
        // ppoll_time64 414, io_pgetevents_time64 416 and epoll_pwait2 441, and io_uring_enter 426 on both
        // (its sigset is applied while it waits, as pselect6's is).
        Assert.Equal(new long[] { 14, 15, 130, 270, 271, 281, 441, 333, 426 }.Order(), Numbers(LinuxSyscalls.X86_64, ChangesSignalMask));
        Assert.Equal(new long[] { 126, 175, 119, 173, 72, 179, 308, 309, 319, 69, 385, 413, 414, 416, 441, 426 }.Order(),
            Numbers(LinuxSyscalls.I386, ChangesSignalMask));
    }

    [Fact]
    public void Calls_that_reach_other_processes_name_the_process_argument()
    {
        // The sandbox guard refuses these when the process is outside the recording (it typed the
        // first five and ptrace and process_vm_writev by number before).
        var x64 = LinuxSyscalls.X86_64;
        Assert.Equal([62, 129, 200, 234, 297], x64.With(SignalsProcess).Where(c => c.Call.TargetPid >= 0).Select(c => c.Number));
        Assert.Equal([101, 310, 311], Numbers(x64, AccessesProcess));
        Assert.Equal(1, x64.Find("ptrace")!.TargetPid);
        Assert.Equal(0, x64.Find("process_vm_writev")!.TargetPid);
        var i386 = LinuxSyscalls.I386;
        Assert.Equal([37, 178, 238, 270, 335], i386.With(SignalsProcess).Where(c => c.Call.TargetPid >= 0).Select(c => c.Number));
        Assert.Equal([26, 347, 348], Numbers(i386, AccessesProcess));
    }

    /// <summary>Issue 12 (file provenance) asks these; issue 11 (transparency: virtual time, /proc reads) those.</summary>
    public static TheoryData<string, SyscallTraits> NamedByTheNextWork => new()
    {
        { "open", OpensFile }, { "openat", OpensFile }, { "openat2", OpensFile }, { "creat", CreatesFile },
        { "memfd_create", CreatesFile }, { "write", WritesFile }, { "pwrite64", WritesFile }, { "writev", WritesFile },
        { "pwritev", WritesFile }, { "pwritev2", WritesFile }, { "sendfile", WritesFile | CopiesFile },
        { "sendfile64", WritesFile | CopiesFile }, { "copy_file_range", WritesFile | CopiesFile },
        { "splice", WritesFile | CopiesFile }, { "ftruncate", ResizesFile }, { "ftruncate64", ResizesFile },
        { "mmap", MapsFile }, { "mmap2", MapsFile }, { "rename", LinksFile }, { "renameat", LinksFile },
        { "renameat2", LinksFile }, { "link", LinksFile }, { "linkat", LinksFile }, { "execve", Exec }, { "execveat", Exec },
        { "clock_gettime", ReadsClock }, { "clock_gettime64", ReadsClock }, { "gettimeofday", ReadsClock },
        { "time", ReadsClock }, { "clock_nanosleep", Sleeps }, { "clock_nanosleep_time64", Sleeps }, { "nanosleep", Sleeps },
        { "poll", HasTimeout }, { "ppoll", HasTimeout }, { "ppoll_time64", HasTimeout }, { "select", HasTimeout },
        { "_newselect", HasTimeout }, { "pselect6", HasTimeout }, { "pselect6_time64", HasTimeout },
        { "epoll_wait", HasTimeout }, { "epoll_pwait", HasTimeout }, { "epoll_pwait2", HasTimeout },
        { "alarm", ArmsTimer }, { "setitimer", ArmsTimer }, { "timer_settime", ArmsTimer }, { "timer_settime64", ArmsTimer },
        { "timerfd_settime", ArmsTimer }, { "timerfd_settime64", ArmsTimer },
        { "chmod", ChangesMode }, { "fchmod", ChangesMode }, { "fchmodat", ChangesMode },
        { "read", ReadsFile }, { "pread64", ReadsFile }, { "readv", ReadsFile }, { "preadv", ReadsFile }, { "preadv2", ReadsFile },
    };

    [Theory]
    [MemberData(nameof(NamedByTheNextWork))]
    public void The_calls_the_next_work_asks_about_have_their_traits_on_both_abis(string name, SyscallTraits traits)
    {
        var found = 0;
        foreach (var table in new[] { LinuxSyscalls.X86_64, LinuxSyscalls.I386 })
        {
            if (!table.TryGetNumber(name, out var number))
                continue;
            found++;
            Assert.Equal(traits, table.Find(number)!.Traits & traits);
            Assert.True(table.Has(number, traits));
        }
        Assert.True(found > 0, $"{name} is in neither table");
    }

    [Fact]
    public void Traits_come_with_the_arguments_they_refer_to()
    {
        // i386's old mmap and select take their arguments from memory: no argument registers to name.
        foreach (var call in LinuxSyscalls.Rows.Where(r => r.OnlyAbi != SyscallTables.LinuxI386Abi))
        {
            string Why(string what) => $"{call.Name} ({call.OnlyAbi ?? "both"}) has {call.Traits} but {what}";
            if (call.Has(WritesFile | ReadsFile | Seeks | ClosesFd | DuplicatesFd))
                Assert.True(call.TargetFd >= 0, Why("no Target descriptor"));
            if (call.Has(CopiesFile))
                Assert.True(call.SourceFd >= 0, Why("no Source descriptor"));
            if (call.Has(LinksFile))
                Assert.True(call.SourcePath >= 0 && call.TargetPath >= 0, Why("no Source and Target paths"));
            if (call.Has(Exec | ChangesDirectory | ResizesFile | ChangesMode))
                Assert.True(call.TargetPath >= 0 || call.TargetFd >= 0, Why("no Target path or descriptor"));
            if (call.Has(OpensFile) && call.Name != "open_by_handle_at") // it names the file by handle
                Assert.True(call.TargetPath >= 0 && (call.IndexOf(SyscallArgKind.OpenFlags) >= 0 || call.IndexOf(SyscallArgKind.OpenHowIn) >= 0), Why("no Target path and flags"));
            if (call.Has(MapsFile))
                Assert.True(call.TargetFd >= 0 && call.IndexOf(SyscallArgKind.Prot) >= 0 && call.IndexOf(SyscallArgKind.MapFlags) >= 0, Why("no Target descriptor, prot and flags"));
            if (call.Has(Sleeps | HasTimeout | ArmsTimer))
                Assert.True(call.Timeout is not null, Why("no Timeout argument"));
            if (call.Has(SignalsProcess) && call.Name != "pidfd_send_signal") // it names the process by a pidfd
                Assert.True(call.TargetPid >= 0, Why("no Target process"));
        }
    }

    [Fact]
    public void Timeouts_say_their_unit_by_kind()
    {
        Assert.Equal(SyscallArgKind.TimeoutMs, LinuxSyscalls.X86_64.Find("poll")!.Timeout!.Value.Kind);
        Assert.Equal(2, LinuxSyscalls.X86_64.Find("poll")!.Timeout!.Value.Index);
        Assert.Equal(SyscallArgKind.TimespecIn, LinuxSyscalls.X86_64.Find("nanosleep")!.Timeout!.Value.Kind);
        Assert.Equal(SyscallArgKind.TimevalInOut, LinuxSyscalls.X86_64.Find("select")!.Timeout!.Value.Kind);
        Assert.Equal(SyscallArgKind.Seconds, LinuxSyscalls.X86_64.Find("alarm")!.Timeout!.Value.Kind);
        var sleep = LinuxSyscalls.I386.Find("clock_nanosleep_time64")!;
        Assert.Equal((SyscallArgKind.Timespec64In, 2), (sleep.Timeout!.Value.Kind, (int)sleep.Timeout!.Value.Index));
        Assert.Equal(1, sleep.IndexOf(SyscallArgKind.TimerFlags)); // TIMER_ABSTIME: a deadline
    }

    [Fact]
    public void Roles_point_at_the_right_registers()
    {
        var x64 = LinuxSyscalls.X86_64;
        var openat = x64.Find(x64.Number("openat"))!;
        Assert.Equal((0, 1, 2), (openat.TargetDirFd, openat.TargetPath, openat.IndexOf(SyscallArgKind.OpenFlags)));
        var copy = x64.Find("copy_file_range")!;
        Assert.Equal((0, 2), (copy.SourceFd, copy.TargetFd));
        var sendfile = x64.Find("sendfile")!;
        Assert.Equal((1, 0), (sendfile.SourceFd, sendfile.TargetFd));
        var renameat2 = x64.Find("renameat2")!;
        Assert.Equal((0, 1, 2, 3), (renameat2.SourceDirFd, renameat2.SourcePath, renameat2.TargetDirFd, renameat2.TargetPath));
        var execveat = LinuxSyscalls.I386.Find(LinuxSyscalls.I386.Number("execveat"))!;
        Assert.Equal((0, 1, 4), (execveat.TargetDirFd, execveat.TargetPath, execveat.IndexOf(SyscallArgKind.AtFlags)));
        var mmap2 = LinuxSyscalls.I386.Find("mmap2")!;
        Assert.Equal((4, 2, 3), (mmap2.TargetFd, mmap2.IndexOf(SyscallArgKind.Prot), mmap2.IndexOf(SyscallArgKind.MapFlags)));
    }

    [Fact]
    public void Offsets_are_bytes_into_the_target_file_on_both_abis()
    {
        var x64 = LinuxSyscalls.X86_64;
        Assert.Equal(0x1_0000_0010, x64.Offset(x64.Find("pwrite64")!, [3, 0x1000, 8, 0x1_0000_0010, 0, 0]));
        Assert.Equal(0x2000, x64.Offset(x64.Find("mmap")!, [0, 4096, 3, 1, 5, 0x2000]));
        var i386 = LinuxSyscalls.I386;
        // i386 splits a loff_t over two registers (low, high) and mmap2 counts pages.
        Assert.Equal(0x1_0000_0010, i386.Offset(i386.Find("pwrite64")!, [3, 0x1000, 8, 0x10, 1, 0]));
        Assert.Equal(0x1_0000_0010, i386.Offset(i386.Find("preadv")!, [3, 0x1000, 1, 0x10, 1, 0]));
        Assert.Equal(3 * 4096, i386.Offset(i386.Find("mmap2")!, [0, 4096, 3, 1, 5, 3]));
        Assert.Null(x64.Offset(x64.Find("write")!, [1, 0x1000, 8, 0, 0, 0])); // at the descriptor's position
    }

    [Fact]
    public void Mmap_and_select_differ_between_the_abis_and_only_there()
    {
        Assert.Equal(SyscallText.Args, LinuxSyscalls.X86_64.Find("mmap")!.Text);
        Assert.Equal(SyscallText.Custom, LinuxSyscalls.I386.Find("mmap")!.Text); // old_mmap(struct mmap_arg_struct *)
        Assert.Equal(["mmap", "select"], LinuxSyscalls.Rows.Where(r => r.OnlyAbi == SyscallTables.LinuxI386Abi).Select(r => r.Name).Order());
        Assert.Equal(["mmap", "select"], LinuxSyscalls.Rows.Where(r => r.OnlyAbi == SyscallTables.LinuxX86_64Abi).Select(r => r.Name).Order());
        Assert.Equal(SyscallArgKind.TimevalInOut, LinuxSyscalls.X86_64.Find("select")!.Timeout!.Value.Kind);
        Assert.Null(LinuxSyscalls.I386.Find("select")!.Timeout); // old_select(struct sel_arg_struct *)
    }

    [Fact]
    public void Numbers_by_name_come_from_the_generated_tables()
    {
        Assert.Equal(257, LinuxSyscalls.X86_64.Number("openat"));
        Assert.Equal(295, LinuxSyscalls.I386.Number("openat"));
        Assert.Equal(219, LinuxSyscalls.X86_64.Number("restart_syscall"));
        Assert.Equal(0, LinuxSyscalls.I386.Number("restart_syscall"));
        Assert.Throws<ArgumentException>(() => LinuxSyscalls.I386.Number("newfstatat"));
        Assert.False(LinuxSyscalls.X86_64.Has(-1, (SyscallTraits)uint.MaxValue));
        Assert.False(LinuxSyscalls.X86_64.Has(100_000, (SyscallTraits)uint.MaxValue));
        Assert.Null(LinuxSyscalls.X86_64.Find(100_000));
        Assert.Throws<ArgumentException>(() => LinuxSyscalls.For("nt-winxp-sp2-x86"));
    }

    [Fact]
    public void Calls_that_return_addresses_print_them_in_hex()
    {
        foreach (var name in new[] { "mmap", "mremap", "brk" })
            Assert.Equal(SyscallReturn.Hex, LinuxSyscalls.ReturnOf(SyscallTables.LinuxX86_64Abi, name));
        Assert.Equal(SyscallReturn.Hex, LinuxSyscalls.ReturnOf(SyscallTables.LinuxI386Abi, "mmap2"));
        Assert.Equal(SyscallReturn.Decimal, LinuxSyscalls.ReturnOf(SyscallTables.LinuxX86_64Abi, "openat"));
        Assert.Equal(SyscallReturn.Decimal, LinuxSyscalls.ReturnOf("nt-winxp-sp2-x86", "NtCreateFile"));
        Assert.Equal(SyscallReturn.Decimal, LinuxSyscalls.ReturnOf(SyscallTables.LinuxX86_64Abi, "no_such_call"));
    }

    private static long[] Numbers(LinuxSyscallTable table, SyscallTraits traits) => table.With(traits).Select(c => c.Number).ToArray();
}
