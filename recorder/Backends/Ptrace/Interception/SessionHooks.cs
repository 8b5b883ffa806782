namespace Ether.Replay.Recorder.Backends.Ptrace.Interception;

/// <summary>
/// The components that see a recording's stops before the pipeline records them, in the order
/// they were added (the sandbox guard first, then the mode's, then the others'). A component
/// implements any of <see cref="ISyscallInterceptor"/>, <see cref="ISignalInterceptor"/> and
/// <see cref="IStepObserver"/>. Filled before the target starts; read on the tracer thread only.
/// </summary>
internal sealed class SessionHooks
{
    private readonly List<ISyscallInterceptor> _syscalls = [];
    private readonly List<ISignalInterceptor> _signals = [];
    private readonly List<IStepObserver> _steps = [];

    public IReadOnlyList<ISyscallInterceptor> Syscalls => _syscalls;
    public IReadOnlyList<ISignalInterceptor> Signals => _signals;
    public IReadOnlyList<IStepObserver> Steps => _steps;

    /// <summary>Adds <paramref name="component"/> to every hook it implements.</summary>
    public void Add(object component)
    {
        bool any = false;
        if (component is ISyscallInterceptor s) { _syscalls.Add(s); any = true; }
        if (component is ISignalInterceptor g) { _signals.Add(g); any = true; }
        if (component is IStepObserver o) { _steps.Add(o); any = true; }
        if (!any) throw new ArgumentException($"{component.GetType().Name} implements no interception interface", nameof(component));
    }
}
