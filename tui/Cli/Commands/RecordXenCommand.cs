using System.CommandLine;
using Ether.Replay.Formats.Log;
using Ether.Replay.Recorder.Backends.Xen;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether record xen`: a Xen HVM guest through ether-agent (or a replayed session / captured frames) into an .etrace.</summary>
public static class RecordXenCommand
{
    public static Command Create()
    {
        var domain = new Option<ulong?>("--domain") { Description = "Xen domain id of a running HVM guest (needs a Xen dom0 with the xen-ether patch)" };
        var replay = new Option<string?>("--replay") { Description = "Run the agent on a recorded or synthetic session file instead of a live domain (no Xen needed)" };
        var frames = new Option<string?>("--frames") { Description = "Convert a frame stream captured earlier (ether-agent ... > FILE) without running the agent" };
        var agent = new Option<string?>("--agent") { Description = "The ether-agent executable (default: $ETHER_AGENT, xen-ether/agent/build/ether-agent, then PATH)" };
        var guest = new Option<string>("--guest") { Description = "The guest's OS build, which picks the system-call table: winxp-sp2, winxp-sp3, win7-sp1, win10-1809, win10-22h2, linux", DefaultValueFactory = _ => "winxp-sp2" };
        var process = new Option<string?>("--process") { Description = "Trace only the process with this image name (Windows XP guests)" };
        var cr3 = new Option<string?>("--cr3") { Description = "Trace only this address space (page-table base, hex)" };
        var singleStep = new Option<bool>("--singlestep") { Description = "Every instruction (Monitor Trap Flag single-step)" };
        var syscalls = new Option<bool>("--syscalls") { Description = "Every system call entry and return (the Ether patch's syscall event)" };
        var memwrites = new Option<bool>("--memwrites") { Description = "Writes to the target's user pages (EPT write trapping)" };
        var unpack = new Option<bool>("--unpack") { Description = "Code executed from pages written since they last ran (write-then-execute), with the page's bytes" };
        var userOnly = new Option<bool>("--user-only") { Description = "Single-step user mode only" };
        var timeout = new Option<int?>("--timeout-ms") { Description = "How long the guest may wait for the recorder before the agent lets it run on (default 10000; 0 = forever)" };
        var output = new Option<string?>("--output", "-o") { Description = "Trace file to write (default: the process name or xen-DOMAIN, .etrace)" };

        var command = new Command("xen", "Record a Xen HVM guest through the xen-ether dom0 agent (instructions, system calls with Windows or Linux names, memory writes, unpacking)")
        {
            domain, replay, frames, agent, guest, process, cr3, singleStep, syscalls, memwrites, unpack, userOnly, timeout, output,
        };
        command.SetAction(r => Cli.Guard(() =>
        {
            string name = r.GetValue(process) is { } p ? Path.GetFileNameWithoutExtension(p) : r.GetValue(domain) is { } d ? $"xen-{d}" : "xen";
            var options = new XenRecordOptions
            {
                Domain = r.GetValue(domain), ReplaySession = r.GetValue(replay), FramesFile = r.GetValue(frames),
                AgentPath = r.GetValue(agent), Guest = r.GetValue(guest)!, Process = r.GetValue(process), Cr3 = r.GetValue(cr3),
                SingleStep = r.GetValue(singleStep), Syscalls = r.GetValue(syscalls), MemoryWrites = r.GetValue(memwrites),
                Unpack = r.GetValue(unpack), UserOnly = r.GetValue(userOnly), TimeoutMs = r.GetValue(timeout),
                Output = r.GetValue(output) ?? name + ".etrace",
            };
            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
            XenRecordResult result;
            try
            {
                result = XenRecorder.Record(options, typeof(RecordXenCommand).Assembly.GetName().Version?.ToString(3) ?? "", cancel.Token,
                    b => { if (!Console.IsErrorRedirected) Console.Error.Write($"\r{b.Frames:N0} frames, step {b.Writer?.Step:N0}   "); });
            }
            catch (XenRecordException e)
            {
                throw new CliException(e.Message);
            }
            if (!Console.IsErrorRedirected) Console.Error.WriteLine();
            using var reader = TraceReader.Open(result.Output);
            var s = reader.Summary;
            Console.WriteLine($"recorded {result.Output}: {result.Frames:N0} frames -> {s.LastStep:N0} steps, " +
                $"{s.Count(Formats.Model.EventKind.Instruction):N0} instructions, {s.Count(Formats.Model.EventKind.SyscallEntry):N0} system calls, " +
                $"{s.Count(Formats.Model.EventKind.MemoryWrite):N0} memory writes, {s.Count(Formats.Model.EventKind.RegionSnapshot):N0} unpack snapshots; " +
                $"agent: {result.AgentEnd ?? "no end frame"}{(result.Stalls > 0 ? $", {result.Stalls} stalls" : "")}");
            return Cli.Ok;
        }));
        return command;
    }
}
