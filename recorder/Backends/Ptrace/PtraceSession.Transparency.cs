using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>The session as the transparency layer sees it (<see cref="ITransparencyHost"/>).</summary>
internal sealed partial class PtraceSession : ITransparencyHost
{
    private TransparencyLayer? _transparency;

    /// <summary>Registers the transparency layer after the mode's components (called once the launch is known).</summary>
    private void AttachTransparency()
    {
        if (!_options.Transparent) return;
        _transparency = new TransparencyLayer(this);
        _hooks.Add(_transparency);
    }

    (int Pid, TaskPlace Place)? ITransparencyHost.Task(int tid)
    {
        if (!_scheduler.TryGet(tid, out var t)) return null;
        var place = t.State switch
        {
            TraceeState.InSyscall => TaskPlace.InSyscall,
            TraceeState.GroupStopped => TaskPlace.GroupStopped,
            _ => TaskPlace.Running,
        };
        return (t.Pid, place);
    }

    bool ITransparencyHost.IsProcess(int pid) => _processes.ContainsKey(pid);

    int ITransparencyHost.ParentOf(int pid) => _processes.TryGetValue(pid, out var p) ? p.ParentPid : 0;

    IEnumerable<int> ITransparencyHost.ThreadsOf(int pid) => _scheduler.All.Where(t => t.Pid == pid).Select(t => t.Tid).ToList();

    bool ITransparencyHost.TryGetRegisters(int tid, out UserRegs regs)
    {
        regs = default;
        if (!_scheduler.TryGet(tid, out var t)) return false;
        regs = t.Raw;
        return true;
    }

    int ITransparencyHost.ReadMemory(int pid, ulong address, Span<byte> into) =>
        _processes.TryGetValue(pid, out var p) ? p.Memory.Read(address, into) : 0;

    bool ITransparencyHost.WriteMemory(int pid, ulong address, ReadOnlySpan<byte> bytes)
    {
        if (!_processes.TryGetValue(pid, out var p)) return false;
        if (_ptrace.WriteMemory(pid, address, bytes) == bytes.Length) { p.Space.NoteWrite(address, bytes.Length); return true; }
        // Read-only pages (PTRACE_POKETEXT writes code): /proc/<pid>/mem writes through protections,
        // whatever state the process's threads are in.
        try
        {
            using var mem = new FileStream($"/proc/{pid}/mem", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1);
            mem.Seek((long)address, SeekOrigin.Begin);
            mem.Write(bytes);
            p.Space.NoteWrite(address, bytes.Length);
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    void ITransparencyHost.Hold(int pid, bool held)
    {
        foreach (var t in _scheduler.Hold(pid, held))
            if (held && t.State == TraceeState.Running && !_ptrace.Interrupt(t.Tid)) Gone(t); // native threads stop where they are
    }
}
