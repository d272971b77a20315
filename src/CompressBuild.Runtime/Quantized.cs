namespace CompressBuild.Runtime;

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

/// <summary>
/// Integer SIMD for the quantized kernels: int32 lanes, each the exact dot product of a pair of
/// int16 (x86 <c>vpmaddwd</c>, <c>vpdpwssd</c> with AVX-VNNI, Arm <c>smull</c>+<c>addp</c>). 8-bit
/// operands are widened to int16 minus their zero point first, so products never saturate (unlike
/// <c>vpmaddubsw</c>) and results are exact for any zero points.
/// </summary>
/// <typeparam name="TV">The vector type (<c>Vector256&lt;int&gt;</c>, <c>Vector128&lt;int&gt;</c>, or <c>int</c> holding one packed pair).</typeparam>
internal interface IIntSimd<TV> where TV : struct
{
    /// <summary>int32 lanes (pairs of int16 per vector).</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TV Zero { get; }

    /// <summary>All lanes <paramref name="value"/> (a packed pair: first element in the low 16 bits).</summary>
    static abstract TV Splat(int value);

    /// <summary>Count packed pairs from element <paramref name="index"/>.</summary>
    static abstract TV LoadPairs(ref int source, nint index);

    /// <summary>2·Count 8-bit values from byte <paramref name="index"/>, minus <paramref name="zeroPoint"/>, as int16 pairs.</summary>
    static abstract TV LoadWidened(ref byte source, nint index, bool signed, int zeroPoint);

    /// <summary>acc + (a.lo·b.lo + a.hi·b.hi) per lane.</summary>
    static abstract TV MultiplyAddPairs(TV acc, TV a, TV b);

    /// <summary>Sum of the lanes.</summary>
    static abstract int Sum(TV v);

    /// <summary>The sums of the lanes of four vectors, as one vector.</summary>
    static abstract Vector128<int> Sum4(TV a, TV b, TV c, TV d);

    /// <summary>Stores the lanes at <paramref name="destination"/> + <paramref name="index"/>.</summary>
    static abstract void Store(TV v, ref int destination, nint index);
}

