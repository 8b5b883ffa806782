using System.Text;
using Ether.Replay.Recorder.Backends.Ptrace.Unpacking;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// /proc/&lt;pid&gt;/maps and smaps (and their task/&lt;tid&gt; forms) as the program believes its memory
/// is protected, in the modes that keep pages writable-xor-executable behind its back (`--mode
/// unpack`): the pages <see cref="WxPages"/> manages show their imaginary protection
/// (<see cref="WxPages.Imaginary"/>), and the lines are split and merged as the kernel would have
/// split and merged its VMAs for those protections — a line is cut where the imaginary protection
/// changes, and neighbouring pieces that now look alike (same protection, file, offset run, name)
/// join when the recorder's page flips are why they were apart (one of them holds a managed page).
/// smaps: the header lines likewise; Size is the piece's; the other memory counters of a VMA cut in
/// pieces are shared out by resident pages (/proc/&lt;pid&gt;/pagemap), those of joined VMAs summed;
/// VmFlags gets rd/wr/ex of the imaginary protection, and "ac" when the program's protection was
/// writable at some point (<see cref="WxPages.Accounted"/>: the kernel accounts a private mapping
/// once writable and never clears it; the recorder, withholding write, may never have made it
/// writable); mr/mw/me do not change with mprotect.
/// Not exact (docs/transparency.md): VMAs the kernel would have kept apart for a reason maps does
/// not show (a different anon_vma) are joined when a flipped page is next to the boundary.
/// </summary>
internal sealed class ImaginaryMapsRewriter(Func<int, WxPages?> pagesOf, Func<int, ulong, ulong, long>? residentPages = null) : IProcFileRewriter
{
    private readonly Func<int, ulong, ulong, long> _resident = residentPages ?? PageResidency.Resident;

    public bool Wants(ProcFileName file) => !file.IsSystemFile && file.Name is "maps" or "smaps";

    /// <summary>A VMA is a record: its line (maps), its header line and the lines under it (smaps).</summary>
    public IReadOnlyList<int> Records(ProcFileName file, byte[] content) => VmaRecords(content);

    internal static List<int> VmaRecords(byte[] content)
    {
        var ends = new List<int>();
        int lineStart = 0;
        while (lineStart < content.Length)
        {
            int nl = Array.IndexOf(content, (byte)'\n', lineStart);
            int next = nl < 0 ? content.Length : nl + 1;
            // A record ends before each header line but the first (every line is a header in maps).
            if (lineStart > 0 && IsHeader(content, lineStart, next)) ends.Add(lineStart);
            lineStart = next;
        }
        ends.Add(content.Length);
        return ends;
    }

    /// <summary>smaps' lines under a header start with a field name ("Size:"), headers with a hex address.</summary>
    private static bool IsHeader(byte[] content, int start, int end) =>
        MapsLine.Parse(System.Text.Encoding.Latin1.GetString(content, start, end - start).TrimEnd('\n')) is not null;

