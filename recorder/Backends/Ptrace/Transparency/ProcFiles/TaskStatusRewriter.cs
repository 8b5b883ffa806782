using System.Globalization;
using System.Text;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// Hides the tracer in /proc/&lt;pid&gt;/status, /proc/&lt;pid&gt;/stat and their task/&lt;tid&gt; forms
/// of traced tasks: TracerPid (0, or the program's own emulated tracer), the state ("t (tracing
/// stop)" becomes what the task would be natively: running, sleeping, stopped), the CPU affinity
/// the recorder pinned (Cpus_allowed, Cpus_allowed_list), and in stat the CPU times (utime, stime,
/// cutime, cstime) and the start time, in virtual time. Everything else is the kernel's text.
/// </summary>
internal sealed class TaskStatusRewriter(ITaskFacts facts) : IProcFileRewriter
{
    private const int TicksPerSecond = 100; // USER_HZ
    private const long NsPerTick = 1_000_000_000L / TicksPerSecond;

    public bool Wants(ProcFileName file) => !file.IsSystemFile && file.Name is "status" or "stat";

    public byte[] Rewrite(ProcFileName file, byte[] original, ProcReader reader)
    {
        if (facts.Describe(file.TaskId, file.IsProcessFile, reader) is not { } task) return original;
        string text = Encoding.UTF8.GetString(original);
        string result = file.Name == "status" ? Status(text, task) : Stat(text, task);
        return Encoding.UTF8.GetBytes(result);
    }

    private static string Status(string text, TaskFacts task)
    {
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            string key = line[..colon];
            string value = line[(colon + 1)..].TrimStart('\t', ' ');
            string? replaced = key switch
            {
                "State" => StateText(value, task.State),
                "TracerPid" => task.TracerPid.ToString(CultureInfo.InvariantCulture),
                "Cpus_allowed" => task.CpusAllowedMask,
                "Cpus_allowed_list" => task.CpusAllowedList,
                _ => null,
            };
            if (replaced != null) lines[i] = key + ":\t" + replaced;
        }
        return string.Join('\n', lines);
    }

    private static string StateText(string kernel, ApparentState state)
    {
        if (kernel.Length == 0 || kernel[0] != 't' && state != ApparentState.TracingStop) return kernel;
        return state switch
        {
            ApparentState.Running => "R (running)",
            ApparentState.Sleeping => "S (sleeping)",
            ApparentState.Stopped => "T (stopped)",
            ApparentState.TracingStop => "t (tracing stop)",
            _ => kernel,
        };
    }

    private static char StateChar(char kernel, ApparentState state)
    {
        if (kernel != 't' && state != ApparentState.TracingStop) return kernel;
        return state switch
        {
            ApparentState.Running => 'R',
            ApparentState.Sleeping => 'S',
            ApparentState.Stopped => 'T',
            ApparentState.TracingStop => 't',
            _ => kernel,
        };
    }

    /// <summary>/proc/.../stat: "pid (comm) state f4 f5 ..."; comm may hold spaces and parentheses, so fields count from the last ')'.</summary>
    private static string Stat(string text, TaskFacts task)
    {
        int close = text.LastIndexOf(')');
        if (close < 0 || close + 2 >= text.Length) return text;
        string head = text[..(close + 2)];
        string tail = text[(close + 2)..];
        bool newline = tail.EndsWith('\n');
        var fields = tail.TrimEnd('\n').Split(' ');
        // fields[0] is field 3 (state); field n is fields[n - 3].
        if (fields.Length > 0 && fields[0].Length == 1) fields[0] = StateChar(fields[0][0], task.State).ToString();
        if (task.CpuNs is { } cpu)
        {
            Set(fields, 14, cpu / NsPerTick);                      // utime (all virtual CPU time is user time)
            Set(fields, 15, 0);                                    // stime
            Set(fields, 16, task.ChildrenCpuNs / NsPerTick);      // cutime
            Set(fields, 17, 0);                                    // cstime
        }
        if (task.StartBoottimeNs is { } start) Set(fields, 22, start / NsPerTick);
        return head + string.Join(' ', fields) + (newline ? "\n" : "");
    }

    private static void Set(string[] fields, int field, long value)
    {
        int i = field - 3;
        if (i < fields.Length) fields[i] = value.ToString(CultureInfo.InvariantCulture);
    }
}
