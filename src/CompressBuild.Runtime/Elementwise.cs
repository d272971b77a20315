namespace CompressBuild.Runtime;

using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

/// <summary>
/// Compile-time facts of a broadcasting binary step, collapsed by the generator to 4 output axes
/// (<see cref="D0"/> outermost … <see cref="D3"/> innermost) with per-operand element strides (0 on
/// broadcast axes). The innermost strides are 0 or 1.
/// </summary>
internal interface IBinaryShape
{
    /// <summary>Output axis 0.</summary>
    static abstract int D0 { get; }

    /// <summary>Output axis 1.</summary>
    static abstract int D1 { get; }

    /// <summary>Output axis 2.</summary>
    static abstract int D2 { get; }

    /// <summary>Output axis 3 (innermost, contiguous in Y).</summary>
    static abstract int D3 { get; }

    /// <summary>A stride along axis 0.</summary>
    static abstract int A0 { get; }

    /// <summary>A stride along axis 1.</summary>
    static abstract int A1 { get; }

    /// <summary>A stride along axis 2.</summary>
    static abstract int A2 { get; }

    /// <summary>A stride along axis 3 (0 or 1).</summary>
    static abstract int A3 { get; }

    /// <summary>B stride along axis 0.</summary>
    static abstract int B0 { get; }

    /// <summary>B stride along axis 1.</summary>
    static abstract int B1 { get; }

    /// <summary>B stride along axis 2.</summary>
    static abstract int B2 { get; }

    /// <summary>B stride along axis 3 (0 or 1).</summary>
    static abstract int B3 { get; }

    /// <summary>Fused Relu.</summary>
    static abstract bool Relu { get; }
}

/// <summary>A binary element operation: on float lanes (the SIMD float32 path) and on any numeric type.</summary>
internal interface IBinaryOp
{
    /// <summary>On float lanes.</summary>
    static abstract TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct;

    /// <summary>On one element of any numeric type (integers wrap).</summary>
    static abstract T Apply<T>(T a, T b) where T : unmanaged, INumber<T>;
}

/// <summary>a + b.</summary>
internal readonly struct AddOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Add(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T a, T b) where T : unmanaged, INumber<T> => unchecked(a + b);
}

/// <summary>a - b.</summary>
internal readonly struct SubOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Subtract(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T a, T b) where T : unmanaged, INumber<T> => unchecked(a - b);
}

/// <summary>a * b.</summary>
internal readonly struct MulOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Multiply(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T a, T b) where T : unmanaged, INumber<T> => unchecked(a * b);
}

/// <summary>a / b; integers truncate toward zero and MinValue / −1 wraps to MinValue (division by zero throws).</summary>
internal readonly struct DivOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Divide(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T a, T b) where T : unmanaged, INumber<T> =>
        Conversions.IsFloat<T>() ? a / b : T.IsNegative(b) && b == unchecked(T.Zero - T.One) ? unchecked(T.Zero - a) : a / b;
}

/// <summary>max(a, b), NaN propagating (Max).</summary>
internal readonly struct BinaryMax : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T a, T b) where T : unmanaged, INumber<T> => T.Max(a, b);
}

/// <summary>min(a, b), NaN propagating (Min).</summary>
internal readonly struct BinaryMin : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T a, T b) where T : unmanaged, INumber<T> => T.Min(a, b);
}

/// <summary>a + b for Sum and Mean: float16 adds in float and rounds once (the engine accumulates float16 in float).</summary>
internal readonly struct BinarySum : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Add(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T a, T b) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(Half) ? T.CreateTruncating(float.CreateTruncating(a) + float.CreateTruncating(b)) : unchecked(a + b);
}

/// <summary>(a + b) / 2 for a two-input Mean (float16: in float, rounded once).</summary>
internal readonly struct BinaryMean : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Divide(TL.Add(a, b), TL.Splat(2f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T a, T b) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(Half) ? T.CreateTruncating((float.CreateTruncating(a) + float.CreateTruncating(b)) / 2f) : unchecked(a + b) / T.CreateTruncating(2);
}

/// <summary>PRelu: a &lt; 0 ? a·b : a (b is the slope).</summary>
internal readonly struct BinaryPRelu : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV a, TV b) where TL : struct, IFloatLanes<TV> where TV : struct =>
        TL.Select(TL.LessThan(a, TL.Splat(0f)), TL.Multiply(a, b), a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T a, T b) where T : unmanaged, INumber<T> => a < T.Zero ? unchecked(a * b) : a;
}

