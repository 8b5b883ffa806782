using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Formats.Synthetic;

// usage: WriterChild OUT.etrace — writes forever (small, frequent chunks) until killed.
var options = new TraceWriterOptions { ChunkSteps = 4096, ChunkAge = TimeSpan.FromMilliseconds(20) };
var writer = TraceWriter.Create(args[0], new TraceHeader { Backend = "synthetic", ToolVersion = "writer-child" }, options);
for (int seed = 1; ; seed++)
    SyntheticTrace.Write(writer, new SyntheticOptions { Instructions = 100_000, Seed = seed });
