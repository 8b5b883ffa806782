using System.Reflection;
using System.Runtime.Loader;

namespace Ether.Replay.Bench;

/// <summary>
/// The trace reader of another build of Ether.Replay.Formats (<see cref="BaselineReaderBuild"/>: an older commit's), loaded
/// beside this process's own — same assembly name — into its own AssemblyLoadContext, whose AssemblyDependencyResolver
/// reads the build's deps.json so its Iced, MessagePack and ZstdSharp load from beside it. The context is NOT collectible:
/// code of a collectible context decoded 6-12 % slower (md5sum, ls -la; two runs each, alternating, 2026-12-06 22:56, load
/// 5-8) than the same build non-collectible, which matched a separate process running that build — a collectible
/// baseline would flatter version 2. It stays loaded until the process ends. Driven through the public API
/// every reader since version 1 has (TraceReader.Open(string), Chunks, ReadChunk(int, DecodedChunk), DecodedChunk's
/// InstructionCount / RegisterChangeCount) by reflection resolved once: a pass makes 3 reflected calls per chunk
/// (<see cref="CallNanoseconds"/> measures one; `bench format` prints their share of a pass).
/// </summary>
internal sealed class BaselineReader
{
    private const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance;
    private const BindingFlags Unwrapped = BindingFlags.DoNotWrapExceptions; // a bad trace throws its own exception, not TargetInvocationException

    private readonly Type _decodedChunk;
    private readonly object?[] _readChunkDefaults;
    private readonly MethodInfo _open, _chunks, _count, _readChunk, _instructionCount, _registerChangeCount;

    /// <summary>Where the loaded Ether.Replay.Formats.dll is.</summary>
    public string Location { get; }

