using System.Diagnostics;
using Ether.Replay.Formats.Log;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>
/// The Xen backend (`ether record xen`): runs ether-agent (on a live domain or a replayed session)
/// or reads a frame stream captured earlier, and writes the frames as an .etrace. A stop request
/// (Ctrl-C, the time limit) asks the agent to give the guest back (SIGTERM) and keeps reading until
/// its end frame, so nothing recorded is lost; a broken stream closes the trace with what it had.
/// </summary>
internal sealed class XenBackend : IRecordingBackend
{
    private readonly XenRecordOptions _o;

    public XenBackend(XenRecordOptions o)
    {
        _o = o;
        int sources = (o.Domain != null ? 1 : 0) + (o.ReplaySession != null ? 1 : 0) + (o.FramesFile != null ? 1 : 0);
        if (sources != 1) throw new RecordingSetupException("say where the frames come from: exactly one of --domain ID, --replay SESSION or --frames FILE");
        if (!GuestAbis.TryResolve(o.Guest, 32, out _, out var guestError) && !GuestAbis.TryResolve(o.Guest, 64, out _, out guestError))
            throw new RecordingSetupException(guestError);
        if (o.FramesFile == null && !(o.SingleStep || o.Syscalls || o.MemoryWrites || o.Unpack))
            throw new RecordingSetupException("nothing to record: ask for at least one of --singlestep, --syscalls, --memwrites, --unpack");
        EnsureWritable(o.OutputPath);
    }

    public RecordingResult Record(RecordingControl control, RecordingProgress? progress)
    {
        var clock = Stopwatch.StartNew();
        var settings = new XenTraceSettings
        {
            Guest = _o.Guest,
            ExtraParameters = new Dictionary<string, string> { ["source"] = _o.FramesFile != null ? "frames" : _o.ReplaySession != null ? "replay" : "live" },
        };
        using var builder = new XenTraceBuilder(h => TraceWriter.Create(_o.OutputPath, h), settings);
        string? tableFile = null;
        Process? agent = null;
        var stderr = new List<string>();
        try
        {
            Stream input;
            if (_o.FramesFile != null)
            {
                if (!File.Exists(_o.FramesFile)) throw new RecordingSetupException($"{_o.FramesFile}: no such frame file");
                input = File.OpenRead(_o.FramesFile);
            }
            else
            {
                tableFile = WriteSyscallTable(_o.Guest);
                agent = StartAgent(_o, tableFile, stderr, () => builder.Started);
                input = agent.StandardOutput.BaseStream;
            }
            // A stop request: SIGTERM asks the agent to give the guest back and end its stream with an end frame.
            control.SetWake(() => { if (agent is { HasExited: false }) LibC.Kill(agent.Id, Signals.SIGTERM); });
            ReadAll(input, builder, progress, agent == null ? control : null);
            input.Dispose();
            if (agent != null)
            {
                agent.WaitForExit();
                if (!builder.Started)
                    throw new RecordingSetupException(stderr.LastOrDefault(l => l.Length > 0) ?? $"ether-agent exited with code {agent.ExitCode} before sending anything");
            }
            if (!builder.Started) throw new RecordingSetupException($"{_o.FramesFile}: no frames (an empty stream)");
            StopReason? requested = control.StopRequested ? control.Reason : null;
            string detail = requested != null ? control.Detail
                : agent is { ExitCode: not 0 } ? $"ether-agent exit {agent.ExitCode}: {stderr.LastOrDefault() ?? ""}" : "";
            return Finish(builder, progress, requested, detail, clock.Elapsed);
        }
        catch (AgentProtocolException e)
        {
            // Keep what was recorded: close the trace with the reason.
            if (!builder.Started) throw new RecordingSetupException(e.Message);
            return Finish(builder, progress, StopReason.RecorderError, e.Message, clock.Elapsed);
        }
        finally
        {
            control.SetWake(null);
            if (agent is { HasExited: false }) agent.Kill();
            agent?.Dispose();
            if (tableFile != null) File.Delete(tableFile);
        }
    }

    private RecordingResult Finish(XenTraceBuilder builder, RecordingProgress? progress, StopReason? reason, string detail, TimeSpan elapsed)
    {
        builder.OpenIfStarted();
        var writer = builder.Writer!;
        progress?.Update(writer);
        var (closedWith, closedDetail) = builder.Close(reason, detail);
        long processes = writer.Count(EventKind.ProcessStart);
        return RecordingResult.FromWriter(writer, Path.GetFullPath(_o.OutputPath), closedWith, closedDetail, elapsed) with
        {
            Processes = processes,
            Threads = processes + writer.Count(EventKind.ThreadStart),
            Bytes = new FileInfo(_o.OutputPath).Length,
            BackendDetails =
            [
                new("frames", $"{builder.Frames:N0}{(builder.UnknownFrames > 0 ? $" ({builder.UnknownFrames:N0} of kinds this recorder does not know, skipped)" : "")}"),
                new("agent", $"{builder.EndReason ?? "no end frame"}{(builder.Stalls > 0 ? $", {builder.Stalls:N0} stalls" : "")}"),
                new("reads", $"{builder.ReadSnapshots:N0} first-read snapshots, {builder.ChangedSnapshots:N0} changed"),
            ],
        };
    }

