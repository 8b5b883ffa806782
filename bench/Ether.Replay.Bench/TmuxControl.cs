using System.Collections.Concurrent;

namespace Ether.Replay.Bench;

/// <summary>
/// A program in a tmux pane, driven through one tmux control-mode client (`tmux -C attach`): keys go in
/// and the screen comes out as commands on the client's pipe, and the pane's output arrives as
/// `%output` notifications the moment tmux reads it. So a key-to-screen time costs no process start per
/// key and no polling interval (spawning `tmux send-keys` / `capture-pane` for each poll added 10-40 ms
/// to every measurement). The screen is read again after each burst of output until it shows what is
/// expected; the time is taken at that read.
/// </summary>
internal sealed class TmuxControl : IDisposable
{
    private readonly string _socket;
    private readonly Process _client;
    private readonly BlockingCollection<string> _lines = new();

    private TmuxControl(string socket, Process client)
    {
        _socket = socket;
        _client = client;
        var output = client.StandardOutput;
        var reader = new Thread(() =>
        {
            try
            {
                while (output.ReadLine() is { } line) _lines.Add(line);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException) { }
            _lines.CompleteAdding();
        }) { IsBackground = true, Name = "tmux control reader" };
        reader.Start();
    }

    /// <summary>Starts <paramref name="command"/> (a shell command line) in a detached width x height session on a
    /// private tmux server and attaches the control client.</summary>
    public static TmuxControl Start(string command, int width, int height)
    {
        string socket = $"ether-bench-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40];
        Run(socket, "new-session", "-d", "-s", "b", "-x", width.ToString(), "-y", height.ToString(), command);
        var psi = new ProcessStartInfo("tmux") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-L", socket, "-C", "attach", "-t", "b" }) psi.ArgumentList.Add(a);
        var control = new TmuxControl(socket, Process.Start(psi)!);
        control.Reply("attach"); // the attach's own reply comes first: take it before asking anything
        return control;
    }

    /// <summary>Sends keys as `send-keys` arguments ("g", "123", "Enter", "Down").</summary>
    public void SendKeys(params string[] keys) => Command("send-keys -t b " + string.Join(' ', keys.Select(Quote)));

    /// <summary>The pane's screen as text.</summary>
    public string Screen() => Command("capture-pane -p -t b");

    /// <summary>Waits until the screen satisfies <paramref name="shown"/>; returns the milliseconds since <paramref name="since"/> started.</summary>
    public double WaitFor(Func<string, bool> shown, Stopwatch since, double seconds = 30)
    {
        while (true)
        {
            string screen = Screen();
            if (shown(screen)) return since.Elapsed.TotalMilliseconds;
            // Wait for the pane's next output (or recheck every 200 ms, in case of a missed notification).
            while (true)
            {
                double left = seconds * 1000 - since.Elapsed.TotalMilliseconds;
                if (left <= 0) throw new TimeoutException($"the pane did not show the expected screen within {seconds} s; it shows:\n{screen}");
                if (!_lines.TryTake(out string? line, (int)Math.Min(left, 200))) break;
                if (line.StartsWith("%output", StringComparison.Ordinal)) break;
                if (line.StartsWith("%exit", StringComparison.Ordinal)) throw new InvalidOperationException("the tmux session ended");
            }
        }
    }

    /// <summary>Discards the notifications received so far: waits until the pane has been quiet for
    /// <paramref name="quietMilliseconds"/> (at most a second), so a measurement starts from a settled screen.</summary>
    public void Drain(int quietMilliseconds = 300)
    {
        var w = Stopwatch.StartNew();
        while (w.ElapsedMilliseconds < 1000 && _lines.TryTake(out _, quietMilliseconds)) { }
    }

    private string Command(string command)
    {
        _client.StandardInput.WriteLine(command);
        _client.StandardInput.Flush();
        return Reply(command);
    }

    /// <summary>The next %begin ... %end block: the reply to the oldest command not yet answered.</summary>
    private string Reply(string command)
    {
        var reply = new List<string>();
        bool inside = false;
        while (true)
        {
            if (!_lines.TryTake(out string? line, 10_000)) throw new InvalidOperationException($"tmux did not answer `{command}`");
            if (!inside)
            {
                if (line.StartsWith("%begin ", StringComparison.Ordinal)) inside = true;
                continue; // notifications between replies
            }
            if (line.StartsWith("%end ", StringComparison.Ordinal)) return string.Join('\n', reply);
            if (line.StartsWith("%error ", StringComparison.Ordinal)) throw new InvalidOperationException($"tmux {command}: {string.Join(' ', reply)}");
            reply.Add(line);
        }
    }

    private static string Quote(string key) => "'" + key.Replace("'", "'\\''") + "'";

    public static string Run(string? socket, params string[] args)
    {
        var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (socket != null) { psi.ArgumentList.Add("-L"); psi.ArgumentList.Add(socket); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"tmux {string.Join(' ', args)}: {p.StandardError.ReadToEnd().Trim()}");
        return output;
    }

    public void Dispose()
    {
        try { Run(_socket, "kill-server"); } catch (InvalidOperationException) { }
        try { _client.WaitForExit(2000); } catch (InvalidOperationException) { }
        _client.Dispose();
    }
}
