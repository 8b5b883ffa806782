using Ether.Replay.Analyzer.Disassembly;
using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Analyzer.Unpack;
using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Analyzer.Export.Importers;

/// <summary>
/// Turns decoded chunks into table rows. Walks each chunk's columns in log order without making an
/// object per event: instruction S, then the writes, register changes and side events of step S in
/// the order they were logged. The order matters for unpacking layers (a write tags bytes with the
/// layer of the instruction that just executed) and for joining system calls.
/// </summary>
internal sealed class ChunkImporter
{
    private readonly ExportTables _tables;
    private readonly LayerTracker _layers;
    private readonly ProcessCatalog _catalog;
    private readonly SyscallJoiner _syscalls;
    private readonly BasicBlockTracker _blocks = new();
    private readonly Disassembler _disassembler;
    private readonly StepReads _reads;
    private ThreadState[] _threads = [];
    /// <summary>Per code offset of the current chunk: 0 unknown, 1 falls through, 2 ends a block.</summary>
    private byte[] _flow = [];
    private DecodedChunk _c = null!;
    private int _w, _r, _s;

    /// <param name="xsaveSize">The recording CPU's XSAVE area (<see cref="StepReads.XsaveSizeOf"/>).</param>
    public ChunkImporter(ExportTables tables, string targetPath, int bitness, int xsaveSize = Formats.Instructions.MemoryOperands.MinimumXsaveArea)
    {
        _reads = new StepReads(xsaveSize, bitness);
        _tables = tables;
        _layers = new LayerTracker(targetPath, OnTransition);
        _catalog = new ProcessCatalog(_layers);
        _syscalls = new SyscallJoiner(tables.Syscalls);
        _disassembler = new Disassembler(bitness);
    }

    public long Instructions { get; private set; }
    public long RegisterChanges { get; private set; }
    public long LastStep { get; private set; }
    public LayerTracker Layers => _layers;
    public ProcessCatalog Catalog => _catalog;

    public void Import(DecodedChunk c)
    {
        _c = c;
        _w = _r = _s = 0;
        if (_threads.Length < c.ThreadCount) _threads = new ThreadState[c.ThreadCount];
        for (int t = 0; t < c.ThreadCount; t++) _threads[t] = _catalog.Thread(c.ThreadPid[t], c.ThreadTid[t]);
        _blocks.BeginChunk(c, _threads, c.ThreadCount);
        if (_flow.Length < c.Code.Length) _flow = new byte[Math.Max(c.Code.Length, _flow.Length * 2)];
        Array.Clear(_flow, 0, c.Code.Length);

        for (int i = 0; i < c.InstructionCount; i++)
        {
            long step = c.InstructionStep[i];
            Drain(step);
            OnInstruction(i, step);
        }
        Drain(long.MaxValue);
        FlushReads();
        _blocks.EndChunk(_threads.AsSpan(0, c.ThreadCount));
        LastStep = Math.Max(LastStep, c.Info.LastStep);
    }

    /// <summary>Every write, register change and side event logged before the instruction of <paramref name="limit"/>.</summary>
    private void Drain(long limit)
    {
        var c = _c;
        var side = c.SideEvents;
        while (_s < side.Count && side[_s].Step < limit)
        {
            int writesBefore = Math.Min(c.SideWritesBefore[_s], c.WriteCount);
            int changesBefore = Math.Min(c.SideRegistersBefore[_s], c.RegisterChangeCount);
            while (_w < writesBefore) OnWrite(_w++);
            while (_r < changesBefore) OnRegisterChange(_r++);
            var e = side[_s++];
            if (!_reads.IsPreStepSnapshot(e)) FlushReads();
            OnSideEvent(e);
        }
        while (_w < c.WriteCount && c.WriteStep[_w] < limit) OnWrite(_w++);
        while (_r < c.RegisterChangeCount && c.RegisterStep[_r] < limit) OnRegisterChange(_r++);
    }

