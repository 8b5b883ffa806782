namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>
/// Turns the agent's address-space and register facts into the trace's pid and tid. Xen knows
/// page tables, not processes or threads: a `process` frame names an address space (cr3) with
/// the guest's own pid; one it never named gets pid = cr3 >> 12. Threads are told apart by
/// fs_base (the TEB on 32-bit Windows, the TLS block on Linux), or by vCPU when fs_base is 0.
/// </summary>
internal sealed class XenAddressSpaces
{
    private readonly Dictionary<ulong, int> _pids = new();

    public void Name(ulong cr3, ulong pid) => _pids[cr3] = (int)Math.Min(pid, int.MaxValue);

    public bool IsNamed(ulong cr3) => _pids.ContainsKey(cr3);

    public int Pid(ulong cr3) => _pids.TryGetValue(cr3, out int pid) ? pid : (int)((cr3 >> 12) & 0x7FFF_FFFF);

    public static int Tid(ulong fsBase, ulong vcpu) =>
        fsBase != 0 ? (int)((fsBase >> 12) & 0x7FFF_FFFF) : 1_000_000 + (int)Math.Min(vcpu, 1_000_000);
}