/// <summary>
/// Broadcasting binary operations (Add, Sub, Mul, Div, Max, Min, Sum, Mean, PRelu, Pow) on every
/// numeric type, with an optional fused Relu. float32 runs on SIMD lanes of the predictor's width;
/// the other types run element by element with generic math. Y may be the same memory as A
/// (in-place steps), never as B.
/// </summary>
internal static class Elementwise
{
    /// <summary>Y = op(A, B) with broadcasting, float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Binary<TShape, TOp, TSimd, TVec>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
        where TShape : struct, IBinaryShape where TOp : struct, IBinaryOp where TSimd : struct, ISimd<TVec> where TVec : struct
        => Binary<TShape, TOp, float, TSimd, TVec>(a, b, y);

    /// <summary>Y = op(A, B) with broadcasting, any numeric type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Binary<TShape, TOp, T, TSimd, TVec>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
        where TShape : struct, IBinaryShape where TOp : struct, IBinaryOp where T : unmanaged, INumber<T> where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(a.Length, Extent(TShape.A0, TShape.A1, TShape.A2, TShape.A3, TShape.D0, TShape.D1, TShape.D2, TShape.D3), "A");
        Guard.Length(b.Length, Extent(TShape.B0, TShape.B1, TShape.B2, TShape.B3, TShape.D0, TShape.D1, TShape.D2, TShape.D3), "B");
        Guard.Length(y.Length, (long)TShape.D0 * TShape.D1 * TShape.D2 * TShape.D3, "Y");
        if (y.Length == 0) return;
        if (typeof(T) == typeof(float))
        {
            ref float af = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(a));
            ref float bf = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(b));
            ref float yf = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(y));
            if (typeof(TVec) == typeof(Vector256<float>) || typeof(TVec) == typeof(Vector512<float>)) FloatLoops<TShape, TOp, FloatLanes256, Vector256<float>>(ref af, ref bf, ref yf);
            else if (typeof(TVec) == typeof(Vector128<float>)) FloatLoops<TShape, TOp, FloatLanes128, Vector128<float>>(ref af, ref bf, ref yf);
            else FloatLoops<TShape, TOp, FloatLanes1, float>(ref af, ref bf, ref yf);
            return;
        }
        ref T a0 = ref MemoryMarshal.GetReference(a);
        ref T b0 = ref MemoryMarshal.GetReference(b);
        ref T y0 = ref MemoryMarshal.GetReference(y);
        nint o = 0;
        for (int i0 = 0; i0 < TShape.D0; i0++)
            for (int i1 = 0; i1 < TShape.D1; i1++)
                for (int i2 = 0; i2 < TShape.D2; i2++, o += TShape.D3)
                {
                    ref T ar = ref Unsafe.Add(ref a0, (nint)i0 * TShape.A0 + (nint)i1 * TShape.A1 + (nint)i2 * TShape.A2);
                    ref T br = ref Unsafe.Add(ref b0, (nint)i0 * TShape.B0 + (nint)i1 * TShape.B1 + (nint)i2 * TShape.B2);
                    ref T yr = ref Unsafe.Add(ref y0, o);
                    for (int i = 0; i < TShape.D3; i++)
                    {
                        T v = TOp.Apply(Unsafe.Add(ref ar, (nint)i * TShape.A3), Unsafe.Add(ref br, (nint)i * TShape.B3));
                        if (TShape.Relu) v = T.Max(v, T.Zero);
                        Unsafe.Add(ref yr, i) = v;
                    }
                }
    }

    private static long Extent(int s0, int s1, int s2, int s3, int d0, int d1, int d2, int d3) =>
        (long)(d0 - 1) * s0 + (long)(d1 - 1) * s1 + (long)(d2 - 1) * s2 + (long)(d3 - 1) * s3 + 1;

    private static void FloatLoops<TShape, TOp, TL, TV>(ref float a0, ref float b0, ref float y0)
        where TShape : struct, IBinaryShape where TOp : struct, IBinaryOp where TL : struct, IFloatLanes<TV> where TV : struct
    {
        nint o = 0;
        for (int i0 = 0; i0 < TShape.D0; i0++)
            for (int i1 = 0; i1 < TShape.D1; i1++)
                for (int i2 = 0; i2 < TShape.D2; i2++, o += TShape.D3)
                {
                    nint ai = (nint)i0 * TShape.A0 + (nint)i1 * TShape.A1 + (nint)i2 * TShape.A2;
                    nint bi = (nint)i0 * TShape.B0 + (nint)i1 * TShape.B1 + (nint)i2 * TShape.B2;
                    Row<TOp, TL, TV>(ref Unsafe.Add(ref a0, ai), TShape.A3, ref Unsafe.Add(ref b0, bi), TShape.B3, ref Unsafe.Add(ref y0, o), TShape.D3, TShape.Relu);
                }
    }

    /// <summary>One innermost run: strides 0 (repeat one element) or 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TOp, TL, TV>(ref float a, int sa, ref float b, int sb, ref float y, int n, bool relu)
        where TOp : struct, IBinaryOp where TL : struct, IFloatLanes<TV> where TV : struct
    {
        int i = 0;
        TV va = TL.Splat(a), vb = TL.Splat(b);
        for (; i <= n - TL.Count; i += TL.Count)
        {
            TV v = TOp.Apply<TL, TV>(sa == 0 ? va : TL.Load(ref a, i), sb == 0 ? vb : TL.Load(ref b, i));
            if (relu) v = TL.Max(v, TL.Splat(0f));
            TL.Store(v, ref y, i);
        }
        for (; i < n; i++)
        {
            float v = TOp.Apply<FloatLanes1, float>(Unsafe.Add(ref a, (nint)i * sa), Unsafe.Add(ref b, (nint)i * sb));
            if (relu) v = FloatLanes1.Max(v, 0f);
            Unsafe.Add(ref y, i) = v;
        }
    }

    /// <summary>
    /// Y = op(Y, X) in place, X broadcast to Y (the third and later inputs of Max, Min, Sum, Mean):
    /// Y is contiguous over the collapsed axes <paramref name="d0"/>…<paramref name="d3"/>, X has
    /// strides <paramref name="s0"/>…<paramref name="s3"/> (the innermost 0 or 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fold<TOp, T, TSimd, TVec>(ReadOnlySpan<T> x, Span<T> y, int d0, int d1, int d2, int d3, int s0, int s1, int s2, int s3)
        where TOp : struct, IBinaryOp where T : unmanaged, INumber<T> where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(x.Length, Extent(s0, s1, s2, s3, d0, d1, d2, d3), "X");
        Guard.Length(y.Length, (long)d0 * d1 * d2 * d3, "Y");
        if (y.Length == 0) return;
        ref T x0 = ref MemoryMarshal.GetReference(x);
        ref T y0 = ref MemoryMarshal.GetReference(y);
        nint o = 0;
        for (int i0 = 0; i0 < d0; i0++)
            for (int i1 = 0; i1 < d1; i1++)
                for (int i2 = 0; i2 < d2; i2++, o += d3)
                {
                    ref T xr = ref Unsafe.Add(ref x0, (nint)i0 * s0 + (nint)i1 * s1 + (nint)i2 * s2);
                    ref T yr = ref Unsafe.Add(ref y0, o);
                    if (typeof(T) == typeof(float))
                    {
                        ref float xf = ref Unsafe.As<T, float>(ref xr);
                        ref float yf = ref Unsafe.As<T, float>(ref yr);
                        if (typeof(TVec) == typeof(Vector256<float>) || typeof(TVec) == typeof(Vector512<float>)) Row<TOp, FloatLanes256, Vector256<float>>(ref yf, 1, ref xf, s3, ref yf, d3, false);
                        else if (typeof(TVec) == typeof(Vector128<float>)) Row<TOp, FloatLanes128, Vector128<float>>(ref yf, 1, ref xf, s3, ref yf, d3, false);
                        else Row<TOp, FloatLanes1, float>(ref yf, 1, ref xf, s3, ref yf, d3, false);
                        continue;
                    }
                    for (int i = 0; i < d3; i++) Unsafe.Add(ref yr, i) = TOp.Apply(Unsafe.Add(ref yr, i), Unsafe.Add(ref xr, (nint)i * s3));
                }
    }

    /// <summary>Y /= <paramref name="count"/> (Mean of three or more inputs, float types).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DivideBy<T>(Span<T> y, int count) where T : unmanaged, INumber<T>
    {
        T n = T.CreateTruncating(count);
        for (int i = 0; i < y.Length; i++) y[i] /= n;
    }

    /// <summary>
    /// Y = A^B with broadcasting; Y has A's type. float^float uses MathF.Pow (exponents 1, 2, 3
    /// repeated along the innermost run by multiplication, as the engine does); integer^integer is
    /// exact in 64 bits with wrap-around (negative exponents truncate toward zero); every other mix
    /// computes in double and converts to A's type (integers truncate and saturate).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pow<TShape, TA, TB>(ReadOnlySpan<TA> a, ReadOnlySpan<TB> b, Span<TA> y)
        where TShape : struct, IBinaryShape where TA : unmanaged, INumber<TA>, IMinMaxValue<TA> where TB : unmanaged, INumber<TB>
    {
        Guard.Length(a.Length, Extent(TShape.A0, TShape.A1, TShape.A2, TShape.A3, TShape.D0, TShape.D1, TShape.D2, TShape.D3), "A");
        Guard.Length(b.Length, Extent(TShape.B0, TShape.B1, TShape.B2, TShape.B3, TShape.D0, TShape.D1, TShape.D2, TShape.D3), "B");
        Guard.Length(y.Length, (long)TShape.D0 * TShape.D1 * TShape.D2 * TShape.D3, "Y");
        if (y.Length == 0) return;
        ref TA a0 = ref MemoryMarshal.GetReference(a);
        ref TB b0 = ref MemoryMarshal.GetReference(b);
        ref TA y0 = ref MemoryMarshal.GetReference(y);
        bool floats = typeof(TA) == typeof(float) && typeof(TB) == typeof(float);
        nint o = 0;
        for (int i0 = 0; i0 < TShape.D0; i0++)
            for (int i1 = 0; i1 < TShape.D1; i1++)
                for (int i2 = 0; i2 < TShape.D2; i2++, o += TShape.D3)
                {
                    ref TA ar = ref Unsafe.Add(ref a0, (nint)i0 * TShape.A0 + (nint)i1 * TShape.A1 + (nint)i2 * TShape.A2);
                    ref TB br = ref Unsafe.Add(ref b0, (nint)i0 * TShape.B0 + (nint)i1 * TShape.B1 + (nint)i2 * TShape.B2);
                    ref TA yr = ref Unsafe.Add(ref y0, o);
                    if (floats && TShape.B3 == 0 && (TShape.A3 == 1 || TShape.D3 == 1))
                    {
                        float e = Unsafe.As<TB, float>(ref br);
                        if (e == 1f || e == 2f || e == 3f)
                        {
                            for (int i = 0; i < TShape.D3; i++)
                            {
                                float v = Unsafe.As<TA, float>(ref Unsafe.Add(ref ar, i));
                                float r = e == 1f ? v : e == 2f ? v * v : v * v * v;
                                Unsafe.As<TA, float>(ref Unsafe.Add(ref yr, i)) = r;
                            }
                            continue;
                        }
                    }
                    for (int i = 0; i < TShape.D3; i++)
                        Unsafe.Add(ref yr, i) = PowElement<TA, TB>(Unsafe.Add(ref ar, (nint)i * TShape.A3), Unsafe.Add(ref br, (nint)i * TShape.B3));
                }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TA PowElement<TA, TB>(TA a, TB b) where TA : unmanaged, INumber<TA>, IMinMaxValue<TA> where TB : unmanaged, INumber<TB>
    {
        if (typeof(TA) == typeof(float) && typeof(TB) == typeof(float))
        {
            float r = MathF.Pow(Unsafe.As<TA, float>(ref a), Unsafe.As<TB, float>(ref b));
            return Unsafe.As<float, TA>(ref r);
        }
        if (!Conversions.IsFloat<TA>() && !Conversions.IsFloat<TB>())
            return TA.CreateTruncating(PowInteger(long.CreateTruncating(a), long.CreateTruncating(b)));
        return Conversions.FromDouble<TA>(Math.Pow(double.CreateTruncating(a), double.CreateTruncating(b)));
    }

    private static long PowInteger(long a, long b)
    {
        // |a| > 1 with a negative exponent is a fraction below 1 in magnitude, truncated to 0.
        if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) == 0 ? 1 : -1) : 0;
        long r = 1;
        for (; b > 0; b >>= 1, a = unchecked(a * a))
            if ((b & 1) != 0) r = unchecked(r * a);
        return r;
    }
}