    private void OnInstruction(int i, long step)
    {
        FlushReads();
        var c = _c;
        var t = _threads[c.InstructionThread[i]];
        ulong rip = c.InstructionRip[i];
        int length = c.InstructionLength[i];
        int codeOffset = c.InstructionCodeOffset[i];
        var code = c.Code.AsSpan(codeOffset, length);
        int layer = _layers.OnInstruction(t.Layers, step, rip, length);

        var table = _tables.Instructions;
        table.BeginRow(step, t.Pid, t.Tid);
        table.Rip.Add(rip);
        table.Length.Add((byte)length);
        table.Bytes.Add(code);
        table.Layer.Add(layer);
        table.EndRow();

        byte flow = _flow[codeOffset];
        if (flow == 0) _flow[codeOffset] = flow = _disassembler.EndsBlock(code) ? (byte)2 : (byte)1;
        _blocks.OnInstruction(t, i, step, rip, length, layer, flow == 2);

        _reads.OnInstruction(c, i, t.Pid, t.Tid, t.Registers);
        t.Rip = rip;
        t.Instructions++;
        if (t.FirstStep < 0) t.FirstStep = step;
        t.LastStep = step;
        Instructions++;
    }

    /// <summary>The rows of what the last instruction read, once the snapshots logged with it are applied.</summary>
    private void FlushReads()
    {
        if (!_reads.Pending) return;
        _reads.Resolve();
        var table = _tables.MemoryReads;
        for (int k = 0; k < _reads.Count; k++)
        {
            var range = _reads.Range(k);
            table.BeginRow(_reads.PendingStep, _reads.PendingPid, _reads.PendingTid);
            table.Rip.Add(_reads.PendingRip);
            table.Address.Add(range.Address);
            table.Size.Add(range.Size);
            if (_reads.Complete(k)) table.Value.Add(_reads.Value(k));
            else table.Value.AddNull();
            table.EndRow();
        }
    }

    private void OnWrite(int w)
    {
        FlushReads();
        var c = _c;
        var t = _threads[c.WriteThread[w]];
        var flags = c.WriteFlags[w];
        long step = c.WriteStep[w];
        bool kernel = (flags & MemoryWriteFlags.Kernel) != 0;
        var table = _tables.MemoryWrites;
        table.BeginRow(step, t.Pid, t.Tid);
        table.Rip.Add(t.Rip);
        table.Address.Add(c.WriteAddress[w]);
        table.Size.Add(c.WriteSize[w]);
        table.Value.Add(c.WriteValue(w));
        if ((flags & MemoryWriteFlags.HasOldValue) != 0)
            table.OldValue.Add(c.WriteOldValues.AsSpan(c.WriteOldValueOffset[w], c.WriteValueLength[w]));
        else
            table.OldValue.AddNull();
        table.Kernel.Add(kernel);
        table.Truncated.Add((flags & MemoryWriteFlags.Truncated) != 0);
        table.Layer.Add(t.Layers.Layer);
        table.EndRow();
        _layers.OnWrite(t.Layers, step, c.WriteAddress[w], c.WriteSize[w], kernel, c.WriteValue(w));
        _reads.Memory.Write(t.Pid, c.WriteAddress[w], c.WriteValue(w), c.WriteSize[w]);
    }

    private void OnRegisterChange(int r)
    {
        FlushReads();
        var c = _c;
        var t = _threads[c.RegisterThread[r]];
        uint mask = c.RegisterMask[r];
        var values = c.RegisterChangeValues(r);
        long step = c.RegisterStep[r];
        var table = _tables.Registers;
        int k = 0;
        for (uint m = mask; m != 0; m &= m - 1)
        {
            int slot = System.Numerics.BitOperations.TrailingZeroCount(m);
            table.BeginRow(step, t.Pid, t.Tid);
            table.Register.Add(slot < Registers.Count ? Registers.Names[slot] : $"slot{slot}");
            if (slot < Registers.Count) t.Registers[slot] = values[k];
            table.Value.Add(values[k++]);
            table.Keyframe.Add(false);
            table.EndRow();
            // Syscall-only traces have no instructions: the registers are the only source of rip.
            if (slot == (int)Register.Rip && t.Instructions == 0) t.Rip = values[k - 1];
            else if (slot == (int)Register.Rsp) t.Layers.Rsp = values[k - 1];
        }
        RegisterChanges++;
    }

