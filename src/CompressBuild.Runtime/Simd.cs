namespace CompressBuild.Runtime;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

/// <summary>
/// One SIMD width, as static members so a kernel written once (<c>Kernel&lt;…, TSimd, TVec&gt;</c>)
/// is compiled by the JIT into straight vector code for each width: <see cref="Simd512"/>,
/// <see cref="Simd256"/>, <see cref="Simd128"/>, or <see cref="SimdScalar"/> (one lane).
/// Loads and stores are unaligned; the <c>IsSupported</c> checks inside fold at JIT time.
/// </summary>
/// <typeparam name="TVec">The vector type (<c>Vector256&lt;float&gt;</c>, ..., or <c>float</c>).</typeparam>
internal interface ISimd<TVec> where TVec : struct
{
    /// <summary>Lanes.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TVec Zero { get; }

    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TVec Splat(float value);

    /// <summary>Loads <see cref="Count"/> floats at <paramref name="source"/> + <paramref name="index"/>.</summary>
    static abstract TVec Load(ref float source, nint index);

    /// <summary>Stores the lanes at <paramref name="destination"/> + <paramref name="index"/>.</summary>
    static abstract void Store(TVec value, ref float destination, nint index);

    /// <summary>Loads <see cref="Count"/> IEEE halves (element <paramref name="index"/> of the bytes) widened to float.</summary>
    static abstract TVec LoadHalf(ref byte source, nint index);

    /// <summary>Loads <see cref="Count"/> signed bytes (element <paramref name="index"/>) converted to float.</summary>
    static abstract TVec LoadSByte(ref byte source, nint index);

    /// <summary>a + b.</summary>
    static abstract TVec Add(TVec a, TVec b);

    /// <summary>a - b.</summary>
    static abstract TVec Subtract(TVec a, TVec b);

    /// <summary>a * b.</summary>
    static abstract TVec Multiply(TVec a, TVec b);

    /// <summary>a / b.</summary>
    static abstract TVec Divide(TVec a, TVec b);

    /// <summary>a * b + c, fused where the hardware has FMA.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    /// <summary>Lane-wise maximum.</summary>
    static abstract TVec Max(TVec a, TVec b);

    /// <summary>Lane-wise minimum.</summary>
    static abstract TVec Min(TVec a, TVec b);

    /// <summary>Sum of the lanes.</summary>
    static abstract float Sum(TVec v);

    /// <summary>Maximum of the lanes.</summary>
    static abstract float MaxAcross(TVec v);

    /// <summary>
    /// Pairwise maximum of the 2·Count floats <c>a ‖ b</c>: lane i = max(x[2i], x[2i+1]) (a 2-wide,
    /// stride-2 pooling window).
    /// </summary>
    static abstract TVec MaxPairs(TVec a, TVec b);

    /// <summary>Pairwise sum of the 2·Count floats <c>a ‖ b</c>: lane i = x[2i] + x[2i+1].</summary>
    static abstract TVec AddPairs(TVec a, TVec b);
}

/// <summary>
/// A small integer as a type, so a kernel's block sizes are JIT-time constants without inlining
/// (<c>Block&lt;…, Four&gt;</c> compiles into its own specialized method).
/// </summary>
internal interface IConstant
{
    /// <summary>The value.</summary>
    static abstract int Value { get; }
}

/// <summary>1.</summary>
internal readonly struct One : IConstant
{
    public static int Value => 1;
}

/// <summary>2.</summary>
internal readonly struct Two : IConstant
{
    public static int Value => 2;
}

/// <summary>3.</summary>
internal readonly struct Three : IConstant
{
    public static int Value => 3;
}

/// <summary>4.</summary>
internal readonly struct Four : IConstant
{
    public static int Value => 4;
}

/// <summary>Short row copies and clears inlined as vector moves (no memmove/memset call per row).</summary>
internal static class Rows
{
    /// <summary>Copies <paramref name="n"/> floats (the ranges must not overlap).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy<TSimd, TVec>(ref float source, ref float destination, int n) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int i = 0;
        if (n >= TSimd.Count)
        {
            for (; i <= n - TSimd.Count; i += TSimd.Count) TSimd.Store(TSimd.Load(ref source, i), ref destination, i);
            if (i < n) TSimd.Store(TSimd.Load(ref source, n - TSimd.Count), ref destination, n - TSimd.Count);
            return;
        }
        for (; i < n; i++) Unsafe.Add(ref destination, i) = Unsafe.Add(ref source, i);
    }

    /// <summary>Sets <paramref name="n"/> floats to zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear<TSimd, TVec>(ref float destination, int n) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int i = 0;
        if (n >= TSimd.Count)
        {
            for (; i <= n - TSimd.Count; i += TSimd.Count) TSimd.Store(TSimd.Zero, ref destination, i);
            if (i < n) TSimd.Store(TSimd.Zero, ref destination, n - TSimd.Count);
            return;
        }
        for (; i < n; i++) Unsafe.Add(ref destination, i) = 0f;
    }
}

