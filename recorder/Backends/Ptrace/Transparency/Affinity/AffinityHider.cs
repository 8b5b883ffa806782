namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Affinity;

/// <summary>
/// Full mode pins the tracer and the program to one CPU (single-stepping is a ping-pong; see
/// CpuBinding). The program must not see it: sched_getaffinity and the Cpus_allowed lines of its
/// /proc status files show the affinity it would have natively — its parent shell's, which the
/// recorder did not pin. Once a thread sets its own affinity (sched_setaffinity succeeded), what the
/// kernel says is what it asked for, and is shown as it is; new threads and processes start with
/// their creator's view.
/// </summary>
internal sealed class AffinityHider(ulong[] believed, string? statusMask, string? statusList)
{
    private const long SchedSetaffinity = 203, SchedGetaffinity = 204;
    private const long Clone = 56, Fork = 57, Vfork = 58, Clone3 = 435;

    /// <summary>Threads whose affinity is their own doing (not hidden).</summary>
    private readonly HashSet<int> _own = [];

    public string? StatusMask => statusMask;
    public string? StatusList => statusList;

    /// <summary>True when the affinity of <paramref name="tid"/> is the recorder's pinning (to be hidden).</summary>
    public bool Hidden(int tid) => !_own.Contains(tid);

    public void OnExit(ISyscallView call)
    {
        long ret = call.Return;
        switch (call.Number)
        {
            case SchedSetaffinity when ret == 0:
                _own.Add(call.Arg(0) == 0 ? call.Tid : (int)call.Arg(0));
                return;
            case SchedGetaffinity when ret > 0:
            {
                int target = call.Arg(0) == 0 ? call.Tid : (int)call.Arg(0);
                if (_own.Contains(target) || !IsOurs(target)) return;
                var bytes = new byte[ret];
                for (int i = 0; i < bytes.Length; i++) bytes[i] = i / 8 < believed.Length ? (byte)(believed[i / 8] >> (8 * (i % 8))) : (byte)0;
                call.WriteMemory(call.Arg(2), bytes);
                return;
            }
            case Clone or Fork or Vfork or Clone3 when ret > 0:
                if (_own.Contains(call.Tid)) _own.Add((int)ret); // the child inherits its creator's own affinity
                return;
        }
    }

    /// <summary>Set by the layer: whether a tid is a task of the recording (others are shown as they are).</summary>
    public Func<int, bool> IsOurs { get; set; } = _ => true;

    public void Forget(int tid) => _own.Remove(tid);
}
