using CsCheck;
using Ether.Replay.Formats.LogInternal.Prediction;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// The predictor's specialised handlers (one per <see cref="PredictForm"/>) against its generic path, on random ops
/// of every shape and random register files: the same registers and the same changed mask, also when the stored mask
/// says a changed slot kept its value. The generic path is what the v2 fixtures pin (FormatVersionTests), so a
/// specialisation that differs in one bit would be a format change.
/// </summary>
public class RegisterPredictorFormTests
{
    /// <summary>The kinds that have specialised forms (the others always take the generic path).</summary>
    private static readonly PredictKind[] Kinds =
    [
        PredictKind.Mov, PredictKind.MovZx, PredictKind.MovSx, PredictKind.Lea, PredictKind.Cmov, PredictKind.Setcc,
        PredictKind.Add, PredictKind.Sub, PredictKind.Cmp, PredictKind.And, PredictKind.Or, PredictKind.Xor, PredictKind.Test,
        PredictKind.Inc, PredictKind.Dec, PredictKind.Stack, PredictKind.String,
        PredictKind.Shl, PredictKind.Shr, PredictKind.Sar, PredictKind.Rol, PredictKind.Ror,
    ];

    private static Gen<T> Pick<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static readonly Gen<ulong> Value = Gen.OneOf(Gen.ULong, Gen.ULong[0, 300],
        Pick<ulong>(0UL, 1UL, 0x7F, 0x80, 0xFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
            0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, ulong.MaxValue, ulong.MaxValue - 1));

    /// <summary>General registers mostly among the first four, so that source, destination, base and index often coincide.</summary>
    private static readonly Gen<byte> Slot = Gen.Frequency((3, Gen.Byte[0, 3]), (1, Gen.Byte[0, 15]));

    /// <summary>Ops field by field (then completed as the builder completes them): mostly the shapes the forms take,
    /// sometimes the ones that must stay generic (other sizes, high-byte registers, 32-bit addresses).</summary>
    private static readonly Gen<PredictedOp> Op = Gen.Select(
        Gen.Select(Gen.Int[0, Kinds.Length - 1], Gen.Frequency((4, Pick<byte>(4, 8)), (1, Pick<byte>(1, 2))),
            Slot, Gen.Frequency((9, Gen.Const(false)), (1, Gen.Bool)), Gen.Frequency((2, Slot), (1, Gen.Const(PredictedOp.Immediate))),
            Gen.Frequency((9, Gen.Const(false)), (1, Gen.Bool)), Pick<byte>(0, 1, 2, 4, 8), Value),
        Gen.Select(Gen.Frequency((3, Slot), (1, Gen.Const(PredictedOp.NoRegister))), Gen.Frequency((1, Slot), (1, Gen.Const(PredictedOp.NoRegister))),
            Pick<byte>(1, 2, 4, 8), Gen.Frequency((4, Gen.Const<byte>(8)), (1, Gen.Const<byte>(4))), Gen.Byte[0, 16]),
        (f, g) =>
        {
            var (kind, size, dst, dstHigh, src, srcHigh, srcSize, imm) = f;
            var (@base, index, scale, addressSize, condition) = g;
            var op = new PredictedOp
            {
                Kind = Kinds[kind], Size = size, Dst = dst, DstHigh = dstHigh, Src = src, SrcHigh = srcHigh, SrcSize = srcSize, Imm = imm,
                Base = @base, Index = index, Scale = scale, AddressSize = addressSize, Condition = condition,
            };
            // As the builder makes them: movzx, movsx and cmov read a register; an immediate has no source size.
            if (op.Kind is PredictKind.MovZx or PredictKind.MovSx or PredictKind.Cmov && op.Src == PredictedOp.Immediate) op.Src = dst;
            if (op.Src == PredictedOp.Immediate) (op.SrcHigh, op.SrcSize) = (false, 0);
            else if (op.SrcSize == 0) op.SrcSize = size;
            if (op.Kind is >= PredictKind.Shl and <= PredictKind.Ror && op.Src != PredictedOp.Immediate) (op.Src, op.SrcSize) = ((byte)Register.Rcx, 1); // by cl
            if (op.Kind == PredictKind.String) (op.Dst, op.Condition) = (addressSize, (byte)(condition & 7)); // Dst: the address size
            return PredictedOp.Complete(op);
        });

    private static readonly Gen<RegisterFile> File = Value.Array[Registers.Count].Select(values =>
    {
        var file = new RegisterFile();
        for (int i = 0; i < Registers.Count; i++) file[i] = values[i];
        return file;
    });

    [Fact]
    public void Every_specialised_form_predicts_what_the_generic_path_predicts()
    {
        var seen = new int[Enum.GetValues<PredictForm>().Length];
        Gen.Select(Op, File, Gen.UInt, Gen.Int[0, 2]).Sample((op, before, random, storedKind) =>
        {
            // The stored mask: none (exactly predicted), some of the touched slots (the truth kept them), or anything.
            uint stored = storedKind switch { 0 => 0, 1 => random & op.Touched, _ => random & ((1u << Registers.Count) - 1) };
            var specialised = before;
            var generic = before;
            uint changed = RegisterPredictor.Predict(op, ref specialised, stored);
            uint expected = RegisterPredictor.Generic(op, ref generic, stored);
            Interlocked.Increment(ref seen[(int)op.Form]);
            return changed == expected && specialised.Equals(generic);
        }, iter: 300_000, print: t => $"{t.Item1.Kind} form {t.Item1.Form} size {t.Item1.Size} dst {t.Item1.Dst} src {t.Item1.Src} imm {t.Item1.Imm:x} stored {t.Item3:x}");

        for (int form = 1; form < seen.Length; form++)
            Assert.True(seen[form] >= 50, $"form {(PredictForm)form} was tried only {seen[form]} times");
    }

    [Fact]
    public void Instructions_of_the_common_shapes_get_their_specialised_form()
    {
        // add eax, ecx / add rax, 8 / lea rax, [rbx + rcx*4 + 8] / movsxd rax, ecx / rep stosb / push rbp / setz al / add ah, 1
        Assert.Equal(PredictForm.Add32R, PredictedOp.Decode([0x01, 0xc8], 0, 64).Form);
        Assert.Equal(PredictForm.Add64I, PredictedOp.Decode([0x48, 0x83, 0xc0, 0x08], 0, 64).Form);
        Assert.Equal(PredictForm.Lea64BI, PredictedOp.Decode([0x48, 0x8d, 0x44, 0x8b, 0x08], 0, 64).Form);
        Assert.Equal(PredictForm.MovSx64From32, PredictedOp.Decode([0x48, 0x63, 0xc1], 0, 64).Form);
        Assert.Equal(PredictForm.String64, PredictedOp.Decode([0xf3, 0xaa], 0, 64).Form);
        Assert.Equal(PredictForm.Stack64, PredictedOp.Decode([0x55], 0, 64).Form);
        Assert.Equal(PredictForm.Setcc, PredictedOp.Decode([0x0f, 0x94, 0xc0], 0, 64).Form);
        Assert.Equal(PredictForm.Generic, PredictedOp.Decode([0x80, 0xc4, 0x01], 0, 64).Form);
    }
}
