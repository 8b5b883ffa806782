using System.Runtime.Intrinsics.X86;
using CsCheck;
using Ether.Replay.Formats.LogInternal;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// <see cref="SpanReader.ReadVarint"/> (one 8-byte load when the number ends within 8 bytes of it, a careful byte loop
/// otherwise and near the column's end) against a plain LEB128 decoder written here: the same values, the same
/// positions and the same errors, for numbers of every length 1-10 bytes at every distance from the column end, and for
/// arbitrary bytes (hostile columns).
/// </summary>
public class SpanReaderVarintTests
{
    private const string Column = "test";

    /// <summary>The reference: byte by byte, the value's 7-bit groups low first; a column that ends before a byte
    /// with a clear high bit, or a 10th byte that carries bits above bit 63, is an error.</summary>
    private static List<string> ReferenceReadAll(byte[] column)
    {
        var read = new List<string>();
        int pos = 0;
        while (pos < column.Length)
        {
            ulong value = 0;
            for (int i = 0; ; i++)
            {
                if (pos >= column.Length) return [.. read, $"column {Column} ends inside a number"];
                byte b = column[pos++];
                if (i == 9 && b > 1) return [.. read, $"column {Column} has a number longer than 64 bits"];
                value |= (ulong)(b & 0x7F) << (7 * i);
                if (b < 0x80) break;
            }
            read.Add($"{value}, {column.Length - pos} left");
        }
        return read;
    }

    private static List<string> ReadAll(byte[] column)
    {
        var read = new List<string>();
        // Zero bytes after the column: a reader that looked past its end would find a number's end there.
        byte[] padded = [.. column, .. new byte[sizeof(ulong)]];
        var reader = new SpanReader(padded.AsSpan(0, column.Length), Column);
        try
        {
            while (!reader.AtEnd)
            {
                ulong value = reader.ReadVarint();
                read.Add($"{value}, {reader.Remaining} left");
            }
        }
        catch (CorruptDataException e)
        {
            read.Add(e.Message);
        }
        return read;
    }

    private static byte[] Encode(ulong value, int padTo = 0)
    {
        var bytes = new List<byte>();
        do
        {
            bytes.Add((byte)(value & 0x7F | 0x80));
            value >>= 7;
        } while (value != 0);
        while (bytes.Count < padTo) bytes.Add(0x80); // a non-minimal encoding: zero groups above the value
        bytes[^1] &= 0x7F;
        return [.. bytes];
    }

    /// <summary>A number whose shortest encoding is exactly <c>length</c> bytes (1-10).</summary>
    private static readonly Gen<ulong> NumberOfLength = Gen.Select(Gen.Int[1, 10], Gen.ULong, (length, random) =>
    {
        int bits = Math.Min(64, 7 * length);
        ulong below = bits == 64 ? random : random & ((1UL << bits) - 1);
        return length == 1 ? below : below | 1UL << (7 * (length - 1));
    });

    /// <summary>Mostly shortest encodings, sometimes padded with zero groups up to 10 bytes (legal LEB128 the writer never
    /// makes, still read the same).</summary>
    private static readonly Gen<byte[]> Encoded = Gen.Frequency(
        (6, NumberOfLength.Select(v => Encode(v))),
        (1, Gen.Select(NumberOfLength, Gen.Int[1, 10], (v, pad) => Encode(v, pad))));

    /// <summary>Bytes mostly with the high bit set, so that long numbers, truncated ones and over-long ones are common.</summary>
    private static readonly Gen<byte> HostileByte = Gen.Frequency((3, Gen.Byte[0x80, 0xFF]), (1, Gen.Byte[0, 2]), (1, Gen.Byte));

    [Fact]
    public void Numbers_of_every_length_read_as_the_reference_reads_them_at_every_distance_from_the_column_end()
    {
        var lengths = new int[11];
        var distances = new int[16];
        // Numbers, then a tail of 0-15 arbitrary bytes: the last numbers end 0-15 bytes before the column's end (the
        // fast path needs 8), and the tail is read on to its end or its first error.
        Gen.Select(Encoded.Array[1, 8], HostileByte.Array[0, 15]).Sample((numbers, tail) =>
        {
            byte[] column = [.. numbers.SelectMany(n => n), .. tail];
            int end = 0;
            foreach (var n in numbers)
            {
                end += n.Length;
                Interlocked.Increment(ref lengths[n.Length]);
                Interlocked.Increment(ref distances[Math.Min(column.Length - end, 15)]);
            }
            return ReadAll(column).SequenceEqual(ReferenceReadAll(column));
        }, iter: 100_000, print: t => Convert.ToHexString([.. t.Item1.SelectMany(n => n), .. t.Item2]));

        for (int length = 1; length <= 10; length++) Assert.True(lengths[length] > 1000, $"{length}-byte numbers were tried {lengths[length]} times");
        for (int distance = 0; distance < 16; distance++) Assert.True(distances[distance] > 1000, $"numbers ending {distance} bytes before the end were tried {distances[distance]} times");
    }

    [Fact]
    public void Arbitrary_bytes_read_as_the_reference_reads_them()
    {
        Gen.Frequency((1, HostileByte), (1, Gen.Byte)).Array[0, 40].Sample(column => ReadAll(column).SequenceEqual(ReferenceReadAll(column)),
            iter: 100_000, print: Convert.ToHexString);
    }

    [Theory]
    // Truncated at the column's end, with 8 or more bytes before it or fewer.
    [InlineData("80", "ends inside a number")]
    [InlineData("FFFFFFFFFFFFFF", "ends inside a number")]
    [InlineData("000000000000000000FFFFFFFF", "ends inside a number")]
    [InlineData("FFFFFFFFFFFFFFFFFF", "ends inside a number")]
    // Longer than 64 bits: a 10th byte above 1, or an 11th byte.
    [InlineData("FFFFFFFFFFFFFFFFFF02", "has a number longer than 64 bits")]
    [InlineData("80808080808080808080800000000000", "has a number longer than 64 bits")]
    [InlineData("FFFFFFFFFFFFFFFFFF7F00000000000000", "has a number longer than 64 bits")]
    public void A_truncated_or_over_long_number_is_corrupt_data(string hex, string error)
    {
        var read = ReadAll(Convert.FromHexString(hex));
        Assert.Equal($"column {Column} {error}", read[^1]);
    }

    [Theory]
    [InlineData("FFFFFFFFFFFFFFFFFF01", ulong.MaxValue)]
    [InlineData("FFFFFFFFFFFFFFFFFF0100000000000000", ulong.MaxValue)]
    [InlineData("FFFFFFFFFFFFFF7F00", (1UL << 56) - 1)]
    [InlineData("8080808080808080800000", 0UL)]
    public void The_longest_numbers_read_whole(string hex, ulong expected)
    {
        var reader = new SpanReader(Convert.FromHexString(hex), Column);
        Assert.Equal(expected, reader.ReadVarint());
    }

    [Fact]
    public void The_portable_payload_packs_the_low_7_bits_of_each_byte()
    {
        Gen.ULong.Sample(word =>
        {
            ulong expected = 0;
            for (int i = 0; i < 8; i++) expected |= (word >> (8 * i) & 0x7F) << (7 * i);
            return SpanReader.PortablePayload(word) == expected
                && (!Bmi2.X64.IsSupported || Bmi2.X64.ParallelBitExtract(word, 0x7F7F_7F7F_7F7F_7F7F) == expected);
        }, iter: 100_000);
    }
}