    /// <param name="control">For a frame file (no agent to wake): stop reading at a stop request.</param>
    private static void ReadAll(Stream input, XenTraceBuilder builder, RecordingProgress? progress, RecordingControl? control)
    {
        var reader = new AgentFrameReader(new BufferedStream(input, 1 << 16));
        var frame = new AgentFrame();
        while (reader.Next(frame))
        {
            builder.Add(frame);
            if ((builder.Frames & 1023) != 0) continue;
            if (progress != null && builder.Writer != null) progress.Update(builder.Writer);
            if (control is { StopRequested: true }) return;
        }
    }

    /// <summary>Starts the agent. Its stderr lines reach the user as they come once recording has
    /// started; before that they are kept, and the last one becomes the error if it fails to start.</summary>
    private static Process StartAgent(XenRecordOptions o, string tableFile, List<string> stderr, Func<bool> recording)
    {
        string agentPath = AgentLocator.Find(o.AgentPath);
        var psi = new ProcessStartInfo(agentPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (o.ReplaySession != null)
        {
            if (!File.Exists(o.ReplaySession)) throw new RecordingSetupException($"{o.ReplaySession}: no such session file");
            psi.ArgumentList.Add("--replay");
            psi.ArgumentList.Add(o.ReplaySession);
        }
        if (o.Domain is { } d) { psi.ArgumentList.Add("--domain"); psi.ArgumentList.Add(d.ToString()); }
        psi.ArgumentList.Add("--guest");
        psi.ArgumentList.Add(AgentProfile(o.Guest));
        psi.ArgumentList.Add("--syscall-table");
        psi.ArgumentList.Add(tableFile);
        if (o.Process != null) { psi.ArgumentList.Add("--process"); psi.ArgumentList.Add(o.Process); }
        if (o.Cr3 != null) { psi.ArgumentList.Add("--cr3"); psi.ArgumentList.Add(o.Cr3); }
        if (o.SingleStep) psi.ArgumentList.Add("--singlestep");
        if (o.Syscalls) psi.ArgumentList.Add("--syscalls");
        if (o.MemoryWrites) psi.ArgumentList.Add("--memwrites");
        if (o.Unpack) psi.ArgumentList.Add("--unpack");
        if (o.UserOnly) psi.ArgumentList.Add("--user-only");
        if (o.TimeoutMs is { } t) { psi.ArgumentList.Add("--timeout-ms"); psi.ArgumentList.Add(t.ToString()); }
        var agent = System.Diagnostics.Process.Start(psi) ?? throw new RecordingSetupException($"{agentPath}: could not start");
        agent.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            lock (stderr) stderr.Add(line);
            if (recording()) Console.Error.WriteLine(line);
        };
        agent.BeginErrorReadLine();
        return agent;
    }

    /// <summary>The agent's --guest profile: how it reads arguments and names processes.</summary>
    private static string AgentProfile(string guest) => guest.ToLowerInvariant() switch
    {
        "linux" => "linux",
        var g when g.StartsWith("winxp", StringComparison.Ordinal) => "winxp-sp2",
        _ => "windows-x64",
    };

    /// <summary>The agent wants names (to find OBJECT_ATTRIBUTES arguments) as a CSV: write ours.</summary>
    private static string WriteSyscallTable(string guest)
    {
        // The profile decides the word size the agent will name calls for: XP is 32-bit, the others 64.
        int bits = AgentProfile(guest) == "windows-x64" ? 64 : 32;
        string abi = GuestAbis.TryResolve(guest, bits, out var a, out _) ? a : GuestAbis.TryResolve(guest, 96 - bits, out var b, out _) ? b : "";
        string path = Path.Combine(Path.GetTempPath(), $"ether-syscalls-{Environment.ProcessId}-{Guid.NewGuid():N}.csv");
        using var w = new StreamWriter(path);
        w.WriteLine("number_hex,number,name");
        foreach (var (number, name) in SyscallTables.Find(abi).Entries()) w.WriteLine($"0x{number:x4},{number},{name}");
        return path;
    }

    private static void EnsureWritable(string output)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(output)) ?? ".";
        if (!Directory.Exists(dir)) throw new RecordingSetupException($"{output}: its folder does not exist");
        try
        {
            using var _ = new FileStream(output, FileMode.Create, FileAccess.Write);
        }
        catch (UnauthorizedAccessException)
        {
            throw new RecordingSetupException($"{output}: cannot write here (permission denied)");
        }
    }

}
