namespace CompressBuild.Runtime;

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

/// <summary>
/// How a constant is stored in the weight blob: <see cref="F32"/>, <see cref="F16"/> (IEEE half) or
/// <see cref="Q8"/> (symmetric int8; the scales are a separate f32 constant the kernel applies).
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
