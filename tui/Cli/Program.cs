namespace Ether.Replay.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        // First: which descriptors the shell gave ether, before the runtime's threads open files that a program
        // started now could inherit (GivenDescriptors).
        Ether.Replay.Recorder.Backends.Ptrace.Native.GivenDescriptors.Capture();
        return EtherCommand.Run(args);
    }
}
