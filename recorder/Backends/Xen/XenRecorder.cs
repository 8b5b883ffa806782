using System.Diagnostics;
using Ether.Replay.Formats.Abi;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>What a Xen recording produced.</summary>
public sealed record XenRecordResult(string Output, long Frames, long UnknownFrames, long Stalls, string? AgentEnd, StopReason StopReason);

/// <summary>
/// `ether record xen`: runs ether-agent (on a live domain or a replayed session) or reads a frame
/// stream captured earlier, and writes the frames as an .etrace. Ctrl-C asks the agent to give the
/// guest back (SIGTERM) and keeps reading until its end frame, so nothing recorded is lost.
/// </summary>
public static class XenRecorder
{
    public static XenRecordResult Record(XenRecordOptions o, string toolVersion, CancellationToken cancel, Action<XenTraceBuilder>? progress = null)
    {
        int sources = (o.Domain != null ? 1 : 0) + (o.ReplaySession != null ? 1 : 0) + (o.FramesFile != null ? 1 : 0);
        if (sources != 1) throw new XenRecordException("say where the frames come from: exactly one of --domain ID, --replay SESSION or --frames FILE");
        if (!GuestAbis.TryResolve(o.Guest, 32, out _, out var guestError) && !GuestAbis.TryResolve(o.Guest, 64, out _, out guestError))
            throw new XenRecordException(guestError);
        if (o.FramesFile == null && !(o.SingleStep || o.Syscalls || o.MemoryWrites || o.Unpack))
            throw new XenRecordException("nothing to record: ask for at least one of --singlestep, --syscalls, --memwrites, --unpack");
        EnsureWritable(o.Output);

        var settings = new XenTraceSettings
        {
            Guest = o.Guest,
            ToolVersion = toolVersion,
            ExtraParameters = new Dictionary<string, string> { ["source"] = o.FramesFile != null ? "frames" : o.ReplaySession != null ? "replay" : "live" },
        };
        using var builder = new XenTraceBuilder(h => TraceWriter.Create(o.Output, h), settings);
        string? tableFile = null;
        Process? agent = null;
        var stderr = new List<string>();
        try
        {
            Stream input;
            if (o.FramesFile != null)
            {
                if (!File.Exists(o.FramesFile)) throw new XenRecordException($"{o.FramesFile}: no such frame file");
                input = File.OpenRead(o.FramesFile);
            }
            else
            {
                tableFile = WriteSyscallTable(o.Guest);
                agent = StartAgent(o, tableFile, stderr, () => builder.Started);
                input = agent.StandardOutput.BaseStream;
            }
            // Ctrl-C: SIGTERM asks the agent to give the guest back and end its stream with an end frame.
            using var registration = cancel.Register(() => { if (agent is { HasExited: false }) LibC.Kill(agent.Id, 15); });
            ReadAll(input, builder, progress);
            input.Dispose();
            if (agent != null)
            {
                agent.WaitForExit();
                if (!builder.Started)
                    throw new XenRecordException(stderr.LastOrDefault(l => l.Length > 0) ?? $"ether-agent exited with code {agent.ExitCode} before sending anything");
            }
            if (!builder.Started) throw new XenRecordException($"{o.FramesFile}: no frames (an empty stream)");
            StopReason? reason = cancel.IsCancellationRequested ? StopReason.Interrupted : null;
            string detail = agent is { ExitCode: not 0 } ? $"ether-agent exit {agent.ExitCode}: {stderr.LastOrDefault() ?? ""}" : "";
            builder.Close(reason, detail);
            return new XenRecordResult(o.Output, builder.Frames, builder.UnknownFrames, builder.Stalls, builder.EndReason,
                reason ?? (builder.EndReason == "replay-finished" ? StopReason.Exited : StopReason.Closed));
        }
        catch (AgentProtocolException e)
        {
            // Keep what was recorded: close the trace with the reason, then report.
            builder.Close(StopReason.RecorderError, e.Message);
            throw new XenRecordException(e.Message);
        }
        finally
        {
            if (agent is { HasExited: false }) agent.Kill();
            agent?.Dispose();
            if (tableFile != null) File.Delete(tableFile);
        }
    }

    private static void ReadAll(Stream input, XenTraceBuilder builder, Action<XenTraceBuilder>? progress)
    {
        var reader = new AgentFrameReader(new BufferedStream(input, 1 << 16));
        var frame = new AgentFrame();
        while (reader.Next(frame))
        {
            builder.Add(frame);
            if (progress != null && (builder.Frames & 1023) == 0) progress(builder);
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
            if (!File.Exists(o.ReplaySession)) throw new XenRecordException($"{o.ReplaySession}: no such session file");
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
        var agent = System.Diagnostics.Process.Start(psi) ?? throw new XenRecordException($"{agentPath}: could not start");
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
        if (!Directory.Exists(dir)) throw new XenRecordException($"{output}: its folder does not exist");
        try
        {
            using var _ = new FileStream(output, FileMode.Create, FileAccess.Write);
        }
        catch (UnauthorizedAccessException)
        {
            throw new XenRecordException($"{output}: cannot write here (permission denied)");
        }
    }

}
