using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// What the quantization operators share: 8-bit element types, reading scales and zero points,
/// per-tensor/per-axis layouts, and the float arithmetic ONNX Runtime uses to quantize
/// (x / scale, round half to even, add the zero point, saturate).
/// </summary>
internal static class Quantized
{
    // Elements quantized per pass through the float scratch buffer.
    private const int Chunk = 1024;

    /// <summary>The <c>axis</c> attribute of QuantizeLinear/DequantizeLinear: default 1, from opset 13 on.</summary>
    public static long AxisAttribute(NodeContext ctx)
    {
        if (ctx.Opset < 13 && ctx.Has("axis"))
            throw ctx.Invalid($"{ctx.Node.OpType} has no axis attribute before opset 13 (the model uses opset {ctx.Opset})");
        return ctx.Int("axis", 1);
    }

    /// <summary>True for the 8-bit types of the opset 10–18 quantization operators.</summary>
    public static bool IsEightBit(DataType t) => t is DataType.UInt8 or DataType.Int8;

    /// <summary>Throws a type error unless <paramref name="t"/> is uint8 or int8.</summary>
    public static void RequireEightBit(OpKernel op, DataType t, string role)
    {
        if (!IsEightBit(t)) throw op.TypeError(t, role);
    }

    /// <summary>
    /// Checks a zero point's type against its quantized operand (the spec ties them together).
    /// </summary>
    public static void RequireSameType(ShapeContext ctx, OpKernel op, int zeroPoint, int operand, string name)
    {
        if (ctx.HasInput(zeroPoint) && ctx.InputType(zeroPoint) != ctx.InputType(operand))
            throw ctx.Error($"{name} is {DataTypes.OnnxName(ctx.InputType(zeroPoint))} but its tensor is {DataTypes.OnnxName(ctx.InputType(operand))}; they must have the same type");
    }

    /// <summary>Throws a type error unless input <paramref name="i"/> (a scale) is float.</summary>
    public static void RequireFloatScale(ShapeContext ctx, OpKernel op, int i, string name)
    {
        if (ctx.HasInput(i) && ctx.InputType(i) != DataType.Float) throw op.TypeError(ctx.InputType(i), name);
    }

    /// <summary>
    /// Checks that a scale or zero point holds one value (a scalar, or any shape of one element,
    /// which ONNX Runtime accepts too) where its shape is known.
    /// </summary>
    public static void RequireSingle(ShapeContext ctx, int i, string name)
    {
        if (!ctx.HasInput(i)) return;
        var s = ctx.InputShape(i);
        if (s.Any(d => d.IsKnown && d.Value != 1))
            throw ctx.Error($"{name} must be a scalar (per-tensor), got shape {Dim.Format(s)}");
    }

    /// <summary>The zero points as ints (0 when absent), checking the count.</summary>
    public static int[] ZeroPoints(OpKernel op, Tensor? zp, int expected, string name)
    {
        if (zp is null) return new int[expected];
        if (zp.Length != expected) throw op.ShapeError($"{name} has {zp.Length} values, expected {expected}");
        var r = new int[zp.Length];
        switch (zp.DataType)
        {
            case DataType.UInt8: { var s = zp.ArrayOf<byte>(); for (int i = 0; i < r.Length; i++) r[i] = s[i]; break; }
            case DataType.Int8: { var s = zp.ArrayOf<sbyte>(); for (int i = 0; i < r.Length; i++) r[i] = s[i]; break; }
            case DataType.Int32: zp.ArrayOf<int>().CopyTo(r, 0); break;
            default: throw op.TypeError(zp.DataType, name + " type");
        }
        return r;
    }

    /// <summary>One float scale (a scalar or one-element tensor).</summary>
    public static float SingleScale(OpKernel op, Tensor scale, string name)
    {
        if (scale.Length != 1) throw op.ShapeError($"{name} must hold one value (per-tensor), got shape [{ShapeMath.Format(scale.Shape)}]");
        return scale.Floats[0];
    }

    /// <summary>One zero point as an int (0 when absent).</summary>
    public static int SingleZeroPoint(OpKernel op, Tensor? zp, string name) => ZeroPoints(op, zp, 1, name)[0];

    /// <summary>
    /// dst = src - zeroPoint as int16 for count elements of an 8-bit tensor from
    /// <paramref name="offset"/>: the exact operands of the integer products.
    /// </summary>
    public static void Shift(Tensor src, int offset, int count, int zeroPoint, Span<short> dst)
    {
        dst = dst[..count];
        if (src.DataType == DataType.UInt8) TensorPrimitives.ConvertTruncating<byte, short>(src.ArrayOf<byte>().AsSpan(offset, count), dst);
        else TensorPrimitives.ConvertTruncating<sbyte, short>(src.ArrayOf<sbyte>().AsSpan(offset, count), dst);
        if (zeroPoint != 0) TensorPrimitives.Subtract(dst, (short)zeroPoint, dst);
    }

