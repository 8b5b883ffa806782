using Ether.Replay.Tui.Views;
using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui;

/// <summary>
/// `ether tui TRACE`: the terminal browser. One window: instructions on the left, registers over
/// memory on the right, syscalls / layers / SQL below, a message line and the status bar. This class
/// owns the layout (<see cref="PaneLayout"/>), the keys that work everywhere, the status bar and the
/// help; each pane (Views/) owns its own keys and binds to its view model (ViewModels/).
/// </summary>
public sealed partial class BrowserApp : Window
{
    private readonly IApplication _app;
    private readonly BrowserSession _session;
    private readonly InstructionRows _rows;
    private readonly StepCursor _cursor;
    private readonly RegistersModel _registersModel;
    private readonly SyscallsModel _syscalls = new();
    private readonly LayersModel _layers;
    private readonly PaneLayout _layout = new();
    private readonly Dictionary<PaneId, Pane> _panes = new();
    private readonly InstructionsPane _instructions;
    private readonly RegistersPane _registers;
    private readonly MemoryPane _memory;
    private readonly SyscallsPane _syscallsPane;
    private readonly LayersPane _layersPane;
    private readonly Label _message;
    private readonly StatusBar _statusBar;
    private readonly TextLabel _info;
    private readonly GoToPrompt _prompt;
    private readonly HelpOverlay _help;
    private RegisterState? _state;
    private string _lastMessage = "";
    private bool _started;
    private string _laidOut = "";

    private BrowserApp(IApplication app, BrowserSession session)
    {
        _app = app;
        _session = session;
        BorderStyle = LineStyle.None;
        Title = session.Name;
        _rows = new InstructionRows(session.Replay);
        _cursor = new StepCursor(session, _rows);
        _registersModel = new RegistersModel(session.Replay);
        _layers = new LayersModel(session);

        _help = new HelpOverlay();
        _prompt = new GoToPrompt(step => Report(_cursor.GoTo(step)), error => Report(JumpResult.Stay(error)), () => _instructions!.FocusPrimary());
        _instructions = new InstructionsPane(_cursor, _rows, Report, initial => _prompt.Open(initial));
        _registers = new RegistersPane(State, expression => _memory!.Show(expression));
        _memory = new MemoryPane(_cursor, new MemoryModel(session), State, Report);
        _syscallsPane = new SyscallsPane(_syscalls, _cursor, Report, () => Loading(_session.Export, "system calls"));
        _layersPane = new LayersPane(_layers, _cursor, () => State().Thread?.Pid ?? _cursor.Current?.Pid, Report, () => Loading(_session.Export, "layers"));
        var sql = new SqlPane(new SqlConsoleModel(session), _cursor, Report);
        foreach (Pane p in new Pane[] { _instructions, _registers, _memory, _syscallsPane, _layersPane, sql })
        {
            _panes[p.Kind] = p;
            Add(p);
        }

        _message = new TextLabel { X = 0, Y = 0, Width = Dim.Fill(), Height = 1, Text = "" };
        // The status row: the trace, step and thread on the left, the clickable shortcuts on the right. The text
        // is not inside the StatusBar: a StatusBar lays its items out again whenever a child changes, and that
        // layout assigns every Shortcut's Width, which makes Terminal.Gui clear and redraw the whole screen on
        // the next iteration (measured: a second full frame after every key).
        _statusBar = new StatusBar { X = Pos.AnchorEnd(), Width = Dim.Auto() };
        _statusBar.Add(new Shortcut(Key.F1, "Help", ToggleHelp), new Shortcut(Key.G, "Go to", () => _prompt.Open("")), new Shortcut(Key.Q, "Quit", Quit));
        _info = new TextLabel { X = 0, Y = 0, Width = Dim.Fill(to: _statusBar), Height = 1, Text = "" };
        Add(_message, _info, _statusBar);
        // Overlays last: the last subview added is the one seen where views overlap.
        Add(_help, _prompt);

        _cursor.Moved += OnMoved;
        app.Keyboard.KeyDown += OnKeyDown;
        app.LayoutAndDrawComplete += OnFirstDraw;
        session.IndexReady += () => app.Invoke(OnIndexReady);
        session.AnalysisReady += () => app.Invoke(OnAnalysisReady);
        ApplyVisibility();
        if (session.Warning != null) _lastMessage = $"warning: the trace is cut or damaged ({session.Warning}); showing its readable prefix";
        // The panes fill in after the first layout (OnSubViewsLaidOut), when their sizes are known.
    }

    /// <summary>The registers after the cursor's step, computed once per step for every pane that needs them.</summary>
    private RegisterState State()
    {
        if (_state == null || _state.Step != _cursor.Step) _state = _registersModel.At(_cursor.Step);
        return _state;
    }

    private static string Loading(LoadStatus status, string what) =>
        status.State == LoadState.Failed ? $"{what}: unavailable, the export failed ({status.Error})" : $"{what}: exporting the trace to SQL tables… {status.Percent}%";