/// <summary>One packed pair per "vector": target <c>scalar</c> and the fallback.</summary>
internal readonly struct IntScalar : IIntSimd<int>
{
    public static int Count => 1;
    public static int Zero => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Splat(int value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LoadPairs(ref int source, nint index) => Unsafe.Add(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LoadWidened(ref byte source, nint index, bool signed, int zeroPoint) =>
        Quant.Pair(Quant.Value(Unsafe.Add(ref source, index), signed) - zeroPoint, Quant.Value(Unsafe.Add(ref source, index + 1), signed) - zeroPoint);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MultiplyAddPairs(int acc, int a, int b) => acc + (short)a * (short)b + (a >> 16) * (b >> 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(int v) => v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sum4(int a, int b, int c, int d) => Vector128.Create(a, b, c, d);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(int v, ref int destination, nint index) => Unsafe.Add(ref destination, index) = v;
}

/// <summary>128-bit: SSE2 <c>pmaddwd</c>, Arm AdvSimd widening multiplies (targets <c>arm64</c>, <c>generic</c> without AVX2).</summary>
internal readonly struct Int128 : IIntSimd<Vector128<int>>
{
    public static int Count => 4;
    public static Vector128<int> Zero => Vector128<int>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Splat(int value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadPairs(ref int source, nint index) => Vector128.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadWidened(ref byte source, nint index, bool signed, int zeroPoint)
    {
        var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref source, index)));
        var wide = signed ? Vector128.WidenLower(bytes.AsSByte()) : Vector128.WidenLower(bytes.AsByte()).AsInt16();
        return (zeroPoint == 0 ? wide : wide - Vector128.Create((short)zeroPoint)).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MultiplyAddPairs(Vector128<int> acc, Vector128<int> a, Vector128<int> b)
    {
        if (Sse2.IsSupported) return acc + Sse2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16());
        if (AdvSimd.Arm64.IsSupported)
        {
            var lo = AdvSimd.MultiplyWideningLower(a.AsInt16().GetLower(), b.AsInt16().GetLower());
            var hi = AdvSimd.MultiplyWideningUpper(a.AsInt16(), b.AsInt16());
            return acc + AdvSimd.Arm64.AddPairwise(lo, hi);
        }
        return acc + Vector128.Create(
            IntScalar.MultiplyAddPairs(0, a.GetElement(0), b.GetElement(0)), IntScalar.MultiplyAddPairs(0, a.GetElement(1), b.GetElement(1)),
            IntScalar.MultiplyAddPairs(0, a.GetElement(2), b.GetElement(2)), IntScalar.MultiplyAddPairs(0, a.GetElement(3), b.GetElement(3)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector128<int> v) => Vector128.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sum4(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d)
    {
        if (Ssse3.IsSupported) return Ssse3.HorizontalAdd(Ssse3.HorizontalAdd(a, b), Ssse3.HorizontalAdd(c, d));
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(a, b), AdvSimd.Arm64.AddPairwise(c, d));
        return Vector128.Create(Sum(a), Sum(b), Sum(c), Sum(d));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<int> v, ref int destination, nint index) => v.StoreUnsafe(ref destination, (nuint)index);
}

/// <summary>256-bit AVX2 <c>vpmaddwd</c> (<c>vpdpwssd</c> where AVX-VNNI is supported): targets <c>x64-avx2</c>, <c>x64-avx512</c>, <c>generic</c> with AVX2.</summary>
internal readonly struct Int256 : IIntSimd<Vector256<int>>
{
    public static int Count => 8;
    public static Vector256<int> Zero => Vector256<int>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Splat(int value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> LoadPairs(ref int source, nint index) => Vector256.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> LoadWidened(ref byte source, nint index, bool signed, int zeroPoint)
    {
        var bytes = Vector128.LoadUnsafe(ref Unsafe.Add(ref source, index));
        var wide = signed ? Avx2.ConvertToVector256Int16(bytes.AsSByte()) : Avx2.ConvertToVector256Int16(bytes);
        return (zeroPoint == 0 ? wide : wide - Vector256.Create((short)zeroPoint)).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyAddPairs(Vector256<int> acc, Vector256<int> a, Vector256<int> b)
    {
#if NET9_0_OR_GREATER
        // AVX-VNNI is a preview API on .NET 8 (CA2252); consumers on .NET 9+ get vpdpwssd.
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(acc, a.AsInt16(), b.AsInt16());
#endif
        return Avx2.Add(acc, Avx2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16()));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector256<int> v) => Vector128.Sum(v.GetLower() + v.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sum4(Vector256<int> a, Vector256<int> b, Vector256<int> c, Vector256<int> d)
    {
        // Per 128-bit half: [Σa, Σb, Σc, Σd] of that half; the halves then add.
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(a, b), Avx2.HorizontalAdd(c, d));
        return h.GetLower() + h.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<int> v, ref int destination, nint index) => v.StoreUnsafe(ref destination, (nuint)index);
}

/// <summary>
/// Compile-time facts of a QuantizeLinear / DequantizeLinear step over a tensor seen as
/// <c>[Outer, Channels, Inner]</c> (Channels = 1 for one scale).
/// </summary>
internal interface IQuantizeShape
{
    /// <summary>Product of the dims before the axis.</summary>
    static abstract int Outer { get; }

    /// <summary>Scales (and zero points): the axis length, or 1.</summary>
    static abstract int Channels { get; }

    /// <summary>Product of the dims after the axis.</summary>
    static abstract int Inner { get; }

    /// <summary>The 8-bit side is int8 (else uint8).</summary>
    static abstract bool Signed { get; }
}

/// <summary>
/// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear with ONNX Runtime's float arithmetic:
/// <c>x / scale</c> in float32, round half to even, add the zero point, saturate. Rounding is exact in
/// SIMD too: values are clamped to the output range first (the bounds are integers, so clamping
/// before or after rounding agree) and rounded by adding and subtracting 1.5·2^23
/// (round-to-nearest-even on every IEEE target). The integer kernels' requantization is integer-only
/// (<see cref="Requantize"/>, <see cref="FixedPoint"/>).
/// </summary>
internal static class Quant
{
    private const float RoundMagic = 12582912f;

    /// <summary>An 8-bit element as its integer value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Value(byte b, bool signed) => signed ? (sbyte)b : b;

    /// <summary>Two int16 values packed in an int (first in the low half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Pair(int first, int second) => (first & 0xFFFF) | (second << 16);

    /// <summary>Element <paramref name="i"/> of a per-tensor (one value) or per-channel parameter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float At(ReadOnlySpan<float> values, int i) => values.Length == 1 ? values[0] : values[i];

    /// <summary>Zero point <paramref name="i"/> (per tensor or per channel; 0 when absent).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ZeroAt(ReadOnlySpan<byte> zeroPoints, int i, bool signed) =>
        zeroPoints.Length == 0 ? 0 : Value(zeroPoints.Length == 1 ? zeroPoints[0] : zeroPoints[i], signed);

    /// <summary>Saturates round_half_even(<paramref name="v"/>) + <paramref name="zeroPoint"/> to the 8-bit range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Saturate(float v, int zeroPoint, bool signed)
    {
        float q = MathF.Round(v) + zeroPoint;
        float lo = signed ? -128f : 0f, hi = signed ? 127f : 255f;
        q = q < lo ? lo : q > hi ? hi : q;
        return (byte)(int)q;
    }

    /// <summary>QuantizeLinear: y = saturate(round(x / scale) + zero point), per tensor or per channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize<TShape, TSimd, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<byte> zeroPoint, Span<byte> y)
        where TShape : struct, IQuantizeShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int n = TShape.Outer * TShape.Channels * TShape.Inner;
        Guard.Length(x.Length, n, "QuantizeLinear x");
        Guard.Length(y.Length, n, "QuantizeLinear y");
        Guard.Length(scale.Length, TShape.Channels, "QuantizeLinear scale");
        if (zeroPoint.Length != 0) Guard.Length(zeroPoint.Length, TShape.Channels, "QuantizeLinear zero point");
        for (int o = 0, start = 0; o < TShape.Outer; o++)
        {
            for (int c = 0; c < TShape.Channels; c++, start += TShape.Inner)
            {
                Divide<TSimd, TVec>(ref Unsafe.Add(ref MemoryMarshal.GetReference(x), start), TShape.Inner, scale[c],
                    ZeroAt(zeroPoint, c, TShape.Signed), TShape.Signed, ref Unsafe.Add(ref MemoryMarshal.GetReference(y), start));
            }
        }
    }

    /// <summary>y[i] = saturate(round(x[i] / scale) + zeroPoint) for <paramref name="count"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Divide<TSimd, TVec>(ref float x, int count, float scale, int zeroPoint, bool signed, ref byte y)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (typeof(TSimd) == typeof(SimdScalar) || !Vector128.IsHardwareAccelerated || count < 8)
        {
            for (int i = 0; i < count; i++) Unsafe.Add(ref y, i) = Saturate(Unsafe.Add(ref x, i) / scale, zeroPoint, signed);
            return;
        }
        var (lo, hi) = Bounds(zeroPoint, signed);
        var s = Vector128.Create(scale);
        var zp = Vector128.Create(zeroPoint);
        // Blocks of 8; the last one overlaps its predecessor (same inputs give the same bytes), so there is no scalar tail.
        for (int i = 0; ; i += 8)
        {
            if (i > count - 8) i = count - 8;
            var q0 = Round(Vector128.LoadUnsafe(ref x, (nuint)i) / s, lo, hi) + zp;
            var q1 = Round(Vector128.LoadUnsafe(ref x, (nuint)(i + 4)) / s, lo, hi) + zp;
            StoreBytes(q0, q1, ref Unsafe.Add(ref y, i));
            if (i == count - 8) break;
        }
    }

    /// <summary>
    /// The requantization of QLinearConv/QLinearMatMul/QGemm for one channel: y[i] =
    /// saturate(round_half_even((acc[i] + bias) · M / 2^S) + zeroPoint) (<see cref="FixedPoint"/>),
    /// exact in int64 lanes: signed 32x32→64 multiplies (x86 <c>pmuldq</c> on even and odd lanes, Arm
    /// <c>smull</c>), then a rounding shift that is logical: p + 2^63 is non-negative as unsigned and
    /// 2^63 is a multiple of 2^S, so the shift floors and the offset 2^(63-S) leaves in int32 arithmetic.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Requantize<TSimd, TVec>(ref int acc, int count, int bias, int multiplier, int shift, int zeroPoint, bool signed, ref byte y)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int lo = signed ? -128 : 0, hi = signed ? 127 : 255;
        bool x86 = typeof(TSimd) != typeof(Simd128) && Avx2.IsSupported;
        if (typeof(TSimd) == typeof(SimdScalar) || count < 8 || !(x86 || Sse41.IsSupported || AdvSimd.Arm64.IsSupported))
        {
            for (int i = 0; i < count; i++) Unsafe.Add(ref y, i) = Requantize(Unsafe.Add(ref acc, i) + bias, multiplier, shift, zeroPoint, signed);
            return;
        }
        bool clamp = shift < 31;
        long round = long.MinValue + (1L << (shift - 1)) - 1; // 2^63 + half - 1 (mod 2^64)
        int offset = zeroPoint - unchecked((int)(1UL << (63 - shift)));
        if (x86)
        {
            var m8 = Vector256.Create(multiplier);
            var b8 = Vector256.Create(bias);
            var r8 = Vector256.Create(round);
            var z8 = Vector256.Create(offset);
            var lo8 = Vector256.Create(lo);
            var hi8 = Vector256.Create(hi);
            for (int i = 0; ; i += 8)
            {
                if (i > count - 8) i = count - 8;
                var v = Vector256.LoadUnsafe(ref acc, (nuint)i) + b8;
                if (clamp) v = Vector256.Min(Vector256.Max(v, Vector256.Create(-FixedPoint.Limit)), Vector256.Create(FixedPoint.Limit));
                var even = Shift(Avx2.Multiply(v, m8), shift, r8);
                var odd = Shift(Avx2.Multiply(Avx2.ShiftRightLogical(v.AsInt64(), 32).AsInt32(), m8), shift, r8);
                var q = Avx2.Blend(even.AsInt32(), Avx2.ShiftLeftLogical(odd, 32).AsInt32(), 0b1010_1010) + z8;
                q = Vector256.Min(Vector256.Max(q, lo8), hi8);
                StoreBytes(q.GetLower(), q.GetUpper(), ref Unsafe.Add(ref y, i));
                if (i == count - 8) break;
            }
            return;
        }
        var (mLo, mHi) = Spread(Vector128.Create(multiplier));
        var b = Vector128.Create(bias);
        var r = Vector128.Create(round);
        var z = Vector128.Create(offset);
        var lo4 = Vector128.Create(lo);
        var hi4 = Vector128.Create(hi);
        for (int i = 0; ; i += 8)
        {
            if (i > count - 8) i = count - 8;
            var v0 = Vector128.LoadUnsafe(ref acc, (nuint)i) + b;
            var v1 = Vector128.LoadUnsafe(ref acc, (nuint)(i + 4)) + b;
            if (clamp)
            {
                var limit = Vector128.Create(FixedPoint.Limit);
                v0 = Vector128.Min(Vector128.Max(v0, -limit), limit);
                v1 = Vector128.Min(Vector128.Max(v1, -limit), limit);
            }
            var q0 = Vector128.Min(Vector128.Max(Scale(v0, mLo, mHi, shift, r) + z, lo4), hi4);
            var q1 = Vector128.Min(Vector128.Max(Scale(v1, mLo, mHi, shift, r) + z, lo4), hi4);
            StoreBytes(q0, q1, ref Unsafe.Add(ref y, i));
            if (i == count - 8) break;
        }
    }

    /// <summary>Four outputs of <see cref="Requantize"/>, each with its own multiplier and shift (one per output column).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Requantize4(Vector128<int> acc, Vector128<int> multipliers, Vector128<int> shifts, int zeroPoint, bool signed, ref byte y)
    {
        if (!Avx2.IsSupported)
        {
            for (int k = 0; k < 4; k++) Unsafe.Add(ref y, k) = Requantize(acc.GetElement(k), multipliers.GetElement(k), shifts.GetElement(k), zeroPoint, signed);
            return;
        }
        // Four int64 lanes with per-lane shifts (vpsrlvq); the offset 2^(63-S) comes out in int64.
        var limit = Vector128.ConditionalSelect(Vector128.LessThan(shifts, Vector128.Create(31)), Vector128.Create(FixedPoint.Limit), Vector128.Create(int.MaxValue));
        acc = Vector128.Min(Vector128.Max(acc, -limit), limit);
        var p = Avx2.Multiply(Avx2.ConvertToVector256Int64(acc).AsInt32(), Avx2.ConvertToVector256Int64(multipliers).AsInt32()).AsUInt64();
        var s = Avx2.ConvertToVector256Int64(shifts).AsUInt64();
        var one = Vector256<ulong>.One;
        var round = Avx2.ShiftLeftLogicalVariable(one, s - one) + Vector256.Create((ulong)long.MaxValue);
        var r = Avx2.ShiftRightLogicalVariable(p + round + (Avx2.ShiftRightLogicalVariable(p, s) & one), s) - Avx2.ShiftLeftLogicalVariable(one, Vector256.Create(63UL) - s);
        var q = Avx2.PermuteVar8x32(r.AsInt32(), Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6)).GetLower() + Vector128.Create(zeroPoint);
        q = Vector128.Min(Vector128.Max(q, Vector128.Create(signed ? -128 : 0)), Vector128.Create(signed ? 127 : 255));
        var shorts = Vector128.Narrow(q.AsUInt32(), q.AsUInt32());
        Unsafe.WriteUnaligned(ref y, Vector128.Narrow(shorts, shorts).AsUInt32().ToScalar());
    }

    /// <summary>One output: saturate(round_half_even(acc · M / 2^S) + zeroPoint) as an 8-bit value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Requantize(int acc, int multiplier, int shift, int zeroPoint, bool signed)
    {
        int q = FixedPoint.Multiply(acc, multiplier, shift) + zeroPoint;
        int lo = signed ? -128 : 0, hi = signed ? 127 : 255;
        return (byte)(q < lo ? lo : q > hi ? hi : q);
    }

    // round_half_even(p / 2^s) + 2^(63-s) per lane, given round = 2^63 + 2^(s-1) - 1: p >>> s has the parity of floor(p / 2^s).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<long> Shift(Vector256<long> p, int s, Vector256<long> round) =>
        Vector256.ShiftRightLogical(p + round + (Vector256.ShiftRightLogical(p, s) & Vector256<long>.One), s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<long> Shift(Vector128<long> p, int s, Vector128<long> round) =>
        Vector128.ShiftRightLogical(p + round + (Vector128.ShiftRightLogical(p, s) & Vector128<long>.One), s);

    // The multiplier lanes as Scale's widening multiplies read them: x86 pmuldq reads lanes 0 and 2 (so [m0,m0,m1,m1], [m2,m2,m3,m3]), Arm smull/smull2 the low and high halves.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<int> Lo, Vector128<int> Hi) Spread(Vector128<int> m) =>
        Sse41.IsSupported ? (Sse2.Shuffle(m, 0x50), Sse2.Shuffle(m, 0xFA)) : (m, m);

    // Four lanes of round_half_even(v · M / 2^s) + 2^(63-s) (low 32 bits).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Scale(Vector128<int> v, Vector128<int> mLo, Vector128<int> mHi, int s, Vector128<long> round)
    {
        Vector128<long> lo, hi;
        if (Sse41.IsSupported)
        {
            lo = Sse41.Multiply(Sse2.Shuffle(v, 0x50), mLo);
            hi = Sse41.Multiply(Sse2.Shuffle(v, 0xFA), mHi);
        }
        else
        {
            lo = AdvSimd.MultiplyWideningLower(v.GetLower(), mLo.GetLower());
            hi = AdvSimd.MultiplyWideningUpper(v, mHi);
        }
        return Vector128.Narrow(Shift(lo, s, round), Shift(hi, s, round));
    }

    // The float range that saturates to the 8-bit range after adding the zero point.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float> Lo, Vector128<float> Hi) Bounds(int zeroPoint, bool signed) =>
        (Vector128.Create((signed ? -128f : 0f) - zeroPoint), Vector128.Create((signed ? 127f : 255f) - zeroPoint));

    // Clamp, then round half to even with the 1.5·2^23 trick (exact: |v| ≤ 510 after clamping).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Round(Vector128<float> v, Vector128<float> lo, Vector128<float> hi)
    {
        v = Vector128.Min(Vector128.Max(v, lo), hi);
        var magic = Vector128.Create(RoundMagic);
        return Vector128.ConvertToInt32((v + magic) - magic);
    }

    // Eight in-range ints to eight bytes (two's complement for int8).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreBytes(Vector128<int> q0, Vector128<int> q1, ref byte y)
    {
        var shorts = Vector128.Narrow(q0.AsUInt32(), q1.AsUInt32());
        var bytes = Vector128.Narrow(shorts, shorts);
        Unsafe.WriteUnaligned(ref y, bytes.AsUInt64().ToScalar());
    }

    /// <summary>
    /// dst[i] = the 8-bit values a[i], b[i] minus <paramref name="zeroPoint"/> as one int16 pair, for
    /// <paramref name="count"/> pairs (the two streams of a pair-multiplying kernel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InterleaveBytes<TSimd, TVec>(ref byte a, ref byte b, int count, bool signed, int zeroPoint, ref int dst)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (typeof(TSimd) == typeof(SimdScalar) || !(Sse2.IsSupported || AdvSimd.Arm64.IsSupported) || count < 8)
        {
            for (int i = 0; i < count; i++) Unsafe.Add(ref dst, i) = Pair(Value(Unsafe.Add(ref a, i), signed) - zeroPoint, Value(Unsafe.Add(ref b, i), signed) - zeroPoint);
            return;
        }
        for (int i = 0; ; i += 8)
        {
            if (i > count - 8) i = count - 8;
            var va = Widen8(ref Unsafe.Add(ref a, i), signed, zeroPoint);
            var vb = Widen8(ref Unsafe.Add(ref b, i), signed, zeroPoint);
            Zip(va, vb, ref Unsafe.Add(ref dst, i));
            if (i == count - 8) break;
        }
    }

    /// <summary>Eight 8-bit values minus a zero point as int16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> Widen8(ref byte source, bool signed, int zeroPoint)
    {
        var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(ref source));
        var wide = signed ? Vector128.WidenLower(bytes.AsSByte()) : Vector128.WidenLower(bytes.AsByte()).AsInt16();
        return wide - Vector128.Create((short)zeroPoint);
    }

    /// <summary>Stores (a[i], b[i]) pairs for eight lanes (x86 punpck / Arm zip).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector128<short> a, Vector128<short> b, ref int dst)
    {
        var lo = Sse2.IsSupported ? Sse2.UnpackLow(a, b) : AdvSimd.Arm64.ZipLow(a, b);
        var hi = Sse2.IsSupported ? Sse2.UnpackHigh(a, b) : AdvSimd.Arm64.ZipHigh(a, b);
        lo.AsInt32().StoreUnsafe(ref dst);
        hi.AsInt32().StoreUnsafe(ref dst, 4);
    }

    /// <summary>DequantizeLinear of 8-bit x: y = float(x - zero point) · scale, per tensor or per channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize<TShape>(ReadOnlySpan<byte> x, ReadOnlySpan<float> scale, ReadOnlySpan<byte> zeroPoint, Span<float> y)
        where TShape : struct, IQuantizeShape
    {
        int n = TShape.Outer * TShape.Channels * TShape.Inner;
        Guard.Length(x.Length, n, "DequantizeLinear x");
        Guard.Length(y.Length, n, "DequantizeLinear y");
        Guard.Length(scale.Length, TShape.Channels, "DequantizeLinear scale");
        if (zeroPoint.Length != 0) Guard.Length(zeroPoint.Length, TShape.Channels, "DequantizeLinear zero point");
        for (int o = 0, i = 0; o < TShape.Outer; o++)
        {
            for (int c = 0; c < TShape.Channels; c++)
            {
                float s = scale[c];
                int z = ZeroAt(zeroPoint, c, TShape.Signed);
                for (int e = 0; e < TShape.Inner; e++, i++) y[i] = (Value(x[i], TShape.Signed) - z) * s;
            }
        }
    }

    /// <summary>DequantizeLinear of int32 x: y = float(x - zero point) · scale (the difference wraps like ONNX Runtime's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeInt32<TShape>(ReadOnlySpan<int> x, ReadOnlySpan<float> scale, ReadOnlySpan<int> zeroPoint, Span<float> y)
        where TShape : struct, IQuantizeShape
    {
        int n = TShape.Outer * TShape.Channels * TShape.Inner;
        Guard.Length(x.Length, n, "DequantizeLinear x");
        Guard.Length(y.Length, n, "DequantizeLinear y");
        Guard.Length(scale.Length, TShape.Channels, "DequantizeLinear scale");
        for (int o = 0, i = 0; o < TShape.Outer; o++)
        {
            for (int c = 0; c < TShape.Channels; c++)
            {
                float s = scale[c];
                int z = zeroPoint.Length == 0 ? 0 : zeroPoint.Length == 1 ? zeroPoint[0] : zeroPoint[c];
                for (int e = 0; e < TShape.Inner; e++, i++) y[i] = unchecked(x[i] - z) * s;
            }
        }
    }

    /// <summary>
    /// DynamicQuantizeLinear: the range [min(x), max(x)] widened to include 0 gives scale = (max -
    /// min) / 255 (1 for an empty range) and zero point = saturate(round(0 - min / scale)); then
    /// y = QuantizeLinear(x) as uint8.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DynamicQuantize<TSimd, TVec>(ReadOnlySpan<float> x, Span<byte> y, Span<float> yScale, Span<byte> yZeroPoint)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(y.Length, x.Length, "DynamicQuantizeLinear y");
        float min = 0f, max = 0f;
        foreach (float v in x)
        {
            min = v < min ? v : min;
            max = v > max ? v : max;
        }
        float scale = max == min ? 1f : (max - min) / 255f;
        float zero = 0f - min / scale;
        int zp = (int)MathF.Round(zero < 0f ? 0f : zero > 255f ? 255f : zero);
        Divide<TSimd, TVec>(ref MemoryMarshal.GetReference(x), x.Length, scale, zp, false, ref MemoryMarshal.GetReference(y));
        if (yScale.Length > 0) yScale[0] = scale;
        if (yZeroPoint.Length > 0) yZeroPoint[0] = (byte)zp;
    }
}

