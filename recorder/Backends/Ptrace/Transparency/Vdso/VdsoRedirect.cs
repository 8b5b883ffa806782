using Ether.Replay.Recorder.Backends.Ptrace.Interception;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Vdso;

/// <summary>After each successful exec: the new image's vDSO time functions become system calls (<see cref="VdsoPatch"/>).</summary>
internal static class VdsoRedirect
{
    public static void Apply(SyscallStop stop)
    {
        (ulong start, ulong end)? range = null;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{stop.Pid}/maps"))
            {
                if (!line.EndsWith("[vdso]", StringComparison.Ordinal)) continue;
                var bounds = line[..line.IndexOf(' ')].Split('-');
                range = (Convert.ToUInt64(bounds[0], 16), Convert.ToUInt64(bounds[1], 16));
                break;
            }
        }
        catch (IOException) { return; }
        if (range is not { } r || r.end <= r.start || r.end - r.start > 1 << 20) return;
        var image = new byte[r.end - r.start];
        if (stop.ReadMemory(r.start, image) != image.Length) return;
        var writes = VdsoPatch.Plan(image, r.start);
        var done = new List<string>();
        foreach (var w in writes)
            if (stop.WriteMemory(w.Address, w.Code)) done.Add($"{w.Symbol} at {w.Address:x}");
        if (done.Count > 0)
            stop.Annotate("transparency", $"vDSO time functions redirected to system calls (virtual time): {string.Join(", ", done)}");
    }
}