    private void OnFirstDraw(object? sender, EventArgs e)
    {
        if (_started) return;
        _started = true;
        _app.LayoutAndDrawComplete -= OnFirstDraw;
        _instructions.FocusPrimary();
        // The first screen is up: now the work that needs a pass over the whole trace.
        _ = _session.StartLoading();
        _app.AddTimeout(TimeSpan.FromMilliseconds(250), () =>
        {
            // Progress: the status bar, and the panes that say what they are waiting for.
            UpdateStatus();
            bool indexing = _session.Index.State <= LoadState.Running, exporting = _session.Export.State <= LoadState.Running;
            if (indexing && _memory.Visible) _memory.Refresh();
            if (exporting && _panes[_layout.Bottom].Visible && _layout.Bottom != PaneId.Sql) _panes[_layout.Bottom].Refresh();
            return indexing || exporting;
        });
    }

    private void OnIndexReady()
    {
        if (_session.Index.State == LoadState.Failed) _lastMessage = $"index failed: {_session.Index.Error}";
        RefreshPanes();
    }

    private void OnAnalysisReady()
    {
        if (_session.Analysis is { } analysis)
        {
            _syscalls.Load(analysis.Syscalls);
            _layers.Load(analysis.Layers, analysis.Oeps);
            _instructions.MarkLayers(analysis.LayerChanges);
            _syscallsPane.Loaded();
            _layersPane.Loaded();
            if (_session.ExportWarning is { } w && _lastMessage.Length == 0) _lastMessage = $"warning: {w}";
        }
        else
        {
            _lastMessage = $"export failed: {_session.Export.Error} (instructions, registers and memory still work)";
        }
        RefreshPanes();
    }

    private void OnMoved()
    {
        RefreshPanes();
    }

    private void RefreshPanes()
    {
        foreach (var pane in _panes.Values)
            if (pane.Visible) pane.Refresh();
        UpdateStatus();
    }

    private void Report(JumpResult result)
    {
        _lastMessage = result.Message;
        UpdateStatus();
    }

    private void UpdateStatus()
    {
        var line = _cursor.Current;
        string thread = line is { Tid: not 0 } l ? $"pid {l.Pid} tid {l.Tid}" : "";
        string loading = string.Join(" ", new[] { _session.Index, _session.Export }.Where(s => s.State is LoadState.Waiting or LoadState.Running).Select(s => $"{s.What} {s.Percent}%"));
        string info = $"{_session.Name}  step {_cursor.Step:N0}/{_session.LastStep:N0}  {thread}{(loading.Length > 0 ? "  " + loading : "")}";
        if (_message.Text != _lastMessage) _message.Text = _lastMessage;
        if (_info.Text != info) _info.Text = info;
    }

    private void Quit() => _app.RequestStop();

    private void ToggleHelp()
    {
        if (_help.IsOpen)
        {
            _help.Close();
            FocusedPane()?.FocusPrimary();
        }
        else
        {
            _help.Open();
        }
        SetNeedsDraw();
    }

    private Pane? FocusedPane() => _panes.Values.FirstOrDefault(p => p.HasFocus);

    private void Focus(PaneId id)
    {
        if (PaneLayout.IsBottom(id) && _layout.Bottom != id)
        {
            _layout.Bottom = id;
            ApplyVisibility();
        }
        if (_layout.Zoomed is { } z && z != id)
        {
            _layout.ToggleZoom(id);
            ApplyVisibility();
        }
        _panes[id].FocusPrimary();
        _panes[id].Refresh();
    }

    /// <summary>Shows the panes the layout places, hides the others.</summary>
    private void ApplyVisibility()
    {
        var placement = _layout.Place(new System.Drawing.Size(Math.Max(Viewport.Width, 80), Math.Max(Viewport.Height, 24)));
        foreach (var (id, pane) in _panes) pane.Visible = !placement.Panes[id].IsEmpty;
        SetNeedsLayout();
    }

    protected override void OnSubViewLayout(LayoutEventArgs args)
    {
        var placement = _layout.Place(args.OldContentSize);
        foreach (var (id, pane) in _panes)
        {
            var r = placement.Panes[id];
            if (r.IsEmpty) continue;
            Place(pane, r);
        }
        if (_message.Frame.Y != placement.Message.Y) _message.Y = placement.Message.Y;
        if (_statusBar.Frame.Y != placement.Status.Y) _statusBar.Y = placement.Status.Y;
        if (_info.Frame.Y != placement.Status.Y) _info.Y = placement.Status.Y;
        base.OnSubViewLayout(args);
    }

    /// <summary>Moves a pane only when its place changed: Terminal.Gui clears and redraws the whole screen on the
    /// next iteration after any Width or Height assignment, even of the same value, and the window is laid out
    /// again whenever a label's text changes, that is on every move (measured: a second full frame after every key).</summary>
    private static void Place(View pane, System.Drawing.Rectangle r)
    {
        if (pane.Frame == r) return;
        pane.X = r.X;
        pane.Y = r.Y;
        pane.Width = r.Width;
        pane.Height = r.Height;
    }

    protected override void OnSubViewsLaidOut(LayoutEventArgs args)
    {
        base.OnSubViewsLaidOut(args);
        // Sizes changed (first layout, terminal resize, split moved, zoom): panes that size their content
        // refresh. Only then: a refresh that changes a title or a text asks for another layout.
        string frames = string.Join(';', _panes.Values.Select(p => p.Visible ? p.Frame.ToString() : "-"));
        if (frames == _laidOut) return;
        _laidOut = frames;
        _instructions.Fit();
        RefreshPanes();
    }
}
