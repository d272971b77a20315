namespace CompressBuild.Runtime;

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

/// <summary>
/// How a constant is stored in the weight blob: <see cref="F32"/>, <see cref="F16"/> (IEEE half) or
/// <see cref="Q8"/> (symmetric int8; the scales are a separate f32 constant the kernel applies).
/// Sub-byte formats are <see cref="IPackedFormat"/>.
/// Kernels are generic over the format, so dequantization happens inside their loops. The blob has
/// no alignment guarantee: every access is an unaligned load.
/// </summary>
internal interface IWeightFormat
{
    /// <summary>Bytes per element.</summary>
    static abstract int ElementBytes { get; }

    /// <summary>True for formats that need scales (<see cref="Q8"/>).</summary>
    static abstract bool HasScales { get; }

    /// <summary>Element <paramref name="index"/> as float (unscaled for <see cref="Q8"/>).</summary>
    static abstract float Get(ref byte data, nint index);

    /// <summary><c>TSimd.Count</c> elements from <paramref name="index"/> as floats (unscaled for <see cref="Q8"/>).</summary>
    static abstract TVec Load<TSimd, TVec>(ref byte data, nint index) where TSimd : struct, ISimd<TVec> where TVec : struct;
}

/// <summary>fp32 weights.</summary>
internal readonly struct F32 : IWeightFormat
{
    public static int ElementBytes => 4;
    public static bool HasScales => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Get(ref byte data, nint index) => Unsafe.ReadUnaligned<float>(ref Unsafe.Add(ref data, index * 4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TSimd, TVec>(ref byte data, nint index) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.Load(ref Unsafe.As<byte, float>(ref data), index);
}

/// <summary>fp16 weights, widened to fp32 in registers.</summary>
internal readonly struct F16 : IWeightFormat
{
    public static int ElementBytes => 2;
    public static bool HasScales => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Get(ref byte data, nint index) => SimdScalarMath.HalfToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref data, index * 2)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TSimd, TVec>(ref byte data, nint index) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.LoadHalf(ref data, index);
}

/// <summary>Symmetric int8 weights (value = q · scale; kernels fold the scale in after the dot products).</summary>
internal readonly struct Q8 : IWeightFormat
{
    public static int ElementBytes => 1;
    public static bool HasScales => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Get(ref byte data, nint index) => (sbyte)Unsafe.Add(ref data, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TSimd, TVec>(ref byte data, nint index) where TSimd : struct, ISimd<TVec> where TVec : struct =>
        TSimd.LoadSByte(ref data, index);
}

/// <summary>
/// Packed sub-byte weights (<see cref="Q4"/>, <see cref="Q2"/>): element i sits in byte i / PerByte
/// from bit (i mod PerByte) · Bits up, two's complement. Their scales are fp16, one per block of the
/// reduction axis, so only the packed kernels (<c>Gemm.RunPacked</c>, <c>Conv.RunPacked</c>) read them.
/// </summary>
internal interface IPackedFormat
{
    /// <summary>Bits per value.</summary>
    static abstract int Bits { get; }

    /// <summary>Element <paramref name="index"/> as float (unscaled).</summary>
    static abstract float Get(ref byte data, nint index);
}

/// <summary>Int4 weights in [-8, 7], two per byte.</summary>
internal readonly struct Q4 : IPackedFormat
{
    public static int Bits => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Get(ref byte data, nint index) => (sbyte)(Unsafe.Add(ref data, index >> 1) << (int)(4 - ((index & 1) << 2))) >> 4;
}

/// <summary>Int2 weights in [-2, 1], four per byte.</summary>
internal readonly struct Q2 : IPackedFormat
{
    public static int Bits => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Get(ref byte data, nint index) => (sbyte)(Unsafe.Add(ref data, index >> 2) << (int)(6 - ((index & 3) << 1))) >> 6;
}

/// <summary>
/// Unpacking in registers: the bytes of one vector are broadcast to every 32-bit lane, each lane
/// shifts its value to the top (AVX2 variable shifts; elsewhere a multiply by a power of two does
/// the same) and an arithmetic shift right sign-extends it, then one convert gives floats.
/// </summary>
internal static class Packed
{
    /// <summary>Bytes of a packed tensor of <paramref name="elements"/> values.</summary>
    public static long Bytes<TP>(long elements) where TP : struct, IPackedFormat => (elements * TP.Bits + 7) / 8;

    /// <summary>Values per byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PerByte<TP>() where TP : struct, IPackedFormat => 8 / TP.Bits;

    /// <summary>
    /// <c>TSimd.Count</c> values from element <paramref name="index"/> as floats (unscaled), with
    /// <paramref name="aligned"/> (a JIT-time constant at every call site) saying whether the index
    /// is a multiple of <see cref="PerByte{TP}"/>. Unaligned vectors are gathered value by value in a
    /// call, which would make the JIT keep a loop's accumulators in memory: kernels pick the form
    /// per shape, so aligned shapes never see it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TP, TSimd, TVec>(ref byte data, nint index, bool aligned)
        where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (typeof(TVec) == typeof(float)) return Unsafe.BitCast<float, TVec>(TP.Get(ref data, index));
        if (!aligned) return Gather<TP, TSimd, TVec>(ref data, index);
        ref byte p = ref Unsafe.Add(ref data, index / PerByte<TP>());
        if (typeof(TVec) == typeof(Vector128<float>))
        {
            uint word = TP.Bits == 4 ? Unsafe.ReadUnaligned<ushort>(ref p) : p;
            return Unsafe.BitCast<Vector128<float>, TVec>(Unpack128<TP>(word));
        }
        if (typeof(TVec) == typeof(Vector256<float>))
        {
            uint word = TP.Bits == 4 ? Unsafe.ReadUnaligned<uint>(ref p) : Unsafe.ReadUnaligned<ushort>(ref p);
            return Unsafe.BitCast<Vector256<float>, TVec>(Unpack256<TP>(word));
        }
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            Vector512<float> v;
            if (TP.Bits == 4)
            {
                ulong word = Unsafe.ReadUnaligned<ulong>(ref p);
                v = Vector512.Create(Unpack256<TP>((uint)word), Unpack256<TP>((uint)(word >> 32)));
            }
            else
            {
                uint word = Unsafe.ReadUnaligned<uint>(ref p);
                v = Vector512.Create(Unpack256<TP>(word), Unpack256<TP>(word >> 16));
            }
            return Unsafe.BitCast<Vector512<float>, TVec>(v);
        }
        return Gather<TP, TSimd, TVec>(ref data, index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Unpack128<TP>(uint word) where TP : struct, IPackedFormat
    {
        int b = TP.Bits;
        var shifts = Vector128.Create(32 - b, 32 - 2 * b, 32 - 3 * b, 32 - 4 * b);
        var v = Vector128.Create(word).AsInt32();
        v = Avx2.IsSupported ? Avx2.ShiftLeftLogicalVariable(v, shifts.AsUInt32()) : v * PowersOfTwo(shifts);
        return Vector128.ConvertToSingle(Vector128.ShiftRightArithmetic(v, 32 - b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Unpack256<TP>(uint word) where TP : struct, IPackedFormat
    {
        int b = TP.Bits;
        var shifts = Vector256.Create(32 - b, 32 - 2 * b, 32 - 3 * b, 32 - 4 * b, 32 - 5 * b, 32 - 6 * b, 32 - 7 * b, 32 - 8 * b);
        var v = Vector256.Create(word).AsInt32();
        if (Avx2.IsSupported) v = Avx2.ShiftLeftLogicalVariable(v, shifts.AsUInt32());
        else v = Vector256.Create(PowersOfTwo(shifts.GetLower()), PowersOfTwo(shifts.GetUpper())) * v;
        return Vector256.ConvertToSingle(Vector256.ShiftRightArithmetic(v, 32 - b));
    }

    /// <summary>2^shift per lane (shifts are at most 30).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> PowersOfTwo(Vector128<int> shifts) =>
        Vector128.Create(1 << shifts.GetElement(0), 1 << shifts.GetElement(1), 1 << shifts.GetElement(2), 1 << shifts.GetElement(3));

    /// <summary>A vector assembled value by value (rows that start inside a byte).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static TVec Gather<TP, TSimd, TVec>(ref byte data, nint index)
        where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        // At most 16 lanes (Vector512<float>).
        Span<float> lanes = stackalloc float[16];
        for (int j = 0; j < TSimd.Count; j++) lanes[j] = TP.Get(ref data, index + j);
        return TSimd.Load(ref MemoryMarshal.GetReference(lanes), 0);
    }

    /// <summary>
    /// Writes <paramref name="count"/> values from element <paramref name="start"/> as floats, each
    /// block of <paramref name="block"/> multiplied by its fp16 scale (from <paramref name="scales"/>,
    /// consecutive), into <paramref name="destination"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize<TP, TSimd, TVec>(ref byte source, nint start, int count, ref byte scales, int block, ref float destination)
        where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (start % PerByte<TP>() == 0 && block % PerByte<TP>() == 0) Dequantize<TP, TSimd, TVec>(ref source, start, count, ref scales, block, ref destination, aligned: true);
        else Dequantize<TP, TSimd, TVec>(ref source, start, count, ref scales, block, ref destination, aligned: false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dequantize<TP, TSimd, TVec>(ref byte source, nint start, int count, ref byte scales, int block, ref float destination, bool aligned)
        where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        for (int kb = 0, blk = 0; kb < count; kb += block, blk++)
        {
            float scale = Scale(ref scales, blk);
            var s = TSimd.Splat(scale);
            int ke = Math.Min(kb + block, count);
            int k = kb;
            for (; k <= ke - TSimd.Count; k += TSimd.Count)
                TSimd.Store(TSimd.Multiply(Load<TP, TSimd, TVec>(ref source, start + k, aligned), s), ref destination, k);
            for (; k < ke; k++)
                Unsafe.Add(ref destination, k) = TP.Get(ref source, start + k) * scale;
        }
    }

    /// <summary>fp16 scale <paramref name="index"/> as float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(ref byte scales, nint index) => SimdScalarMath.HalfToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref scales, index * 2)));
}

/// <summary>Helpers over weight-blob slices.</summary>
internal static class WeightReader
{
    /// <summary>
    /// Writes <paramref name="count"/> elements from element <paramref name="start"/> of
    /// <paramref name="source"/> as floats multiplied by <paramref name="scale"/> into
    /// <paramref name="destination"/> (vectorized).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dequantize<TW, TSimd, TVec>(ref byte source, nint start, int count, float scale, ref float destination)
        where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var s = TSimd.Splat(scale);
        nint i = 0;
        for (; i <= count - TSimd.Count; i += TSimd.Count)
            TSimd.Store(TSimd.Multiply(TW.Load<TSimd, TVec>(ref source, start + i), s), ref destination, i);
        for (; i < count; i++)
            Unsafe.Add(ref destination, i) = TW.Get(ref source, start + i) * scale;
    }

    /// <summary>A reference to the first byte of a span (no bounds check; callers validate lengths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref byte Ref(ReadOnlySpan<byte> span) => ref MemoryMarshal.GetReference(span);

    /// <summary>Throws when a weight slice is shorter than the shape needs (a generator/plan mismatch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RequireBytes<TW>(ReadOnlySpan<byte> data, long elements, string what) where TW : struct, IWeightFormat
    {
        if (data.Length < elements * TW.ElementBytes) Guard.Fail(what + " (weight bytes)", data.Length, elements * TW.ElementBytes);
    }
}

/// <summary>Length checks at kernel entry (once per call, never inside loops).</summary>
internal static class Guard
{
    /// <summary>Throws when <paramref name="length"/> is less than <paramref name="required"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Length(int length, long required, string what)
    {
        if (length < required) Fail(what, length, required);
    }

    /// <summary>Throws an <see cref="InvalidOperationException"/> naming a kernel/plan mismatch (kept out of line: no string building in kernels).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Fail(string what, long length, long required) =>
        throw new InvalidOperationException($"CompressBuild runtime: {what}: {length} elements, the shape needs {required} (the generated predictor does not match its kernels; regenerate it).");
}