    public byte[] Rewrite(ProcFileName file, byte[] original, ProcReader reader)
    {
        if (pagesOf(file.Pid) is not { Count: > 0 } pages) return original;
        var managed = pages.Pages.OrderBy(p => p.Address).ToArray();
        // Latin-1: one char per byte, so names that are not UTF-8 come back byte for byte.
        var vmas = Parse(Encoding.Latin1.GetString(original));
        if (vmas is null || !vmas.Any(v => FirstManaged(managed, v.Line.Start) is int i && i < managed.Length && managed[i].Address < v.Line.End))
            return original;
        var pieces = Join(vmas.SelectMany(v => Cut(v, managed)));
        var sb = new StringBuilder(original.Length + 256);
        foreach (var p in pieces) Print(sb, p, file.Pid);
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    // ---- the kernel's text ----------------------------------------------------------------------

    /// <summary>A VMA as the kernel printed it: its header line and (smaps) the lines under it.</summary>
    private sealed record Vma(MapsLine Line, string Header, List<string> Body);

    private static List<Vma>? Parse(string text)
    {
        var vmas = new List<Vma>();
        var lines = text.Split('\n');
        int count = lines.Length - (text.EndsWith('\n') ? 1 : 0);
        for (int i = 0; i < count; i++)
        {
            string line = lines[i];
            if (MapsLine.Parse(line) is { } header) vmas.Add(new Vma(header, line, []));
            else if (vmas.Count > 0) vmas[^1].Body.Add(line);
            else return null; // not maps text: leave it alone
        }
        return vmas;
    }

    private static int? FirstManaged((ulong Address, int State)[] managed, ulong address)
    {
        int lo = 0, hi = managed.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (managed[mid].Address < address) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    // ---- pieces -----------------------------------------------------------------------------------

    /// <summary>A line of the program's picture: where it comes from (parts of the kernel's VMAs, in order).</summary>
    private sealed class Piece(MapsLine line, bool managed, bool accounted)
    {
        public MapsLine Line = line;
        public bool Managed = managed;
        /// <summary>A page of it was writable for the program at some point (<see cref="WxPages.Accounted"/>).</summary>
        public bool Accounted = accounted;
        public readonly List<(Vma Source, ulong Start, ulong End)> Parts = [];
        public bool Unchanged => Parts.Count == 1 && Parts[0].Source.Line == Line;
    }

    /// <summary>A kernel VMA cut where the imaginary protection changes (pages with the same protection stay together).</summary>
    private static IEnumerable<Piece> Cut(Vma vma, (ulong Address, int State)[] managed)
    {
        var line = vma.Line;
        int i = FirstManaged(managed, line.Start)!.Value;
        var pieces = new List<Piece>();
        void Add(ulong start, ulong end, string perms, bool isManaged, bool accounted)
        {
            if (pieces.Count > 0 && pieces[^1].Line.Perms == perms)
            {
                var last = pieces[^1];
                last.Line = last.Line with { End = end };
                last.Managed |= isManaged;
                last.Accounted |= accounted;
                last.Parts[0] = (vma, last.Parts[0].Start, end);
                return;
            }
            ulong offset = line.HasFile ? line.Offset + (start - line.Start) : line.Offset;
            var p = new Piece(line with { Start = start, End = end, Perms = perms, Offset = offset }, isManaged, accounted);
            p.Parts.Add((vma, start, end));
            pieces.Add(p);
        }
        ulong cursor = line.Start;
        for (; i < managed.Length && managed[i].Address < line.End; i++)
        {
            var (page, state) = managed[i];
            if (page > cursor) Add(cursor, page, line.Perms, false, false);
            Add(page, page + WxPages.PageSize, Perms(WxPages.Imaginary(state), line.Sharing), true, (state & WxPages.Accounted) != 0);
            cursor = page + WxPages.PageSize;
        }
        if (cursor < line.End) Add(cursor, line.End, line.Perms, false, false);
        return pieces;
    }

    /// <summary>Neighbours that look alike join when a flipped page is why the kernel kept them apart.</summary>
    private static List<Piece> Join(IEnumerable<Piece> pieces)
    {
        var result = new List<Piece>();
        foreach (var p in pieces)
        {
            if (result.Count > 0 && Joins(result[^1], p))
            {
                var last = result[^1];
                last.Line = last.Line with { End = p.Line.End };
                last.Managed = true;
                last.Accounted |= p.Accounted;
                last.Parts.AddRange(p.Parts);
            }
            else result.Add(p);
        }
        return result;
    }

    private static bool Joins(Piece a, Piece b) =>
        (a.Managed || b.Managed) && a.Line.End == b.Line.Start && a.Line.Perms == b.Line.Perms
        && a.Line.Device == b.Line.Device && a.Line.Inode == b.Line.Inode && a.Line.Name == b.Line.Name
        && (!a.Line.HasFile || b.Line.Offset == a.Line.Offset + (a.Line.End - a.Line.Start));

    private static string Perms(int prot, char sharing) =>
        string.Create(4, (prot, sharing), static (s, v) =>
        {
            s[0] = (v.prot & WxPages.ProtRead) != 0 ? 'r' : '-';
            s[1] = (v.prot & WxPages.ProtWrite) != 0 ? 'w' : '-';
            s[2] = (v.prot & WxPages.ProtExec) != 0 ? 'x' : '-';
            s[3] = v.sharing;
        });

    // ---- printing -----------------------------------------------------------------------------------

    private void Print(StringBuilder sb, Piece p, int pid)
    {
        if (p.Unchanged)
        {
            var v = p.Parts[0].Source;
            sb.Append(v.Header).Append('\n');
            foreach (var l in v.Body) sb.Append(l).Append('\n');
            return;
        }
        sb.Append(p.Line.ToString()).Append('\n');
        foreach (var l in p.Parts[0].Source.Body) sb.Append(SmapsLine(l, p, pid)).Append('\n');
    }

    /// <summary>One line under an smaps header, for a piece made of parts of the kernel's VMAs.</summary>
    private string SmapsLine(string line, Piece p, int pid)
    {
        if (line.StartsWith("VmFlags:", StringComparison.Ordinal)) return SmapsFlags.WithProtection(line, p.Line.Perms, p.Accounted);
        if (SmapsField.Parse(line) is not { } field) return line; // THPeligible, ProtectionKey: the VMA's, not counted
        long value = field.Label switch
        {
            "Size" => (long)(p.Line.End - p.Line.Start) >> 10,
            "KernelPageSize" or "MMUPageSize" => field.Value,
            _ => p.Parts.Sum(part => Share(part, field.Label, pid)),
        };
        return field.With(value);
    }

    /// <summary>The part's share of a counter of its VMA: all of it, or in proportion to the resident pages it holds.</summary>
    private long Share((Vma Source, ulong Start, ulong End) part, string label, int pid)
    {
        var (source, start, end) = part;
        long value = source.Body.Select(SmapsField.Parse).FirstOrDefault(f => f?.Label == label)?.Value ?? 0;
        if (start == source.Line.Start && end == source.Line.End) return value;
        long unit = value % 4 == 0 ? 4 : 1; // page counters stay whole pages
        long units = value / unit;
        long total = _resident(pid, source.Line.Start, source.Line.End);
        Func<ulong, long> upTo = total > 0
            ? a => _resident(pid, source.Line.Start, a)
            : a => (long)((a - source.Line.Start) / WxPages.PageSize);
        if (total <= 0) total = (long)((source.Line.End - source.Line.Start) / WxPages.PageSize);
        long Cumulative(ulong a) => (long)((Int128)units * upTo(a) / total);
        return (Cumulative(end) - Cumulative(start)) * unit;
    }
}
