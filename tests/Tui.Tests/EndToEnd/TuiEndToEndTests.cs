namespace Ether.Replay.Tui.Tests.EndToEnd;

/// <summary>
/// `ether tui` on a recorded trace in a real terminal (tmux): keys in, screen out. What the screen
/// must show is derived from the trace (RecordedWalk), and the terminal's modes are compared before
/// and after every run.
/// </summary>
public sealed class TuiEndToEndTests(RecordedWalk walk) : IClassFixture<RecordedWalk>
{
    private string Command(string trace = "walk.etrace") => $"dotnet {EtherProcess.EtherDll} tui {trace}";

    [Fact]
    public void Jump_to_a_step_filter_syscalls_jump_to_a_call_and_query_sql()
    {
        using var tmux = TmuxSession.Start(walk.Directory, Command());
        tmux.WaitFor("Instructions [F2]");
        tmux.WaitFor($"step 1/{walk.LastStep:N0}");
        // The background export finished when the syscalls pane has its rows.
        tmux.WaitFor("Syscalls 6/6", 60);

        // Go to a step by number: the write() call, marked inline.
        tmux.Send("g");
        tmux.WaitFor("Go to step");
        tmux.Send(walk.WriteStep.ToString(), literal: true);
        tmux.Send("Enter");
        var screen = tmux.WaitFor($"step {walk.WriteStep:N0}/{walk.LastStep:N0}");
        Assert.Contains("syscall", screen);
        Assert.Contains($"Registers after step {walk.WriteStep:N0}", screen);

        // Next system call from there: openat.
        tmux.Send("s");
        tmux.WaitFor($"next system call: openat at step {walk.OpenatStep:N0}");

        // Next layer change: into the function the program wrote.
        tmux.Send("l");
        tmux.WaitFor($"layer 0 -> 1 (tid {walk.Pid}) at step {walk.LayerEntryStep:N0}");
        tmux.WaitFor($"step {walk.LayerEntryStep:N0}/");
        tmux.Send("b");
        tmux.WaitFor($"back to step {walk.OpenatStep:N0}");

        // Syscalls: filter as you type, Enter moves the instruction view to the call.
        tmux.Send("F5");
        tmux.Send("getpid", literal: true);
        tmux.WaitFor("Syscalls 1/6");
        tmux.Send("Down");
        tmux.Send("Enter");
        tmux.WaitFor($"getpid() = {walk.Pid} at step {walk.GetpidStep:N0}");
        tmux.WaitFor($"step {walk.GetpidStep:N0}/");

        // SQL: a query, its result grid, Enter on a row jumps to its step.
        tmux.Send("F7");
        tmux.WaitFor("sql>");
        tmux.Send("SELECT entry_step, name FROM syscalls WHERE name = 'openat' AND 'q' <> 'g?'", literal: true); // q, g and ? are typed, not commands
        tmux.Send("Enter");
        screen = tmux.WaitFor("1 row in");
        Assert.Contains("openat", screen);
        tmux.Send("Enter");
        tmux.WaitFor($"SQL row 1: step {walk.OpenatStep:N0}");
        tmux.WaitFor($"step {walk.OpenatStep:N0}/");

        // Help, then quit with q from the instructions.
        tmux.Send("F2");
        tmux.Send("?");
        tmux.WaitFor("Keys (Esc closes");
        tmux.Send("Escape");
        tmux.WaitFor(s => !s.Contains("Keys (Esc closes"), "the help to close");
        tmux.Send("q");
        Assert.Equal(0, tmux.WaitForExit());
        Assert.True(tmux.TerminalRestored, "stty modes differ after the browser exited");
        screen = tmux.WaitFor("command finished");
        Assert.DoesNotContain("Instructions [F2]", screen); // the alternate screen is gone
        Assert.Equal("", tmux.Stderr);
    }

