using System.Text;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// The box a hostile sample runs in: unless network is allowed, its own network namespace with only
/// loopback up, which the recorder makes around the spawn of the prologue shell
/// (<see cref="Spawn"/>, <see cref="IsolatedNetwork"/>); and a shell prologue for the rest:
/// resource limits and a scratch working directory. The prologue then stops itself
/// (<c>kill -STOP $$</c>, so the recorder can seize it) and becomes an ordinary shell that runs the
/// program as a user's shell would: bash forks, the child execs the program. That shell is the
/// program's parent, in the program's session, network namespace, limits and CPU affinity, and it
/// sets "_" to the program as bash does — nothing about the program's parent, session or
/// environment shows a recorder (docs/transparency.md).
/// </summary>
public sealed class Sandbox
{
    private readonly SandboxOptions _options;

    public string WorkingDirectory { get; }
    /// <summary>What <see cref="End"/> does with the working directory.</summary>
    private readonly WorkingDirectoryFate _fate;

    public Sandbox(SandboxOptions options)
    {
        _options = options;
        if (options.WorkingDirectory is { } dir && options.KeepWorkingDirectory is not null)
            throw new RecordingSetupException("--cwd and --keep-workdir both name the working directory: give one");
        if (options.WorkingDirectory is { } user)
        {
            if (!Directory.Exists(user)) throw new RecordingSetupException($"working directory does not exist: {user}");
            WorkingDirectory = Path.GetFullPath(user);
            _fate = WorkingDirectoryFate.UserDirectory;
        }
        else if (options.KeepWorkingDirectory is { } keep)
        {
            WorkingDirectory = Path.GetFullPath(keep);
            if (Path.Exists(WorkingDirectory))
                throw new RecordingSetupException($"--keep-workdir {keep}: it exists already (give a new directory: the program starts in an empty one)");
            if (!Directory.Exists(Path.GetDirectoryName(WorkingDirectory)))
                throw new RecordingSetupException($"--keep-workdir {keep}: its parent directory does not exist");
            Directory.CreateDirectory(WorkingDirectory);
            _fate = WorkingDirectoryFate.Kept;
        }
        else
        {
            // A neutral name, as mktemp -d gives (/tmp/tmp.XXXXXX): samples look for analysis words in their directory.
            WorkingDirectory = Directory.CreateTempSubdirectory("tmp.").FullName;
            _fate = WorkingDirectoryFate.Removed;
        }
    }

    /// <summary>
    /// Starts <paramref name="argv"/> (a <see cref="ShellArgv"/>) in the box's network: a fresh
    /// namespace with only loopback up, unless network is allowed. Returns the pid; throws
    /// <see cref="RecordingSetupException"/> with a one-line reason (the sample never ran).
    /// </summary>
    internal int Spawn(string[] argv, Native.PosixSpawn.Stdio stdio)
    {
        try
        {
            return Native.PosixSpawn.Spawn(argv, stdio, ownNetwork: _options.IsolateNetwork);
        }
        catch (InvalidOperationException e)
        {
            throw new RecordingSetupException(e.Message);
        }
    }

