using System.Runtime.CompilerServices;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// (pid, rip) → where that instruction's bytes are stored in the current chunk, and which code
/// definition of the chunk (0, 1, 2, ... in order) stored them. Open addressing
/// with linear probing over parallel arrays: one probe per instruction on the hot path of both the
/// writer and the decoder, no allocation after warm-up, Clear() in O(used) per chunk.
/// </summary>
internal sealed class CodeMap
{
    private ulong[] _rips = new ulong[1024];
    private int[] _pids = new int[1024];
    private int[] _offsets = new int[1024];
    private byte[] _lengths = new byte[1024];
    private int[] _definitions = new int[1024];
    private bool[] _used = new bool[1024];
    private int[] _usedSlots = new int[512];
    private int _count;
    private int _mask = 1023;

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(int pid, ulong rip)
    {
        ulong h = (rip ^ ((ulong)(uint)pid << 40)) * 0x9E3779B97F4A7C15UL;
        return (int)(h >> 40);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int pid, ulong rip, out int offset, out int length, out int definition)
    {
        int i = Hash(pid, rip) & _mask;
        while (_used[i])
        {
            if (_rips[i] == rip && _pids[i] == pid)
            {
                offset = _offsets[i];
                length = _lengths[i];
                definition = _definitions[i];
                return true;
            }
            i = (i + 1) & _mask;
        }
        offset = 0;
        length = 0;
        definition = 0;
        return false;
    }

    public void Set(int pid, ulong rip, int offset, int length, int definition)
    {
        int i = Hash(pid, rip) & _mask;
        while (_used[i])
        {
            if (_rips[i] == rip && _pids[i] == pid)
            {
                _offsets[i] = offset;
                _lengths[i] = (byte)length;
                _definitions[i] = definition;
                return;
            }
            i = (i + 1) & _mask;
        }
        _used[i] = true;
        _rips[i] = rip;
        _pids[i] = pid;
        _offsets[i] = offset;
        _lengths[i] = (byte)length;
        _definitions[i] = definition;
        if (_count == _usedSlots.Length) Array.Resize(ref _usedSlots, _count * 2);
        _usedSlots[_count++] = i;
        if (_count * 2 > _mask) Grow();
    }

    public void Clear()
    {
        for (int k = 0; k < _count; k++) _used[_usedSlots[k]] = false;
        _count = 0;
    }

    private void Grow()
    {
        var (rips, pids, offsets, lengths, definitions, slots, count) = (_rips, _pids, _offsets, _lengths, _definitions, _usedSlots, _count);
        int size = (_mask + 1) * 2;
        _rips = new ulong[size];
        _pids = new int[size];
        _offsets = new int[size];
        _lengths = new byte[size];
        _definitions = new int[size];
        _used = new bool[size];
        _usedSlots = new int[size / 2];
        _mask = size - 1;
        _count = 0;
        for (int k = 0; k < count; k++)
        {
            int s = slots[k];
            Set(pids[s], rips[s], offsets[s], lengths[s], definitions[s]);
        }
    }
}
