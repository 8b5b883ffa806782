using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tests.Shared;

/// <summary>
/// A fake of what the ptrace recorder writes, for testing the analyzer without running a program:
/// instructions with real x86-64 encodings, the registers they change, memory writes, system calls
/// and memory map events, in the order the recorder logs them. The analyzer under test is real.
/// </summary>
internal sealed class FakeRecording(TraceWriter writer, int pid, int tid)
{
    public readonly TraceWriter Writer = writer;
    public int Pid { get; set; } = pid;
    public int Tid { get; set; } = tid;
    public RegisterFile Registers;

    public static TraceHeader Header(string target) => new()
    {
        ToolVersion = "0.1.0", Backend = "fake", TargetPath = target, TargetArgv = [target],
        Architecture = "x86_64", Host = "test", StartTime = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero),
        BackendParameters = new Dictionary<string, string> { ["mode"] = "full" },
    };

    /// <summary>Executes the instruction at rip; <paramref name="next"/> is where the thread goes after it.</summary>
    public FakeRecording Run(ulong rip, byte[] code, ulong? next = null, Action? effects = null)
    {
        Writer.Instruction(Pid, Tid, rip, code);
        effects?.Invoke();
        Registers.Rip = next ?? rip + (ulong)code.Length;
        Writer.Registers(Pid, Tid, Registers);
        return this;
    }

    public FakeRecording Set(Register r, ulong value)
    {
        Registers[r] = value;
        return this;
    }

    public void Write(ulong address, ReadOnlySpan<byte> value, bool kernel = false, byte[]? old = null) =>
        Writer.MemoryWrite(Pid, Tid, address, value,
            (kernel ? MemoryWriteFlags.Kernel : 0) | (old != null ? MemoryWriteFlags.HasOldValue : 0), old);

    public void Map(ulong start, ulong end, RegionProtection protection, string name = "", ulong offset = 0) =>
        Writer.Write(new RegionMapEvent { Pid = Pid, Tid = Tid, Start = start, End = end, Protection = protection, Name = name, FileOffset = offset });

    public void Snapshot(ulong address, byte[] bytes, string reason) =>
        Writer.Write(new RegionSnapshotEvent { Pid = Pid, Tid = Tid, Address = address, Bytes = bytes, Reason = reason });

    /// <summary>A `syscall` instruction at rip with its entry and exit events (exit omitted when ret is null).</summary>
    public void Syscall(ulong rip, long nr, string name, ulong[] args, string[] decoded, long? ret, long errno = 0, Action? kernelEffects = null)
    {
        Writer.Instruction(Pid, Tid, rip, [0x0f, 0x05]);
        Writer.Write(new SyscallEntryEvent { Pid = Pid, Tid = Tid, Abi = "linux-x86_64", Number = nr, Name = name, Args = args, Decoded = decoded });
        if (ret is { } r)
        {
            Writer.Write(new SyscallExitEvent { Pid = Pid, Tid = Tid, Abi = "linux-x86_64", Number = nr, Name = name, Return = r, Errno = errno });
            kernelEffects?.Invoke();
            Registers[Register.Rax] = (ulong)r;
        }
        Registers.Rip = rip + 2;
        Writer.Registers(Pid, Tid, Registers);
    }
}