/// <summary>Scalar conversions shared by the SIMD widths.</summary>
internal static class SimdScalarMath
{
    /// <summary>IEEE half (bits) to float, exact, branch-light (no table, no <see cref="System.Half"/> software path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort h)
    {
        uint em = (uint)(h & 0x7FFF) << 13;
        uint sign = (uint)(h & 0x8000) << 16;
        uint bits = em >= 0x0F800000u
            ? em + 0x70000000u // infinity / NaN: exponent all ones, payload kept
            : BitConverterSingle(BitConverterSingle(em) * 5.192297E+33f); // 2^112 rebiases normals and subnormals alike
        return BitConverterSingle(bits | sign);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float BitConverterSingle(uint bits) => System.BitConverter.UInt32BitsToSingle(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint BitConverterSingle(float value) => System.BitConverter.SingleToUInt32Bits(value);
}

/// <summary>One lane: the portable fallback (target <c>scalar</c>) and the tail of vector loops.</summary>
internal readonly struct SimdScalar : ISimd<float>
{
    public static int Count => 1;
    public static float Zero => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Splat(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(ref float source, nint index) => Unsafe.Add(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float value, ref float destination, nint index) => Unsafe.Add(ref destination, index) = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadHalf(ref byte source, nint index) =>
        SimdScalarMath.HalfToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref source, index * 2)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadSByte(ref byte source, nint index) => (sbyte)Unsafe.Add(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtract(float a, float b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Divide(float a, float b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float c) => a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float a, float b) => a > b || float.IsNaN(a) ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(float a, float b) => a < b || float.IsNaN(a) ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float v) => v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(float v) => v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxPairs(float a, float b) => Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float AddPairs(float a, float b) => a + b;
}

/// <summary>128-bit vectors (SSE, AdvSimd): target <c>arm64</c>, and <c>generic</c> without AVX2.</summary>
internal readonly struct Simd128 : ISimd<Vector128<float>>
{
    public static int Count => 4;
    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Splat(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(ref float source, nint index) => Vector128.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> value, ref float destination, nint index) => value.StoreUnsafe(ref destination, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadHalf(ref byte source, nint index)
    {
        var h = Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref source, index * 2))).AsInt16();
        return HalfBits(Vector128.WidenLower(h));
    }

