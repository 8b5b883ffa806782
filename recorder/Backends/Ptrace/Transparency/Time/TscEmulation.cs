using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>
/// rdtsc and rdtscp answered from the virtual clock: in full mode before the instruction would be
/// stepped (it is not executed), in native runs when it faults under PR_SET_TSC(PR_TSC_SIGSEGV).
/// Either way it is one step with the registers it would have produced: edx:eax the virtual TSC,
/// and for rdtscp ecx the TSC_AUX Linux sets (node &lt;&lt; 12 | cpu) of the CPU the thread is on.
/// </summary>
internal static class TscEmulation
{
    /// <summary>Recognises rdtsc (0f 31) and rdtscp (0f 01 f9) at the start of <paramref name="code"/>.</summary>
    public static bool Recognise(ReadOnlySpan<byte> code, out int length, out bool rdtscp)
    {
        length = 0;
        rdtscp = false;
        if (code.Length >= 2 && code[0] == 0x0f && code[1] == 0x31) { length = 2; return true; }
        if (code.Length >= 3 && code[0] == 0x0f && code[1] == 0x01 && code[2] == 0xf9) { length = 3; rdtscp = true; return true; }
        return false;
    }

    /// <summary>The registers after the instruction: 32-bit writes zero the upper halves, as the CPU does.</summary>
    public static UserRegs After(in UserRegs before, ulong tsc, bool rdtscp, uint aux, int length)
    {
        var r = before;
        r.Rax = (uint)tsc;
        r.Rdx = tsc >> 32;
        if (rdtscp) r.Rcx = aux;
        r.Rip += (ulong)length;
        return r;
    }

    private static readonly Dictionary<int, int> NodeOfCpu = new();

    /// <summary>TSC_AUX as Linux programs it: the NUMA node in bits 12+ and the CPU number below.</summary>
    public static uint Aux(int cpu)
    {
        if (cpu < 0) return 0;
        if (!NodeOfCpu.TryGetValue(cpu, out int node))
        {
            node = 0;
            try
            {
                var dir = new DirectoryInfo($"/sys/devices/system/cpu/cpu{cpu}");
                foreach (var d in dir.EnumerateDirectories("node*"))
                    if (int.TryParse(d.Name.AsSpan(4), out int n)) { node = n; break; }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            NodeOfCpu[cpu] = node;
        }
        return (uint)((node << 12) | (cpu & 0xfff));
    }

    /// <summary>The CPU a thread last ran on (field 39 of /proc/&lt;tid&gt;/stat), or -1.</summary>
    public static int CpuOf(int tid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{tid}/stat");
            int close = stat.LastIndexOf(')');
            var fields = stat[(close + 2)..].Split(' ');
            return fields.Length > 39 - 3 && int.TryParse(fields[39 - 3], out int cpu) ? cpu : -1;
        }
        catch (IOException) { return -1; }
    }
}
