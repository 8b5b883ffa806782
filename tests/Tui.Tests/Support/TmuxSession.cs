using System.Diagnostics;

namespace Ether.Replay.Tui.Tests.Support;

/// <summary>
/// A terminal for end-to-end tests: a detached tmux session on a server of its own (its own socket,
/// so the test never touches anyone else's tmux), keys sent with send-keys, the screen read with
/// capture-pane. The command runs under a shell that saves the terminal modes (stty -g) before and
/// after it and its exit code, so a test can check that the terminal was left as it was found.
/// </summary>
internal sealed class TmuxSession : IDisposable
{
    private readonly string _socket = $"ether-tui-test-{Guid.NewGuid():N}"[..28];
    private readonly string _directory;

    public string Name { get; } = "t";

    private TmuxSession(string directory) => _directory = directory;

    /// <summary>Starts <paramref name="command"/> (a shell command line) in a <paramref name="width"/> x <paramref name="height"/> terminal.</summary>
    public static TmuxSession Start(string directory, string command, int width = 120, int height = 40)
    {
        var t = new TmuxSession(directory);
        string script = Path.Combine(directory, $"run-{t._socket}.sh");
        File.WriteAllText(script,
            "#!/bin/sh\n" +
            "stty -g > stty.before\n" +
            "printf 'ready\\n'\n" +
            "sh -c 'echo $$ > command.pid; exec " + command.Replace("'", "'\\''") + "' 2> command.stderr\n" +
            "echo $? > command.exit\n" +
            "stty -g > stty.after\n" +
            "printf 'command finished\\n'\n" +
            "sleep 600\n");
        foreach (var f in new[] { "stty.before", "stty.after", "command.exit", "command.pid", "command.stderr" })
            File.Delete(Path.Combine(directory, f));
        t.Tmux("new-session", "-d", "-s", t.Name, "-x", width.ToString(), "-y", height.ToString(), "-c", directory, $"sh {script}");
        return t;
    }

    public string Screen() => Tmux("capture-pane", "-p", "-t", Name);

    /// <summary>Sends keys as tmux names them: "q", "Enter", "F5", "C-c", "Down"; text goes literally with <paramref name="literal"/>.</summary>
    public void Send(string keys, bool literal = false)
    {
        if (literal) Tmux("send-keys", "-t", Name, "-l", keys);
        else Tmux("send-keys", "-t", Name, keys);
    }

    /// <summary>A left click at column <paramref name="x"/>, row <paramref name="y"/> (1-based), as an SGR mouse report.</summary>
    public void Click(int x, int y)
    {
        Send($"\u001b[<0;{x};{y}M", literal: true);
        Send($"\u001b[<0;{x};{y}m", literal: true);
    }

    /// <summary>From now on, appends everything the command writes to the terminal (raw bytes, escape sequences
    /// included) to <paramref name="file"/>.</summary>
    public void CopyOutputTo(string file)
    {
        File.WriteAllBytes(file, []);
        Tmux("pipe-pane", "-o", "-t", Name, $"cat >> '{file}'");
    }

    public void Resize(int width, int height) => Tmux("resize-window", "-t", Name, "-x", width.ToString(), "-y", height.ToString());

    /// <summary>Polls the screen until <paramref name="condition"/> holds; fails with the last screen after the timeout.</summary>
    public string WaitFor(Func<string, bool> condition, string what, double seconds = 30)
    {
        var watch = Stopwatch.StartNew();
        string screen = "";
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            screen = Screen();
            if (condition(screen)) return screen;
            Thread.Sleep(100);
        }
        throw new Xunit.Sdk.XunitException($"timed out after {seconds} s waiting for {what}; the screen was:\n{screen}\n--- stderr of the command:\n{Read("command.stderr")}");
    }

    public string WaitFor(string text, double seconds = 30) => WaitFor(s => s.Contains(text, StringComparison.Ordinal), $"\"{text}\"", seconds);

    /// <summary>Waits for the command to end; returns its exit code.</summary>
    public int WaitForExit(double seconds = 30)
    {
        WaitFor(_ => File.Exists(Path.Combine(_directory, "stty.after")) && Read("stty.after").Length > 0, "the command to exit", seconds);
        return int.Parse(Read("command.exit").Trim());
    }

    public int CommandPid => int.Parse(Read("command.pid").Trim());

    /// <summary>True when the terminal modes after the command are those before it.</summary>
    public bool TerminalRestored => Read("stty.before").Trim() is { Length: > 0 } before && before == Read("stty.after").Trim();

    public string Stderr => Read("command.stderr");

    private string Read(string file)
    {
        string path = Path.Combine(_directory, file);
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    private string Tmux(params string[] args)
    {
        var r = EtherProcess.Exec(_directory, "tmux", ["-L", _socket, .. args]);
        if (r.ExitCode != 0) throw new InvalidOperationException($"tmux {string.Join(' ', args)} failed:\n{r}");
        return r.Stdout;
    }

    /// <summary>Ends the terminal (as an ssh disconnect would): tmux's server goes, the command gets SIGHUP.</summary>
    public void HangUp() => EtherProcess.Exec(_directory, "tmux", "-L", _socket, "kill-server");

    public void Dispose()
    {
        try
        {
            EtherProcess.Exec(_directory, "tmux", "-L", _socket, "kill-server");
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            // nothing left to stop
        }
    }
}
