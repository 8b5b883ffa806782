namespace Ether.Replay.Cli;

public static class Program
{
    public static int Main(string[] args) => EtherCommand.Run(args);
}