    /// <summary>
    /// argv for /bin/sh that applies the limits and working directory and then runs
    /// <paramref name="program"/> with <paramref name="arguments"/> from a shell that forks it
    /// (<see cref="ParentShell"/>: bash, or /bin/sh where there is no bash); start it with
    /// <see cref="Spawn"/>, which gives it its network. With <paramref name="stopBeforeExec"/> the
    /// prologue stops itself before it becomes that shell (for PTRACE_SEIZE: the recorder follows
    /// the shell to its fork, takes the child and lets the shell go); without, it just runs the
    /// program in the same box (used to run a reference tool such as strace under identical conditions).
    /// </summary>
    public string[] ShellArgv(string program, IReadOnlyList<string> arguments, bool stopBeforeExec)
    {
        var script = new StringBuilder();
        // Exit code 125 marks a failed prologue (the sample never ran).
        script.Append("ulimit -c 0 || exit 125; ");
        if (_options.MaxFileSizeBytes > 0) script.Append($"ulimit -f {_options.MaxFileSizeBytes / 512} || exit 125; ");
        if (_options.MaxAddressSpaceBytes > 0) script.Append($"ulimit -v {_options.MaxAddressSpaceBytes / 1024} || exit 125; ");
        if (_options.MaxProcesses > 0) script.Append($"ulimit -p {_options.MaxProcesses} || exit 125; ");
        if (_options.MaxOpenFiles > 0) script.Append($"ulimit -n {_options.MaxOpenFiles} || exit 125; ");
        script.Append($"cd -- {Quote(WorkingDirectory)} || exit 125; ");
        // The last exec leaves a plain "bash -c '"$0" "$@"; exit $?' PROGRAM ARGS" as the program's
        // parent; the "; exit $?" makes bash fork the program instead of exec'ing it in its place.
        if (stopBeforeExec) script.Append("kill -STOP $$; ");
        script.Append($"exec {ParentShell} -c {Quote(ParentScript)} \"$0\" \"$@\"");
        var argv = new List<string> { "/bin/sh", "-c", script.ToString(), program };
        argv.AddRange(arguments);
        return argv.ToArray();
    }

    /// <summary>The shell that becomes the program's parent: bash (which sets "_" to the program, as a user's shell does), else /bin/sh.</summary>
    public static string ParentShell { get; } = File.Exists("/bin/bash") ? "/bin/bash" : "/bin/sh";

    /// <summary>What the parent shell runs: the program, forked (not exec'd), its exit status passed on.</summary>
    public const string ParentScript = "\"$0\" \"$@\"; exit $?";

    /// <summary>
    /// Recording is over (every traced process is gone): a scratch directory is deleted with what
    /// the program left in it; a kept or user directory stays. Says which.
    /// </summary>
    public WorkingDirectoryFate End()
    {
        if (_fate == WorkingDirectoryFate.Removed)
        {
            try { Directory.Delete(WorkingDirectory, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return WorkingDirectoryFate.Kept; }
        }
        return _fate;
    }

    /// <summary>POSIX shell single-quoting: safe for any byte string.</summary>
    public static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    public IReadOnlyDictionary<string, string> Describe() => new Dictionary<string, string>
    {
        ["network"] = _options.IsolateNetwork ? "isolated (own namespace, loopback only)" : "host",
        ["cwd"] = WorkingDirectory,
        ["limits"] = $"core=0 fsize={_options.MaxFileSizeBytes} as={_options.MaxAddressSpaceBytes} nproc={_options.MaxProcesses} nofile={_options.MaxOpenFiles}",
    };
}

/// <summary>How the sample is confined. Defaults suit a hostile sample; every limit is a ulimit.</summary>
public sealed record SandboxOptions
{
    /// <summary>Own network namespace with only loopback (false: --allow-network).</summary>
    public bool IsolateNetwork { get; init; } = true;
    /// <summary>The user's own working directory (left as it is); null makes a fresh scratch directory
    /// under the temp folder, deleted with its contents when recording ends.</summary>
    public string? WorkingDirectory { get; init; }
    /// <summary>Make the scratch directory here instead (it must not exist yet) and keep it, with the
    /// files the program left, when recording ends (--keep-workdir DIR).</summary>
    public string? KeepWorkingDirectory { get; init; }
    public long MaxFileSizeBytes { get; init; } = 1L << 30;
    public long MaxAddressSpaceBytes { get; init; } = 16L << 30;
    /// <summary>RLIMIT_NPROC, and the recorder's own cap on live traced processes (the kernel does
    /// not apply RLIMIT_NPROC to root): beyond it fork/clone fail with EAGAIN.</summary>
    public int MaxProcesses { get; init; } = 1024;
    public int MaxOpenFiles { get; init; } = 1024;
    /// <summary>Files for the sample's stdin/stdout/stderr; null inherits the recorder's.</summary>
    public string? StdinPath { get; init; }
    public string? StdoutPath { get; init; }
    public string? StderrPath { get; init; }
}