    /// <summary>
    /// y[offset..] = saturate(round_half_even(x / scale) + zeroPoint) in float, like ONNX Runtime's
    /// MLAS kernel (division, not multiplication by the reciprocal).
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, float scale, int zeroPoint, Tensor y, int offset)
    {
        Span<float> tmp = stackalloc float[Math.Min(Chunk, x.Length)];
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            var t = tmp[..n];
            TensorPrimitives.Divide(x.Slice(i, n), scale, t);
            RoundShiftStore(t, zeroPoint, y, offset + i);
        }
    }

    /// <summary>
    /// y[offset..] = saturate(round_half_even(float(acc) · multiplier) + zeroPoint), the
    /// requantization of QLinearConv and QLinearMatMul (one multiplier, or one per element of
    /// <paramref name="acc"/>).
    /// </summary>
    public static void Requantize(ReadOnlySpan<int> acc, ReadOnlySpan<float> multipliers, int zeroPoint, Tensor y, int offset)
    {
        Span<float> tmp = stackalloc float[Math.Min(Chunk, acc.Length)];
        for (int i = 0; i < acc.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, acc.Length - i);
            var t = tmp[..n];
            TensorPrimitives.ConvertTruncating<int, float>(acc.Slice(i, n), t);
            if (multipliers.Length == 1) TensorPrimitives.Multiply(t, multipliers[0], t);
            else TensorPrimitives.Multiply(t, multipliers.Slice(i, n), t);
            RoundShiftStore(t, zeroPoint, y, offset + i);
        }
    }

    // Rounding first and saturating after equals ONNX Runtime's clamp-then-round: the bounds are integers.
    private static void RoundShiftStore(Span<float> t, int zeroPoint, Tensor y, int offset)
    {
        TensorPrimitives.Round(t, t);
        if (zeroPoint != 0) TensorPrimitives.Add(t, zeroPoint, t);
        if (y.DataType == DataType.UInt8) TensorPrimitives.ConvertSaturating<float, byte>(t, y.ArrayOf<byte>().AsSpan(offset, t.Length));
        else TensorPrimitives.ConvertSaturating<float, sbyte>(t, y.ArrayOf<sbyte>().AsSpan(offset, t.Length));
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, count, channel) over pieces of a tensor laid out as
    /// [outer, channels, inner] (channels = 1 for per-tensor), in parallel for large tensors.
    /// </summary>
    public static void ForEachPiece(int length, int channels, int inner, int maxDegree, Action<int, int, int> body)
    {
        const int Piece = 16 * 1024;
        if (length == 0) return;
        int block = channels == 1 ? length : inner;
        int perBlock = Math.Max(1, (block + Piece - 1) / Piece);
        int blocks = length / Math.Max(block, 1);
        Parallelism.For(blocks * perBlock, maxDegree, Math.Min(block, Piece), (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                int b = p / perBlock, start = b * block + p % perBlock * Piece;
                body(start, Math.Min(Piece, (b + 1) * block - start), b % channels);
            }
        });
    }
}

/// <summary>Per-tensor or per-axis layout of QuantizeLinear and DequantizeLinear.</summary>
internal readonly record struct QuantizationAxis(int Channels, int Inner)
{
    /// <summary>
    /// Validates a scale (scalar or one-element: per tensor; 1-D from opset 13: per axis) and its
    /// zero point (same shape) against the input shape, where known.
    /// </summary>
    public static void Check(ShapeContext ctx, OpKernel op, long axis, int scaleInput, int zeroPointInput, string scaleName)
    {
        var s = ctx.InputShape(scaleInput);
        static bool Single(Dim[] d) => d.All(x => x == Dim.Of(1));
        if (ctx.HasInput(zeroPointInput))
        {
            var z = ctx.InputShape(zeroPointInput);
            bool same = z.Length == s.Length && z.Zip(s).All(p => !p.First.IsKnown || !p.Second.IsKnown || p.First == p.Second);
            if (!same && !(Single(z) && Single(s)))
                throw ctx.Error($"the zero point {Dim.Format(z)} must have the shape of {scaleName} {Dim.Format(s)}");
        }
        if (Single(s)) return;
        if (s.Length > 1) throw ctx.Error($"{scaleName} must be a scalar or a 1-D tensor, got shape {Dim.Format(s)}");
        if (op.Opset < 13) throw ctx.Error($"{scaleName} must be a scalar before opset 13 (per-axis quantization needs opset 13), got shape {Dim.Format(s)}");
        var x = ctx.InputShape(0);
        int a = ctx.Axis(axis, x.Length);
        if (x[a].IsKnown && s[0].IsKnown && x[a] != s[0])
            throw ctx.Error($"{scaleName} has {s[0]} values but axis {axis} of {Dim.Format(x)} has {x[a]}");
    }

    /// <summary>(channels, elements per channel slice) for a scale of <paramref name="scales"/> elements.</summary>
    public static QuantizationAxis Layout(int[] shape, int scales, long axis, OpKernel op)
    {
        if (scales == 1) return new(1, 1);
        int a = (int)(axis < 0 ? axis + shape.Length : axis);
        if (op.Opset < 13 || a < 0 || a >= shape.Length || shape[a] != scales)
            throw op.ShapeError($"{scales} scales do not match axis {axis} of shape [{ShapeMath.Format(shape)}]");
        return new(scales, ShapeMath.Product(shape, a + 1, shape.Length));
    }
}
