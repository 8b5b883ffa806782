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
            return RecordingRun.Run(new XenRecordOptions
            {
                Domain = r.GetValue(domain), ReplaySession = r.GetValue(replay), FramesFile = r.GetValue(frames),
                AgentPath = r.GetValue(agent), Guest = r.GetValue(guest)!, Process = r.GetValue(process), Cr3 = r.GetValue(cr3),
                SingleStep = r.GetValue(singleStep), Syscalls = r.GetValue(syscalls), MemoryWrites = r.GetValue(memwrites),
                Unpack = r.GetValue(unpack), UserOnly = r.GetValue(userOnly), TimeoutMs = r.GetValue(timeout),
                OutputPath = r.GetValue(output) ?? name + ".etrace",
            });
        }));
        return command;
    }
}