    /// <summary>
    /// Sign-extended half bits (one per int lane) to floats, exactly: the shifted bits keep the sign
    /// in bit 31 and exponent|mantissa in bits 13-27; multiplying by 2^112 rebiases normals and
    /// subnormals alike; exponent 31 (infinity/NaN) becomes 255.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> HalfBits(Vector128<int> h)
    {
        var bits = (h << 13) & Vector128.Create(unchecked((int)0x8FFFE000));
        var value = (bits.AsSingle() * Vector128.Create(5.192297E+33f)).AsInt32();
        var isSpecial = Vector128.Equals(bits & Vector128.Create(0x0F800000), Vector128.Create(0x0F800000));
        return Vector128.ConditionalSelect(isSpecial, bits + Vector128.Create(0x70000000), value).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadSByte(ref byte source, nint index)
    {
        var b = Vector128.CreateScalar(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref source, index))).AsSByte();
        if (Sse41.IsSupported) return Sse2.ConvertToVector128Single(Sse41.ConvertToVector128Int32(b));
        return Vector128.ConvertToSingle(Vector128.WidenLower(Vector128.WidenLower(b)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c)
    {
        if (Fma.IsSupported) return Fma.MultiplyAdd(a, b, c);
        if (AdvSimd.IsSupported) return AdvSimd.FusedMultiplyAdd(c, a, b);
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.Max(b, a) : Vector128.Max(a, b); // maxps returns its second operand when either is NaN: a NaN in a propagates

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Sse.IsSupported ? Sse.Min(b, a) : Vector128.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> v) => Vector128.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> v)
    {
        var m = Vector128.Max(v, Vector128.Shuffle(v, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MaxPairs(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.Max(Sse.Shuffle(a, b, 0b10_00_10_00), Sse.Shuffle(a, b, 0b11_01_11_01));
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.MaxPairwise(a, b);
        return Vector128.Create(
            MathMax(a.GetElement(0), a.GetElement(1)), MathMax(a.GetElement(2), a.GetElement(3)),
            MathMax(b.GetElement(0), b.GetElement(1)), MathMax(b.GetElement(2), b.GetElement(3)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> AddPairs(Vector128<float> a, Vector128<float> b)
    {
        if (Sse3.IsSupported) return Sse3.HorizontalAdd(a, b);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.AddPairwise(a, b);
        return Vector128.Create(
            a.GetElement(0) + a.GetElement(1), a.GetElement(2) + a.GetElement(3),
            b.GetElement(0) + b.GetElement(1), b.GetElement(2) + b.GetElement(3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MathMax(float a, float b) => SimdScalar.Max(a, b);
}

/// <summary>256-bit vectors (AVX2 + FMA): targets <c>x64-avx2</c> and <c>generic</c> on such machines.</summary>
internal readonly struct Simd256 : ISimd<Vector256<float>>
{
    public static int Count => 8;
    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Splat(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source, nint index) => Vector256.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float destination, nint index) => value.StoreUnsafe(ref destination, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadHalf(ref byte source, nint index)
    {
        var h = Vector128.LoadUnsafe(ref Unsafe.As<byte, short>(ref Unsafe.Add(ref source, index * 2)));
        if (Avx2.IsSupported) return HalfBits(Avx2.ConvertToVector256Int32(h));
        return Vector256.Create(Simd128.HalfBits(Vector128.WidenLower(h)), Simd128.HalfBits(Vector128.WidenUpper(h)));
    }

    /// <summary>Sign-extended half bits (one per int lane) to floats; see <see cref="Simd128.HalfBits"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfBits(Vector256<int> h)
    {
        var bits = (h << 13) & Vector256.Create(unchecked((int)0x8FFFE000));
        var value = (bits.AsSingle() * Vector256.Create(5.192297E+33f)).AsInt32();
        var isSpecial = Vector256.Equals(bits & Vector256.Create(0x0F800000), Vector256.Create(0x0F800000));
        return Vector256.ConditionalSelect(isSpecial, bits + Vector256.Create(0x70000000), value).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadSByte(ref byte source, nint index)
    {
        var b = Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref source, index))).AsSByte();
        if (Avx2.IsSupported) return Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(b));
        var s = Vector128.WidenLower(b);
        return Vector256.Create(Vector128.ConvertToSingle(Vector128.WidenLower(s)), Vector128.ConvertToSingle(Vector128.WidenUpper(s)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) =>
        Avx.IsSupported ? Avx.Max(b, a) : Vector256.Max(a, b); // vmaxps returns its second operand when either is NaN: a NaN in a propagates


    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Avx.IsSupported ? Avx.Min(b, a) : Vector256.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v) => Vector128.Sum(v.GetLower() + v.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector256<float> v) => Simd128.MaxAcross(Vector128.Max(v.GetLower(), v.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MaxPairs(Vector256<float> a, Vector256<float> b)
    {
        if (Avx2.IsSupported)
        {
            // In-lane even/odd split puts the pairs of a and b in alternating 64-bit chunks; one permute restores the order.
            var m = Avx.Max(Avx.Shuffle(a, b, 0b10_00_10_00), Avx.Shuffle(a, b, 0b11_01_11_01));
            return Avx2.Permute4x64(m.AsDouble(), 0b11_01_10_00).AsSingle();
        }
        return Vector256.Create(Simd128.MaxPairs(a.GetLower(), a.GetUpper()), Simd128.MaxPairs(b.GetLower(), b.GetUpper()));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> AddPairs(Vector256<float> a, Vector256<float> b)
    {
        if (Avx2.IsSupported) return Avx2.Permute4x64(Avx.HorizontalAdd(a, b).AsDouble(), 0b11_01_10_00).AsSingle();
        return Vector256.Create(Simd128.AddPairs(a.GetLower(), a.GetUpper()), Simd128.AddPairs(b.GetLower(), b.GetUpper()));
    }
}

/// <summary>512-bit vectors (AVX-512F): target <c>x64-avx512</c>.</summary>
internal readonly struct Simd512 : ISimd<Vector512<float>>
{
    public static int Count => 16;
    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Splat(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source, nint index) => Vector512.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float destination, nint index) => value.StoreUnsafe(ref destination, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadHalf(ref byte source, nint index) =>
        Vector512.Create(Simd256.LoadHalf(ref source, index), Simd256.LoadHalf(ref source, index + 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadSByte(ref byte source, nint index)
    {
        if (Avx512F.IsSupported)
            return Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref source, index)))));
        return Vector512.Create(Simd256.LoadSByte(ref source, index), Simd256.LoadSByte(ref source, index + 8));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> v) => Simd256.Sum(v.GetLower() + v.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector512<float> v) => Simd256.MaxAcross(Vector256.Max(v.GetLower(), v.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MaxPairs(Vector512<float> a, Vector512<float> b) =>
        Vector512.Create(Simd256.MaxPairs(a.GetLower(), a.GetUpper()), Simd256.MaxPairs(b.GetLower(), b.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> AddPairs(Vector512<float> a, Vector512<float> b) =>
        Vector512.Create(Simd256.AddPairs(a.GetLower(), a.GetUpper()), Simd256.AddPairs(b.GetLower(), b.GetUpper()));
}
