using System.Reflection;

namespace Ether.Replay.Recorder.Recording;

/// <summary>The trace header and the tool version, built in one place for every backend.</summary>
public static class TraceHeaders
{
    /// <summary>The version of Ether.Replay written into every trace (the recorder assembly's informational version).</summary>
    public static string ToolVersion { get; } =
        typeof(TraceHeaders).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";

    /// <summary>A header stamped with the tool version, this host and the current time.</summary>
    public static TraceHeader Create(string backend, IReadOnlyDictionary<string, string> parameters, string targetPath,
        IReadOnlyList<string>? argv = null, string targetSha256 = "", string architecture = "x86_64") => new()
    {
        ToolVersion = ToolVersion,
        Backend = backend,
        BackendParameters = parameters,
        TargetPath = targetPath,
        TargetArgv = argv ?? [],
        TargetSha256 = targetSha256,
        Architecture = architecture,
        StartTime = DateTimeOffset.UtcNow,
        Host = Environment.MachineName,
    };
}
