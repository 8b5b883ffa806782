using System.Collections;
using System.Runtime.InteropServices;
using System.Text;

namespace Ether.Replay.Recorder.Backends.Ptrace.Native;

/// <summary>
/// Starts a child with posix_spawn. Not <c>Process.Start</c>: the runtime's child bookkeeping
/// reaps with waitpid and could swallow the ptrace stops the recorder waits for.
/// The child gets its own session (so the sample's <c>kill(0, ...)</c> reaches only its own
/// process group), an empty signal mask and default dispositions for every signal (the .NET
/// runtime ignores SIGPIPE, and ignored dispositions would otherwise survive exec).
/// </summary>
internal static unsafe class PosixSpawn
{
    public sealed record Stdio(string? Stdin, string? Stdout, string? Stderr);

    /// <summary>
    /// Returns the child's pid; throws <see cref="InvalidOperationException"/> with a one-line reason.
    /// With <paramref name="ownNetwork"/> the child is born in a fresh network namespace with only
    /// loopback up (<see cref="IsolatedNetwork"/>), entered by the calling thread for the spawn alone.
    /// </summary>
    public static int Spawn(string[] argv, Stdio stdio, bool ownNetwork = false)
    {
        var allocations = new List<nint>();
        byte* attr = (byte*)NativeMemory.AllocZeroed(LibC.SpawnAttrSize);
        byte* actions = (byte*)NativeMemory.AllocZeroed(LibC.FileActionsSize);
        byte* sigset = (byte*)NativeMemory.AllocZeroed(LibC.SigSetSize);
        try
        {
            LibC.PosixSpawnAttrInit(attr);
            LibC.FileActionsInit(actions);
            LibC.PosixSpawnAttrSetFlags(attr, LibC.POSIX_SPAWN_SETSID | LibC.POSIX_SPAWN_SETSIGMASK | LibC.POSIX_SPAWN_SETSIGDEF);
            LibC.SigEmptySet(sigset);
            LibC.PosixSpawnAttrSetSigMask(attr, sigset);
            LibC.SigFillSet(sigset);
            LibC.SigDelSet(sigset, Signals.SIGKILL);
            LibC.SigDelSet(sigset, Signals.SIGSTOP);
            LibC.PosixSpawnAttrSetSigDefault(attr, sigset);

            AddOpen(actions, 0, stdio.Stdin, LibC.O_RDONLY, allocations);
            AddOpen(actions, 1, stdio.Stdout, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC, allocations);
            AddOpen(actions, 2, stdio.Stderr, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC, allocations);
            CloseAllBut(actions, GivenDescriptors.Fds);

            byte** argvp = StringArray(argv, allocations);
            byte** envp = StringArray(CurrentEnvironment(), allocations);
            int pid;
            // Everything is prepared before the thread enters the namespace: between Enter and Leave it
            // only spawns (a thread it started meanwhile would inherit the namespace).
            var network = ownNetwork ? IsolatedNetwork.Enter() : null;
            int rc = LibC.PosixSpawn(&pid, argvp[0], actions, attr, argvp, envp);
            string? stuck = network?.Leave();
            if (rc != 0)
                throw new InvalidOperationException($"posix_spawn {argv[0]}: {Marshal.GetPInvokeErrorMessage(rc)}");
            if (stuck != null)
            {
                LibC.Kill(pid, Signals.SIGKILL);
                LibC.WaitPid(pid, null, 0);
                throw new InvalidOperationException(stuck);
            }
            return pid;
        }
        finally
        {
            LibC.FileActionsDestroy(actions);
            LibC.PosixSpawnAttrDestroy(attr);
            NativeMemory.Free(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(sigset);
            foreach (var p in allocations) NativeMemory.Free((void*)p);
        }
    }

    /// <summary>Closes in the child every descriptor above 2 but <paramref name="given"/> (sorted), whatever another thread
    /// of this process opened without close-on-exec meanwhile (<see cref="GivenDescriptors"/>): all from the highest given
    /// one up at once; below it, those open now (a gap a descriptor fills between this and the spawn stays open: none is
    /// given in the usual case, and then there are no gaps). A glibc without closefrom (before 2.34) gets the second
    /// way for all of them.</summary>
    private static void CloseAllBut(void* actions, IReadOnlyList<int> given)
    {
        int from = given.Count == 0 ? 3 : given[^1] + 1;
        try
        {
            if (LibC.FileActionsAddCloseFrom(actions, from) != 0) throw new InvalidOperationException("posix_spawn_file_actions_addclosefrom_np failed");
        }
        catch (EntryPointNotFoundException)
        {
            from = int.MaxValue; // glibc before 2.34: close what is open now, above the given ones too
        }
        if (from == 3) return; // nothing given: closefrom took them all, no listing needed
        foreach (var (fd, _) in GivenDescriptors.Open())
            if (fd < from && !given.Contains(fd)) LibC.FileActionsAddClose(actions, fd);
    }

    private static void AddOpen(void* actions, int fd, string? path, int flags, List<nint> allocations)
    {
        if (path is null) return;
        byte* p = Utf8(path, allocations);
        LibC.FileActionsAddOpen(actions, fd, p, flags, 0x1a4 /* 0644 */);
    }

    private static string[] CurrentEnvironment()
    {
        var list = new List<string>();
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            list.Add($"{e.Key}={e.Value}");
        list.Sort(StringComparer.Ordinal);
        return list.ToArray();
    }

    private static byte* Utf8(string s, List<nint> allocations)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        allocations.Add((nint)p);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }

    private static byte** StringArray(string[] items, List<nint> allocations)
    {
        byte** arr = (byte**)NativeMemory.Alloc((nuint)(items.Length + 1), (nuint)sizeof(nint));
        allocations.Add((nint)arr);
        for (int i = 0; i < items.Length; i++) arr[i] = Utf8(items[i], allocations);
        arr[items.Length] = null;
        return arr;
    }
}
