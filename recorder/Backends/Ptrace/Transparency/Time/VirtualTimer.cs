namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>A process's ITIMER_REAL (alarm, setitimer) in virtual time: when it expires the process gets SIGALRM.</summary>
internal sealed class VirtualTimer
{
    /// <summary>Elapsed virtual ns at which it expires; 0 when disarmed.</summary>
    public long DeadlineNs;
    /// <summary>Re-armed with this period after each expiry; 0 for a one-shot timer.</summary>
    public long IntervalNs;
    public bool Armed => DeadlineNs > 0;
}
