namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>Finds the ether-agent executable: --agent, $ETHER_AGENT, the repo's build folder, then PATH.</summary>
public static class AgentLocator
{
    public static string Find(string? explicitPath)
    {
        if (explicitPath != null)
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : throw new RecordingSetupException($"{explicitPath}: no such agent executable");
        if (Environment.GetEnvironmentVariable("ETHER_AGENT") is { Length: > 0 } env)
            return File.Exists(env) ? env : throw new RecordingSetupException($"ETHER_AGENT={env}: no such file");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "xen-ether", "agent", "build", "ether-agent");
            if (File.Exists(candidate)) return candidate;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "ether-agent");
            if (File.Exists(candidate)) return candidate;
        }
        throw new RecordingSetupException("ether-agent not found: build it with xen-ether/agent/test.sh, or pass --agent PATH");
    }
}