    private void OnSideEvent(TraceEvent e)
    {
        _catalog.OnSideEvent(e);
        _layers.OnSideEvent(e);
        _reads.OnMemoryEvent(e);
        switch (e)
        {
            case KeyframeEvent k:
            {
                var t = _catalog.Thread(k.Pid, k.Tid);
                var table = _tables.Registers;
                for (int slot = 0; slot < Registers.Count; slot++)
                {
                    table.BeginRow(k);
                    table.Register.Add(Registers.Names[slot]);
                    table.Value.Add(k.Registers[slot]);
                    table.Keyframe.Add(true);
                    table.EndRow();
                }
                if (t.Instructions == 0) t.Rip = k.Registers.Rip;
                t.Registers = k.Registers;
                t.Layers.Rsp = k.Registers[(int)Register.Rsp];
                break;
            }
            case SyscallEntryEvent entry:
                _syscalls.OnEntry(entry, _catalog.Thread(entry.Pid, entry.Tid));
                break;
            case SyscallExitEvent exit:
                _syscalls.OnExit(exit, _catalog.Thread(exit.Pid, exit.Tid));
                break;
            case RegionMapEvent m:
                Region(m, "map", m.Start, m.End, ProtectionText.Of(m.Protection), m.FileOffset, m.Name);
                break;
            case RegionUnmapEvent u:
                Region(u, "unmap", u.Start, u.End, null, null, null);
                break;
            case RegionProtectEvent p:
                Region(p, "protect", p.Start, p.End, ProtectionText.Of(p.Protection), null, null);
                break;
            case RegionSnapshotEvent s:
            {
                var table = _tables.Snapshots;
                table.BeginRow(s);
                table.Address.Add(s.Address);
                table.Size.Add(s.Bytes.Length);
                table.Reason.Add(s.Reason);
                table.Bytes.Add(s.Bytes);
                table.EndRow();
                break;
            }
            case ExecEvent x:
            {
                var table = _tables.Execs;
                table.BeginRow(x);
                table.Path.Add(x.Path);
                table.Argv.Add(ShellWords.Join(x.Argv));
                table.EndRow();
                break;
            }
            case FileEvent f:
            {
                var table = _tables.Files;
                table.BeginRow(f);
                table.Op.Add(f.Op);
                table.Call.Add(f.Call);
                table.Fd.Add(f.Fd);
                table.Device.Add(f.Device);
                table.Inode.Add(f.Inode);
                table.Path.Add(f.Path);
                table.Offset.Add(f.Offset);
                table.Length.Add(f.Length);
                table.Size.Add(f.Size);
                if (f.Bytes.Length > 0) table.Content.Add(f.Bytes);
                else table.Content.AddNull();
                table.EndRow();
                break;
            }
            case SignalEvent g:
            {
                var table = _tables.Signals;
                table.BeginRow(g);
                table.Signo.Add(g.Signo);
                table.Name.Add(g.Name);
                table.Code.Add(g.Code);
                table.Address.Add(g.Address);
                table.Disposition.Add(g.Disposition);
                table.EndRow();
                break;
            }
            case AnnotationEvent a:
            {
                var table = _tables.Annotations;
                table.BeginRow(a);
                table.Key.Add(a.Key);
                table.Text.Add(a.Text);
                table.EndRow();
                break;
            }
            case ThreadExitEvent te when te.Tid != 0:
                _blocks.Close(_catalog.Thread(te.Pid, te.Tid));
                _syscalls.OnExit(te.Pid, te.Tid);
                break;
            case ProcessExitEvent pe:
                foreach (var t in _catalog.Threads.Where(t => t.Pid == pe.Pid)) _blocks.Close(t);
                _syscalls.OnExit(pe.Pid, null);
                break;
        }
    }

