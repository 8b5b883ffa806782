namespace Ether.Replay.Analyzer.Analyses;

/// <summary>A request that does not fit the trace or the dataset (a step outside it, a thread that is
/// not alive, an unknown trace id, an address that does not parse): its message is what the user
/// should read, and the command line shows it as one line.</summary>
public sealed class AnalysisInputException(string message) : Exception(message);
