using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tests.Shared;

/// <summary>
/// A small scripted trace with everything the browser shows, written with the real trace writer in
/// chunks of 50 steps (so pages and jumps cross chunks): a loop that stores rax at [rsp-8] each
/// iteration, write() and a failing openat(), code written byte by byte into 0x600000 and called
/// (layer 1) before execution returns to the loaded code (layer 0), getpid(), then more loop. The
/// properties say at which steps things happened, for tests to check what the browser finds.
/// </summary>
internal sealed class WalkTrace
{
    public const int Pid = 100, Tid = 100;
    public const ulong Loop = 0x401000, SyscallRip = 0x401010, StoreRip = 0x401020, CallRip = 0x401030, Layer1 = 0x600000;
    public const ulong Stack = 0x7ff000;
    public const int LoopInstructions = 4;
    public static readonly byte[] Layer1Code = [0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3]; // mov eax, 42; ret

    public long FirstLoopStep { get; private set; }
    public long FirstStoreStep { get; private set; }
    public long WriteSyscallStep { get; private set; }
    public long OpenSyscallStep { get; private set; }
    public long LayerEntryStep { get; private set; }
    public long LayerReturnStep { get; private set; }
    public long GetpidSyscallStep { get; private set; }
    public long LastStep { get; private set; }
    public ulong StoreAddress => Stack + 0x800 - 8;

    private TraceWriter _w = null!;
    private RegisterFile _r;

    public static WalkTrace Write(string path, int loops = 30, int tailLoops = 40)
    {
        var t = new WalkTrace();
        var header = new TraceHeader
        {
            ToolVersion = "0.1.0", Backend = "scripted", TargetPath = "/walk/prog", TargetArgv = ["/walk/prog"],
            Architecture = "x86_64", Host = "test", StartTime = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero),
        };
        using (t._w = TraceWriter.Create(path, header, new TraceWriterOptions { ChunkSteps = 50, ChunkAge = TimeSpan.FromHours(1) }))
        {
            t.Script(loops, tailLoops);
            t._w.Close(StopReason.Exited);
        }
        return t;
    }

    private void Script(int loops, int tailLoops)
    {
        _w.Write(new ProcessStartEvent { Pid = Pid, Tid = Tid, How = "spawn" });
        _w.Write(new RegionMapEvent { Pid = Pid, Tid = Tid, Start = 0x401000, End = 0x402000, Protection = RegionProtection.Read | RegionProtection.Execute, Name = "/walk/prog" });
        _w.Write(new RegionMapEvent { Pid = Pid, Tid = Tid, Start = Layer1, End = Layer1 + 0x1000, Protection = RegionProtection.Read | RegionProtection.Write | RegionProtection.Execute, Name = "/walk/prog", FileOffset = 0x1000 });
        _w.Write(new RegionMapEvent { Pid = Pid, Tid = Tid, Start = Stack, End = Stack + 0x1000, Protection = RegionProtection.Read | RegionProtection.Write, Name = "[stack]" });
        _r[Register.Rsp] = Stack + 0x800;
        _r[Register.Rbx] = 1000;
        _r[Register.Rflags] = 0x246;
        _r.Rip = Loop;
        _w.Registers(Pid, Tid, _r);

        RunLoop(loops);
        WriteSyscallStep = Syscall(1, "write", [1, 0x402000, 5], ["1", "\"hello\"", "5"], 5, 0);
        OpenSyscallStep = Syscall(257, "openat", [unchecked((ulong)-100), 0x402010, 0], ["AT_FDCWD", "\"/nonexistent\"", "O_RDONLY"], -2, 2);

        // Write layer 1 byte by byte: mov byte [rdi], al at StoreRip.
        _r[Register.Rdi] = Layer1;
        for (int k = 0; k < Layer1Code.Length; k++)
        {
            _r[Register.Rax] = Layer1Code[k];
            Step(StoreRip, [0x88, 0x07], StoreRip, () => _w.MemoryWrite(Pid, Tid, Layer1 + (ulong)k, [Layer1Code[k]]));
            _r[Register.Rdi] = Layer1 + (ulong)k + 1;
        }
        _r[Register.Rdi] = Layer1;
        // call rdi: pushes the return address.
        ulong back = CallRip + 2;
        _r[Register.Rsp] -= 8;
        Step(CallRip, [0xff, 0xd7], Layer1, () => _w.MemoryWrite(Pid, Tid, _r.Rsp, BitConverter.GetBytes(back)));
        _r[Register.Rax] = 42;
        LayerEntryStep = Step(Layer1, Layer1Code[..5], Layer1 + 5);
        _r[Register.Rsp] += 8;
        Step(Layer1 + 5, [0xc3], back);
        _r.Rip = SyscallRip;
        LayerReturnStep = _w.Step + 1;
        Step(back, [0xeb, 0xdc], SyscallRip); // jmp back to the syscall
        GetpidSyscallStep = Syscall(39, "getpid", [], [], Pid, 0);
        _r.Rip = Loop;
        RunLoop(tailLoops);
        LastStep = _w.Step;
    }

    private void RunLoop(int loops)
    {
        for (int i = 0; i < loops; i++)
        {
            long store = Step(Loop, [0x48, 0x89, 0x44, 0x24, 0xf8], Loop + 5, () => _w.MemoryWrite(Pid, Tid, _r.Rsp - 8, BitConverter.GetBytes(_r[Register.Rax])));
            if (FirstLoopStep == 0) FirstLoopStep = FirstStoreStep = store;
            _r[Register.Rax] += 1;
            Step(Loop + 5, [0x48, 0x83, 0xc0, 0x01], Loop + 9);
            _r[Register.Rflags] ^= 0x40;
            Step(Loop + 9, [0x48, 0x39, 0xd8], Loop + 12);
            Step(Loop + 12, [0x75, 0xf2], i == loops - 1 ? SyscallRip : Loop);
        }
    }

    private long Step(ulong rip, byte[] code, ulong next, Action? effects = null)
    {
        _w.Instruction(Pid, Tid, rip, code);
        effects?.Invoke();
        _r.Rip = next;
        _w.Registers(Pid, Tid, _r);
        return _w.Step;
    }

    private long Syscall(long nr, string name, ulong[] args, string[] decoded, long ret, long errno)
    {
        _w.Instruction(Pid, Tid, SyscallRip, [0x0f, 0x05]);
        long step = _w.Step;
        _w.Write(new SyscallEntryEvent { Pid = Pid, Tid = Tid, Abi = "linux-x86_64", Number = nr, Name = name, Args = args, Decoded = decoded });
        _w.Write(new SyscallExitEvent { Pid = Pid, Tid = Tid, Abi = "linux-x86_64", Number = nr, Name = name, Return = ret, Errno = errno });
        _r[Register.Rax] = unchecked((ulong)ret);
        _r.Rip = SyscallRip + 2;
        _w.Registers(Pid, Tid, _r);
        return step;
    }
}