    private void Region(TraceEvent e, string kind, ulong start, ulong end, string? protection, ulong? fileOffset, string? name)
    {
        var table = _tables.Regions;
        table.BeginRow(e);
        table.Event.Add(kind);
        table.Start.Add(start);
        table.End.Add(end);
        table.Size.Add(end >= start ? end - start : 0);
        table.Protection.Add(protection);
        table.FileOffset.Add(fileOffset);
        table.Name.Add(name);
        table.EndRow();
    }

    private void OnTransition(LayerTransition x)
    {
        var table = _tables.LayerTransitions;
        table.Pid.Add(x.Pid);
        table.Tid.Add(x.Tid);
        table.Image.Add(x.Image);
        table.Step.Add(x.Step);
        table.FromLayer.Add(x.FromLayer);
        table.ToLayer.Add(x.ToLayer);
        table.FromRip.Add(x.FromRip);
        table.ToRip.Add(x.ToRip);
        table.EndRow();
    }

    /// <summary>Rows that can only be written once the whole trace was seen.</summary>
    public IReadOnlyList<LayerRecord> Finish()
    {
        foreach (var t in _catalog.Threads) _blocks.Close(t);
        _syscalls.Finish();
        _blocks.WriteTo(_tables.BasicBlocks);
        _catalog.WriteTo(_tables.Processes, _tables.Threads);
        var layers = _layers.Finish();
        var table = _tables.UnpackLayers;
        foreach (var l in layers)
        {
            table.Pid.Add(l.Pid);
            table.Image.Add(l.Image);
            table.Layer.Add(l.Layer);
            table.FirstStep.Add(l.FirstStep);
            table.LastStep.Add(l.LastStep);
            table.EntryAddress.Add(l.EntryAddress);
            table.EntryTid.Add(l.EntryTid);
            table.RegionStart.Add(l.RegionStart);
            table.RegionEnd.Add(l.RegionEnd);
            table.RegionName.Add(l.RegionName);
            table.MainImage.Add(l.MainImage);
            table.BytesWritten.Add(l.BytesWritten);
            table.WriterRipMin.Add(l.WriterRipMin);
            table.WriterRipMax.Add(l.WriterRipMax);
            table.WriterFirstStep.Add(l.WriterFirstStep);
            table.WriterLastStep.Add(l.WriterLastStep);
            table.KernelBytes.Add(l.KernelBytes);
            table.Instructions.Add(l.Instructions);
            table.FixupBytes.Add(l.FixupBytes);
            table.Arrival.Add(l.Arrival);
            table.Chain.Add(l.Chain);
            table.Oep.Add(l.Oep);
            table.EndRow();
        }
        var oep = _tables.OepCandidates;
        foreach (var c in _layers.Candidates.OrderBy(c => c.Pid).ThenBy(c => c.Image).ThenBy(c => c.Rank).ThenBy(c => c.Step))
        {
            oep.Pid.Add(c.Pid);
            oep.Image.Add(c.Image);
            oep.Layer.Add(c.Layer);
            oep.Address.Add(c.Address);
            oep.Step.Add(c.Step);
            oep.Tid.Add(c.Tid);
            oep.Evidence.Add(c.Evidence);
            oep.Rank.Add(c.Rank);
            oep.Chosen.Add(c.Chosen);
            oep.Detail.Add(c.Detail);
            oep.EndRow();
        }
        return layers;
    }

    public long SyscallRows => _syscalls.Rows;
}
