using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tests.Shared;

/// <summary>
/// A fake recording of a self-decrypting program with N nested layers (what the recorder would log
/// for a program like Programs/layers.c). The stub (layer 0, loaded from the file) first maps the
/// memory the deeper layers need, then every layer runs the same XOR loop, which writes the next
/// layer's code one byte per iteration, and jumps to it. The last layer calls
/// write(1, "unpacked\n", 9) and exit_group(0). Layer 1 is decrypted in place inside the program's
/// own image (as UPX does); deeper layers go to fresh mmap'd memory, or, with <c>reuse</c>,
/// alternate between the image and one mapped region, overwriting a layer that already ran.
/// </summary>
internal static class FakePackedProgram
{
    public const string Target = "/work/tests/packed";
    public const int Pid = 4000;
    public const ulong ImageBase = 0x400000;
    public const ulong StubAddress = 0x401000;
    public const ulong PayloadAddress = 0x402000; // inside the image: its rwx segment
    public const ulong FreshBase = 0x7f0000000000;
    public const string Message = "unpacked\n";

    /// <summary>Address where layer k (1-based) is decrypted and entered.</summary>
    public static ulong LayerAddress(int k, bool reuse) =>
        k == 1 ? PayloadAddress
        : reuse ? (k % 2 == 1 ? PayloadAddress : FreshBase)
        : FreshBase + (ulong)(k - 2) * 0x10000;

    /// <summary>Fresh regions the stub maps first.</summary>
    private static int FreshRegions(int layers, bool reuse) => layers < 2 ? 0 : reuse ? 1 : layers - 1;

    /// <summary>Address of layer 0's loop (after the stub's mmap calls).</summary>
    public static ulong StubLoop(int layers, bool reuse) => StubAddress + 2UL * (ulong)FreshRegions(layers, reuse);

    /// <summary>Layer k's code: a decrypt loop for the next layer, or for the last layer write + exit.</summary>
    public static byte[] LayerCode(int k, int layers)
    {
        if (k == layers)
            return [0xb8, 1, 0, 0, 0, 0x0f, 0x05, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05]; // mov eax,1; syscall; mov eax,231; syscall
        int next = LayerCode(k + 1, layers).Length;
        return
        [
            0xb9, (byte)next, 0, 0, 0, // mov ecx, next layer's length
            0x80, 0x37, 0x5a,          // xor byte [rdi], 0x5a
            0x48, 0xff, 0xc7,          // inc rdi
            0xff, 0xc9,                // dec ecx
            0x75, 0xf6,                // jnz xor
            0xe9, 0, 0, 0, 0,          // jmp next layer
        ];
    }

    public static void Write(string path, int layers, bool reuse = false, TraceWriterOptions? options = null)
    {
        using var w = TraceWriter.Create(path, FakeRecording.Header(Target), options ?? new TraceWriterOptions { ChunkSteps = 64, ChunkAge = TimeSpan.FromHours(1) });
        var f = new FakeRecording(w, Pid, Pid);
        w.Write(new ProcessStartEvent { Pid = Pid, Tid = Pid, ParentPid = 1, How = "spawn" });
        w.Write(new ExecEvent { Pid = Pid, Tid = Pid, Path = Target, Argv = [Target] });
        w.Write(new ThreadStartEvent { Pid = Pid, Tid = Pid, ParentTid = 0 });
        f.Map(ImageBase, StubAddress, RegionProtection.Read, Target);
        f.Map(StubAddress, PayloadAddress, RegionProtection.Read | RegionProtection.Execute, Target, 0x1000);
        f.Map(PayloadAddress, PayloadAddress + 0x2000, RegionProtection.Read | RegionProtection.Write | RegionProtection.Execute, Target, 0x2000);
        f.Map(0x7ffd0000, 0x7fff0000, RegionProtection.Read | RegionProtection.Write, "[stack]");
        var stub = LayerCode(0, layers);
        f.Snapshot(StubAddress, [.. new byte[2 * FreshRegions(layers, reuse)], .. stub], "exec");
        f.Set(Register.Rsp, 0x7ffefff0).Set(Register.Rip, StubAddress);
        w.Registers(Pid, Pid, f.Registers);

        // The stub maps the regions deeper layers use.
        ulong rip = StubAddress;
        for (int r = 0; r < FreshRegions(layers, reuse); r++, rip += 2)
        {
            ulong region = FreshBase + (ulong)r * 0x10000;
            f.Syscall(rip, 9, "mmap", [0, 0x10000, 7, 0x22, ulong.MaxValue, 0],
                ["NULL", "65536", "PROT_READ|PROT_WRITE|PROT_EXEC", "MAP_PRIVATE|MAP_ANONYMOUS", "-1", "0"], (long)region,
                kernelEffects: () => f.Map(region, region + 0x10000, RegionProtection.Read | RegionProtection.Write | RegionProtection.Execute));
        }

        for (int k = 0; k < layers; k++)
        {
            ulong at = k == 0 ? StubLoop(layers, reuse) : LayerAddress(k, reuse);
            var code = LayerCode(k, layers);
            var plain = LayerCode(k + 1, layers);
            ulong target = LayerAddress(k + 1, reuse);
            f.Set(Register.Rdi, target).Run(at, code[..5], effects: () => f.Set(Register.Rcx, (ulong)plain.Length));
            for (int i = 0; i < plain.Length; i++)
            {
                ulong dst = target + (ulong)i;
                byte b = plain[i];
                f.Run(at + 5, code[5..8], effects: () => f.Write(dst, [b], old: [(byte)(b ^ 0x5a)]));
                f.Set(Register.Rdi, dst + 1).Run(at + 8, code[8..11]);
                f.Set(Register.Rcx, (ulong)(plain.Length - i - 1)).Run(at + 11, code[11..13]);
                f.Run(at + 13, code[13..15], next: i + 1 < plain.Length ? at + 5 : at + 15);
            }
            f.Run(at + 15, code[15..20], next: target);
        }

        ulong last = LayerAddress(layers, reuse);
        var final = LayerCode(layers, layers);
        if (layers == 0) last = StubAddress;
        f.Run(last, final[..5], effects: () => f.Set(Register.Rax, 1));
        f.Set(Register.Rdi, 1).Set(Register.Rsi, PayloadAddress + 0x1000).Set(Register.Rdx, (ulong)Message.Length);
        f.Syscall(last + 5, 1, "write", [1, PayloadAddress + 0x1000, (ulong)Message.Length, 0, 0, 0], ["1", "\"unpacked\\n\"", "9"], Message.Length);
        f.Run(last + 7, final[7..12], effects: () => f.Set(Register.Rax, 231));
        f.Syscall(last + 12, 231, "exit_group", [0, 0, 0, 0, 0, 0], ["0"], null);
        w.Write(new ThreadExitEvent { Pid = Pid, Tid = Pid, ExitCode = 0 });
        w.Write(new ProcessExitEvent { Pid = Pid, Tid = Pid, ExitCode = 0 });
        w.Close(StopReason.Exited);
    }
}