    private BaselineReader(string formatsDll)
    {
        Location = Path.GetFullPath(formatsDll);
        var assembly = new Context(Location).LoadFromAssemblyPath(Location);
        var reader = Find(assembly, "Ether.Replay.Formats.Log.TraceReader");
        _decodedChunk = Find(assembly, "Ether.Replay.Formats.Log.DecodedChunk");
        _open = reader.GetMethod("Open", BindingFlags.Public | BindingFlags.Static, [typeof(string)]) ?? throw Missing("TraceReader.Open(string)");
        _chunks = reader.GetProperty("Chunks", Public)?.GetMethod ?? throw Missing("TraceReader.Chunks");
        // Chunks is an IReadOnlyList<ChunkInfo> of that build's ChunkInfo: its Count through the closed interface.
        _count = _chunks.ReturnType.GetInterfaces().Append(_chunks.ReturnType)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyCollection<>))
            ?.GetProperty("Count")?.GetMethod ?? throw Missing("TraceReader.Chunks.Count");
        // ReadChunk(int, DecodedChunk) until later builds added optional parameters (registerChanges = true): called with their defaults.
        _readChunk = reader.GetMethods(Public)
            .Where(m => m.Name == "ReadChunk" && m.GetParameters() is [var index, var into, .. var rest]
                        && index.ParameterType == typeof(int) && into.ParameterType == _decodedChunk && rest.All(p => p.HasDefaultValue))
            .MinBy(m => m.GetParameters().Length) ?? throw Missing("TraceReader.ReadChunk(int, DecodedChunk)");
        _readChunkDefaults = _readChunk.GetParameters()[2..].Select(p => p.DefaultValue).ToArray();
        _instructionCount = _decodedChunk.GetProperty("InstructionCount", Public)?.GetMethod ?? throw Missing("DecodedChunk.InstructionCount");
        _registerChangeCount = _decodedChunk.GetProperty("RegisterChangeCount", Public)?.GetMethod ?? throw Missing("DecodedChunk.RegisterChangeCount");
    }

    /// <summary>The reader of <paramref name="revision"/> of the checkout at <paramref name="repoRoot"/> (null: none could be found),
    /// built from its history into <paramref name="cacheDir"/> or taken from there; <paramref name="say"/> hears what happens,
    /// and when there is no such reader, one line: "baseline reader unavailable: WHY".</summary>
    public static BaselineReader? TryOpen(string? repoRoot, string revision, string cacheDir, Action<string> say)
    {
        try
        {
            if (repoRoot == null) throw new BaselineUnavailableException("no checkout (a folder with Ether.Replay.sln) above the bench or the current directory");
            var (dll, commit) = BaselineReaderBuild.Build(repoRoot, revision, cacheDir, say);
            var reader = Load(dll);
            reader.Commit = commit;
            return reader;
        }
        catch (Exception e) when (e is BaselineUnavailableException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            say("baseline reader unavailable: " + e.Message.ReplaceLineEndings(" "));
            return null;
        }
    }

    /// <summary>The commit it was built from (when <see cref="TryOpen"/> built it).</summary>
    public string Commit { get; private set; } = "";

    /// <summary>Loads the reader of <paramref name="formatsDll"/>; <see cref="BaselineUnavailableException"/> if it cannot be loaded or lacks the API.</summary>
    public static BaselineReader Load(string formatsDll)
    {
        try
        {
            return new BaselineReader(formatsDll);
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or FileLoadException or TypeLoadException)
        {
            throw new BaselineUnavailableException($"{formatsDll} cannot be loaded: {e.Message}");
        }
    }

    /// <summary>One whole pass with a fresh reader, as `bench format` decodes with today's: every chunk into one reused DecodedChunk.</summary>
    public (long Instructions, long RegisterChanges) Decode(string path)
    {
        long instructions = 0, registerChanges = 0;
        using var reader = (IDisposable)Call(_open, null, path)!;
        int count = (int)Call(_count, Call(_chunks, reader))!;
        object chunk = Activator.CreateInstance(_decodedChunk)!;
        for (int i = 0; i < count; i++)
        {
            Call(_readChunk, reader, [i, chunk, .. _readChunkDefaults]);
            instructions += (int)Call(_instructionCount, chunk)!;
            registerChanges += (int)Call(_registerChangeCount, chunk)!;
        }
        return (instructions, registerChanges);
    }

    /// <summary>Reflected calls a <see cref="Decode"/> pass over <paramref name="chunks"/> chunks makes.</summary>
    public static int CallsPerPass(int chunks) => 3 + 3 * chunks;

    /// <summary>What one reflected call costs beyond the work it calls: nanoseconds of thread CPU time per call of
    /// DecodedChunk.InstructionCount (a field read) through the same path <see cref="Decode"/> uses, over many calls.</summary>
    public double CallNanoseconds(int calls = 200_000)
    {
        object chunk = Activator.CreateInstance(_decodedChunk)!;
        for (int i = 0; i < 1000; i++) Call(_instructionCount, chunk); // past the first calls' set-up
        double start = ThreadCpuTime.Seconds();
        long sum = 0;
        for (int i = 0; i < calls; i++) sum += (int)Call(_instructionCount, chunk)!;
        double seconds = ThreadCpuTime.Seconds() - start;
        GC.KeepAlive(sum);
        return seconds * 1e9 / calls;
    }

    private static object? Call(MethodInfo method, object? target, params object?[] args) => method.Invoke(target, Unwrapped, null, args, null);

    private Type Find(Assembly assembly, string name) => assembly.GetType(name) ?? throw Missing(name);

    private BaselineUnavailableException Missing(string member) => new($"{Location} has no public {member}");

    /// <summary>Resolves the build's own dependencies from its deps.json (next to it); everything else, such as the
    /// framework, comes from the default context.</summary>
    private sealed class Context(string formatsDll) : AssemblyLoadContext("baseline reader " + formatsDll, isCollectible: false)
    {
        private readonly AssemblyDependencyResolver _resolver = new(formatsDll);

        protected override Assembly? Load(AssemblyName name) =>
            _resolver.ResolveAssemblyToPath(name) is { } path ? LoadFromAssemblyPath(path) : null;

        protected override IntPtr LoadUnmanagedDll(string name) =>
            _resolver.ResolveUnmanagedDllToPath(name) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}