/// <summary>Compile-time facts of a 2x2, stride-2, unpadded MaxPool over 8-bit planes.</summary>
internal interface IQPoolShape
{
    /// <summary>Batch × channels.</summary>
    static abstract int Planes { get; }

    /// <summary>Input height.</summary>
    static abstract int InHeight { get; }

    /// <summary>Input width.</summary>
    static abstract int InWidth { get; }

    /// <summary>Output height (InHeight / 2).</summary>
    static abstract int OutHeight { get; }

    /// <summary>Output width (InWidth / 2).</summary>
    static abstract int OutWidth { get; }

    /// <summary>int8 (else uint8).</summary>
    static abstract bool Signed { get; }
}

/// <summary>
/// MaxPool 2x2 / stride 2 on quantized activations (the pooling of LeNet-style int8 models): the max
/// of two rows, then of neighbouring bytes, sixteen input bytes per step (int8 compares as uint8
/// after flipping the sign bit, which preserves order).
/// </summary>
internal static class QPool
{
    /// <summary>Runs the step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max2x2<TShape, TSimd, TVec>(ReadOnlySpan<byte> x, Span<byte> y)
        where TShape : struct, IQPoolShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int w = TShape.InWidth, ow = TShape.OutWidth;
        Guard.Length(x.Length, (long)TShape.Planes * TShape.InHeight * w, "MaxPool X");
        Guard.Length(y.Length, (long)TShape.Planes * TShape.OutHeight * ow, "MaxPool Y");
        bool vector = typeof(TSimd) != typeof(SimdScalar) && Vector128.IsHardwareAccelerated && ow >= 8;
        byte flip = TShape.Signed ? (byte)0x80 : (byte)0;
        var flipV = Vector128.Create(flip);
        for (int p = 0; p < TShape.Planes; p++)
        {
            for (int oh = 0; oh < TShape.OutHeight; oh++)
            {
                ref byte r0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (p * TShape.InHeight + 2 * oh) * w);
                ref byte r1 = ref Unsafe.Add(ref r0, w);
                ref byte dst = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (p * TShape.OutHeight + oh) * ow);
                if (!vector)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        int a = Math.Max(Quant.Value(Unsafe.Add(ref r0, 2 * j), TShape.Signed), Quant.Value(Unsafe.Add(ref r0, 2 * j + 1), TShape.Signed));
                        int b = Math.Max(Quant.Value(Unsafe.Add(ref r1, 2 * j), TShape.Signed), Quant.Value(Unsafe.Add(ref r1, 2 * j + 1), TShape.Signed));
                        Unsafe.Add(ref dst, j) = (byte)Math.Max(a, b);
                    }
                    continue;
                }
                // Blocks of 8 outputs, the last overlapping its predecessor.
                for (int j = 0; ; j += 8)
                {
                    if (j > ow - 8) j = ow - 8;
                    var v = Vector128.Max(Vector128.LoadUnsafe(ref r0, (nuint)(2 * j)) ^ flipV, Vector128.LoadUnsafe(ref r1, (nuint)(2 * j)) ^ flipV).AsUInt16();
                    var pairs = Vector128.Max(v & Vector128.Create((ushort)0xFF), Vector128.ShiftRightLogical(v, 8));
                    var bytes = Vector128.Narrow(pairs, pairs) ^ flipV;
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, j), bytes.AsUInt64().ToScalar());
                    if (j == ow - 8) break;
                }
            }
        }
    }
}
