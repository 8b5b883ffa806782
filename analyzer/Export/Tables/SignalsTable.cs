namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class SignalsTable : StepRowsTable
{
    public readonly ValueColumn<int> Signo = new("signo", "signal number");
    public readonly StringColumn Name = new("name", "SIGSEGV, SIGTRAP, …");
    public readonly ValueColumn<int> Code = new("code", "si_code");
    public readonly ValueColumn<ulong> Address = new("address", "si_addr (faulting address) where meaningful");
    public readonly StringColumn Disposition = new("disposition", "delivered, suppressed (the recorder did not pass it on) or kill");

    public SignalsTable() : base("signals", "One row per signal.",
        step: "step at which the signal arrived")
        => Declare(Signo, Name, Code, Address, Disposition);
}
