using Ether.Replay.Formats.Instructions;
using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

/// <summary>
/// One traced thread as the recording sees it: its registers after the last stop, the step being
/// prepared (instruction, the ranges it will write, an unpack snapshot) and the system call it is in.
/// Preallocated buffers: preparing and completing a step allocates nothing.
/// </summary>
internal sealed class RecordedThread(RecordedProcess process, int tid)
{
    public RecordedProcess Process { get; set; } = process;
    public int Tid { get; set; } = tid;
    public int Pid => Process.Pid;

    /// <summary>Registers after the last stop (= before the next step).</summary>
    public RegisterFile Registers;

    // The step being prepared / in flight.
    public bool StepPending;
    public ulong StepRip;
    public int StepLength;
    public readonly byte[] StepCode = new byte[16];
    public Instruction StepInstruction;
    public readonly MemoryRange[] StepWrites = new MemoryRange[MemoryOperands.MaxRanges];
    public int StepWriteCount;
    /// <summary>The bytes under <see cref="StepWrites"/> before the step, back to back; length of each read in <see cref="StepOldLength"/>.</summary>
    public byte[] StepOldValues = new byte[4096];
    public readonly int[] StepOldLength = new int[MemoryOperands.MaxRanges];
    public RegionSnapshotEvent? StepSnapshot;
    /// <summary>Pages the step is about to read that the trace did not hold (or held changed): logged after its instruction.</summary>
    public readonly List<RegionSnapshotEvent> StepReadSnapshots = new();

    // The system call between its entry and exit.
    public bool InSyscall;
    public string SyscallAbi = "";
    public long SyscallNumber;
    public string SyscallName = "";
    public readonly ulong[] SyscallArgs = new ulong[6];
}