    [Fact]
    public void An_idle_browser_sends_nothing_and_a_move_sends_only_what_changed()
    {
        using var tmux = TmuxSession.Start(walk.Directory, Command());
        tmux.WaitFor("Syscalls 6/6", 60);
        tmux.WaitFor(s => !s.Contains("index ") && !s.Contains("export "), "the background work to finish");
        Thread.Sleep(300); // the last frame is out
        string raw = Path.Combine(walk.Directory, $"output-{Guid.NewGuid():N}.raw");
        tmux.CopyOutputTo(raw);

        // Idle: a whole second without a byte (Terminal.Gui 2.5 alone re-sends the cursor 100 times a second).
        // Terminal.Gui's one-off start-up queries (the terminal's colours) may still go out late on a busy
        // machine, so look for a quiet second among the first five.
        long before = -1, now = 0;
        for (int second = 0; second < 5 && before != now; second++)
        {
            before = new FileInfo(raw).Length;
            Thread.Sleep(1000);
            now = new FileInfo(raw).Length;
        }
        string idle = File.ReadAllText(raw);
        Assert.True(before == now, $"an idle browser never stayed quiet for a second; it sent {idle.Length} bytes in 5 s: {idle[..Math.Min(200, idle.Length)].Replace("\u001b", "ESC")}");
        long atRest = now;

        // One row down: the instructions, registers, memory and status change; the syscalls pane does not, and
        // is not sent again (a full-screen redraw after a move would send it).
        tmux.Send("Down");
        tmux.WaitFor($"step 2/{walk.LastStep:N0}");
        Thread.Sleep(300);
        string sent = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(raw)[(int)atRest..]);
        Assert.NotEqual("", sent);
        Assert.DoesNotContain("Syscalls", sent);
        Assert.DoesNotContain("filter:", sent);
        tmux.Send("q");
        Assert.Equal(0, tmux.WaitForExit());
    }

    [Fact]
    public void Works_at_80x24_survives_resizes_and_ctrl_c_restores_the_terminal()
    {
        using var tmux = TmuxSession.Start(walk.Directory, Command(), 80, 24);
        tmux.WaitFor("Instructions [F2]");
        var screen = tmux.WaitFor("F1  Help");
        foreach (string title in new[] { "Registers", "Memory", "Syscalls", $"step 1/{walk.LastStep:N0}" })
            Assert.Contains(title, screen);
        // The mouse: a click on the fifth row of the instruction list (border, header, then steps 1..) selects step 5.
        tmux.Click(20, 7);
        tmux.WaitFor($"step 5/{walk.LastStep:N0}");
        tmux.Resize(132, 43);
        tmux.WaitFor(s => s.Split('\n')[0].TrimEnd().Length == 132, "the screen to use 132 columns");
        tmux.Resize(80, 24);
        tmux.WaitFor(s => s.Split('\n')[0].TrimEnd().Length == 80, "the screen to use 80 columns again");
        tmux.Send("C-c");
        Assert.Equal(0, tmux.WaitForExit());
        Assert.True(tmux.TerminalRestored, "stty modes differ after Ctrl-C");
    }

    [Fact]
    public void A_hang_up_ends_the_browser()
    {
        using var tmux = TmuxSession.Start(walk.Directory, Command());
        tmux.WaitFor("Instructions [F2]");
        int pid = tmux.CommandPid;
        tmux.HangUp();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (Directory.Exists($"/proc/{pid}") && watch.Elapsed.TotalSeconds < 10) Thread.Sleep(50);
        Assert.False(Directory.Exists($"/proc/{pid}"), "the browser is still running after its terminal went away");
    }

    [Fact]
    public void Sigterm_and_a_failure_inside_restore_the_terminal()
    {
        using (var tmux = TmuxSession.Start(walk.Directory, Command()))
        {
            tmux.WaitFor("Instructions [F2]");
            Assert.Equal(0, EtherProcess.Exec(walk.Directory, "kill", "-TERM", tmux.CommandPid.ToString()).ExitCode);
            Assert.Equal(0, tmux.WaitForExit());
            Assert.True(tmux.TerminalRestored, "stty modes differ after SIGTERM");
        }
        using (var tmux = TmuxSession.Start(walk.Directory, $"env {BrowserApp.FaultVariable}=throw " + Command()))
        {
            Assert.Equal(1, tmux.WaitForExit());
            Assert.True(tmux.TerminalRestored, "stty modes differ after a failure");
            Assert.StartsWith("ether: the browser failed: InvalidOperationException", tmux.Stderr);
            Assert.Single(tmux.Stderr.TrimEnd().Split('\n'));
        }
    }

    [Fact]
    public void Missing_damaged_and_untyped_inputs_are_one_line_errors()
    {
        var missing = EtherProcess.Run(walk.Directory, "tui", "nope.etrace");
        Assert.Equal((1, "ether: nope.etrace: no such file\n"), (missing.ExitCode, missing.Stderr));
        File.WriteAllText(Path.Combine(walk.Directory, "garbage.etrace"), "this is not a trace");
        var garbage = EtherProcess.Run(walk.Directory, "tui", "garbage.etrace");
        Assert.Equal(1, garbage.ExitCode);
        Assert.StartsWith("ether: garbage.etrace: not an .etrace file", garbage.Stderr);
        Assert.Single(garbage.Stderr.TrimEnd().Split('\n'));
        var piped = EtherProcess.Run(walk.Directory, "tui", "walk.etrace"); // stdout is a pipe here
        Assert.Equal((1, "ether: tui needs a terminal: run it with standard input and output on a terminal (not a pipe or file)\n"), (piped.ExitCode, piped.Stderr));
    }

    [Fact]
    public void A_cut_trace_is_browsed_up_to_where_it_is_readable()
    {
        var bytes = File.ReadAllBytes(walk.Trace);
        string cut = Path.Combine(walk.Directory, "cut.etrace");
        File.WriteAllBytes(cut, bytes[..(bytes.Length - 40)]); // loses the footer: the reader scans the chunks
        using var tmux = TmuxSession.Start(walk.Directory, Command("cut.etrace"));
        tmux.WaitFor("Instructions [F2]");
        tmux.WaitFor("warning: the trace is cut or damaged");
        tmux.Send("q");
        Assert.Equal(0, tmux.WaitForExit());
        Assert.True(tmux.TerminalRestored);
        Assert.StartsWith("ether: warning: cut.etrace: the trace is cut or damaged", tmux.Stderr);
    }

    [Fact]
    public void An_empty_trace_shows_an_empty_browser()
    {
        string empty = Path.Combine(walk.Directory, "empty.etrace");
        using (var w = Ether.Replay.Formats.Log.TraceWriter.Create(empty, new Ether.Replay.Formats.Model.TraceHeader { Backend = "scripted", TargetPath = "/empty" }))
            w.Close(Ether.Replay.Formats.Model.StopReason.Exited);
        using var tmux = TmuxSession.Start(walk.Directory, Command("empty.etrace"));
        tmux.WaitFor("step 0/0");
        tmux.WaitFor("no system calls in this trace", 60);
        tmux.Send("s");
        tmux.WaitFor("no later system call");
        tmux.Send("q");
        Assert.Equal(0, tmux.WaitForExit());
        Assert.Equal("", tmux.Stderr);
    }
}
