namespace Ether.Replay.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("usage: bench/run <format|record|export|query|tui>");
        return 2;
    }
}
