namespace CompressBuild.Runtime;

using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

/// <summary>
/// Float lanes with everything the element-wise math needs (comparisons as masks, selects, bit
/// tricks for exp/log), so each function is written once and compiled for 256-bit, 128-bit and
/// one-lane (tail and scalar target) vectors. One-lane masks are floats whose bits are all ones.
/// Every operation is an IEEE single rounding (no fused multiply-add), so a lane computes the same
/// value at every width.
/// </summary>
/// <typeparam name="TV">The vector type.</typeparam>
internal interface IFloatLanes<TV> where TV : struct
{
    /// <summary>Lanes.</summary>
    static abstract int Count { get; }

    /// <summary>Loads <see cref="Count"/> floats at <paramref name="source"/> + <paramref name="index"/>.</summary>
    static abstract TV Load(ref float source, nint index);

    /// <summary>Stores the lanes at <paramref name="destination"/> + <paramref name="index"/>.</summary>
    static abstract void Store(TV value, ref float destination, nint index);

    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TV Splat(float value);

    /// <summary>a + b.</summary>
    static abstract TV Add(TV a, TV b);

    /// <summary>a - b.</summary>
    static abstract TV Subtract(TV a, TV b);

    /// <summary>a * b.</summary>
    static abstract TV Multiply(TV a, TV b);

    /// <summary>a / b.</summary>
    static abstract TV Divide(TV a, TV b);

    /// <summary>Maximum; NaN in either operand gives NaN; +0 is above −0 (IEEE 754-2019 maximum, as <c>float.Max</c>).</summary>
    static abstract TV Max(TV a, TV b);

    /// <summary>Minimum; NaN in either operand gives NaN; −0 is below +0.</summary>
    static abstract TV Min(TV a, TV b);

    /// <summary>|a| (sign bit cleared).</summary>
    static abstract TV Abs(TV a);

    /// <summary>-a (sign bit flipped).</summary>
    static abstract TV Negate(TV a);

    /// <summary>√a (correctly rounded).</summary>
    static abstract TV Sqrt(TV a);

    /// <summary>Rounds toward negative infinity.</summary>
    static abstract TV Floor(TV a);

    /// <summary>Mask of a &lt; b.</summary>
    static abstract TV LessThan(TV a, TV b);

    /// <summary>Mask of a &gt; b.</summary>
    static abstract TV GreaterThan(TV a, TV b);

    /// <summary>Mask of a == b (false for NaN).</summary>
    static abstract TV Equal(TV a, TV b);

    /// <summary>Lane-wise <paramref name="mask"/> ? a : b.</summary>
    static abstract TV Select(TV mask, TV a, TV b);

    /// <summary>Bitwise and.</summary>
    static abstract TV And(TV a, TV b);

    /// <summary>Bitwise or.</summary>
    static abstract TV Or(TV a, TV b);

    /// <summary>2ⁿ for integral <paramref name="n"/> in [-126, 127].</summary>
    static abstract TV Pow2(TV n);

    /// <summary>For a positive normal x: the mantissa in [0.5, 1) and the exponent e with x = m·2ᵉ.</summary>
    static abstract TV Frexp(TV x, out TV exponent);
}

/// <summary>256-bit lanes (also used when the predictor runs at 512 bits).</summary>
internal readonly struct FloatLanes256 : IFloatLanes<Vector256<float>>
{
    public static int Count => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source, nint index) => Vector256.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float destination, nint index) => value.StoreUnsafe(ref destination, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Splat(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => Vector256.Add(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => Vector256.Subtract(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => Vector256.Multiply(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => Vector256.Divide(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) =>
        Vector256.ConditionalSelect(Vector256.Equals(a, a),
            Vector256.ConditionalSelect(Vector256.Equals(a, b), Vector256.BitwiseAnd(a, b), Vector256.ConditionalSelect(Vector256.GreaterThan(a, b), a, b)), a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) =>
        Vector256.ConditionalSelect(Vector256.Equals(a, a),
            Vector256.ConditionalSelect(Vector256.Equals(a, b), Vector256.BitwiseOr(a, b), Vector256.ConditionalSelect(Vector256.LessThan(a, b), a, b)), a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Abs(Vector256<float> a) => Vector256.AndNot(a, Vector256.Create(-0f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Negate(Vector256<float> a) => Vector256.Xor(a, Vector256.Create(-0f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Floor(Vector256<float> a) => Vector256.Floor(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LessThan(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThan(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Equal(Vector256<float> a, Vector256<float> b) => Vector256.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Select(Vector256<float> mask, Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> And(Vector256<float> a, Vector256<float> b) => Vector256.BitwiseAnd(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Or(Vector256<float> a, Vector256<float> b) => Vector256.BitwiseOr(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Pow2(Vector256<float> n) =>
        Vector256.ShiftLeft(Vector256.Add(Vector256.ConvertToInt32(n), Vector256.Create(127)), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Frexp(Vector256<float> x, out Vector256<float> exponent)
    {
        var bits = x.AsInt32();
        exponent = Vector256.ConvertToSingle(Vector256.Subtract(Vector256.ShiftRightLogical(bits, 23), Vector256.Create(126)));
        return Vector256.BitwiseOr(Vector256.BitwiseAnd(bits, Vector256.Create(0x007FFFFF)), Vector256.Create(0x3F000000)).AsSingle();
    }
}

/// <summary>128-bit lanes.</summary>
internal readonly struct FloatLanes128 : IFloatLanes<Vector128<float>>
{
    public static int Count => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(ref float source, nint index) => Vector128.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> value, ref float destination, nint index) => value.StoreUnsafe(ref destination, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Splat(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => Vector128.Add(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => Vector128.Subtract(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => Vector128.Multiply(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => Vector128.Divide(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) =>
        Vector128.ConditionalSelect(Vector128.Equals(a, a),
            Vector128.ConditionalSelect(Vector128.Equals(a, b), Vector128.BitwiseAnd(a, b), Vector128.ConditionalSelect(Vector128.GreaterThan(a, b), a, b)), a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) =>
        Vector128.ConditionalSelect(Vector128.Equals(a, a),
            Vector128.ConditionalSelect(Vector128.Equals(a, b), Vector128.BitwiseOr(a, b), Vector128.ConditionalSelect(Vector128.LessThan(a, b), a, b)), a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Abs(Vector128<float> a) => Vector128.AndNot(a, Vector128.Create(-0f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Negate(Vector128<float> a) => Vector128.Xor(a, Vector128.Create(-0f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sqrt(Vector128<float> a) => Vector128.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Floor(Vector128<float> a) => Vector128.Floor(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LessThan(Vector128<float> a, Vector128<float> b) => Vector128.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThan(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Equal(Vector128<float> a, Vector128<float> b) => Vector128.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Select(Vector128<float> mask, Vector128<float> a, Vector128<float> b) => Vector128.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> And(Vector128<float> a, Vector128<float> b) => Vector128.BitwiseAnd(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Or(Vector128<float> a, Vector128<float> b) => Vector128.BitwiseOr(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Pow2(Vector128<float> n) =>
        Vector128.ShiftLeft(Vector128.Add(Vector128.ConvertToInt32(n), Vector128.Create(127)), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Frexp(Vector128<float> x, out Vector128<float> exponent)
    {
        var bits = x.AsInt32();
        exponent = Vector128.ConvertToSingle(Vector128.Subtract(Vector128.ShiftRightLogical(bits, 23), Vector128.Create(126)));
        return Vector128.BitwiseOr(Vector128.BitwiseAnd(bits, Vector128.Create(0x007FFFFF)), Vector128.Create(0x3F000000)).AsSingle();
    }
}

/// <summary>One lane: the scalar target, vector loop tails, float16 (computed in float).</summary>
internal readonly struct FloatLanes1 : IFloatLanes<float>
{
    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(ref float source, nint index) => Unsafe.Add(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float value, ref float destination, nint index) => Unsafe.Add(ref destination, index) = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Splat(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtract(float a, float b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Divide(float a, float b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float a, float b) => float.IsNaN(a) ? a : a == b ? And(a, b) : a > b ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(float a, float b) => float.IsNaN(a) ? a : a == b ? Or(a, b) : a < b ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Abs(float a) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & 0x7FFFFFFF);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Negate(float a) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) ^ int.MinValue);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sqrt(float a) => MathF.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Floor(float a) => MathF.Floor(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LessThan(float a, float b) => a < b ? AllOnes : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GreaterThan(float a, float b) => a > b ? AllOnes : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Equal(float a, float b) => a == b ? AllOnes : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Select(float mask, float a, float b) => BitConverter.SingleToInt32Bits(mask) != 0 ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float And(float a, float b) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & BitConverter.SingleToInt32Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Or(float a, float b) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) | BitConverter.SingleToInt32Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Pow2(float n) => BitConverter.Int32BitsToSingle(unchecked(((int)n + 127) << 23));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Frexp(float x, out float exponent)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        exponent = unchecked((int)((uint)bits >> 23) - 126);
        return BitConverter.Int32BitsToSingle((bits & 0x007FFFFF) | 0x3F000000);
    }

    private static float AllOnes => BitConverter.Int32BitsToSingle(-1);
}

/// <summary>
/// Float32 elementary functions on <see cref="IFloatLanes{TV}"/> (relative error within a few ulps,
/// NaN propagating), and their float64 forms (scalar, as the engine computes doubles).
/// </summary>
internal static class FloatMath
{
    /// <summary>eˣ: Cody–Waite reduction by ln 2, a degree-7 polynomial, and 2ⁿ applied in two halves so subnormal results and overflow come out right.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct
    {
        // Clamped (NaN passes through and is restored at the end): below −104 the result rounds to 0, above 88.8 to ∞.
        var lo = TL.Splat(-104f);
        var hi = TL.Splat(88.8f);
        var xc = TL.Select(TL.LessThan(x, lo), lo, x);
        xc = TL.Select(TL.GreaterThan(xc, hi), hi, xc);
        var n = TL.Floor(TL.Add(TL.Multiply(xc, TL.Splat(1.44269504088896341f)), TL.Splat(0.5f)));
        var r = TL.Subtract(TL.Subtract(xc, TL.Multiply(n, TL.Splat(0.693359375f))), TL.Multiply(n, TL.Splat(-2.12194440e-4f)));
        var p = TL.Splat(1.9875691500E-4f);
        p = TL.Add(TL.Multiply(p, r), TL.Splat(1.3981999507E-3f));
        p = TL.Add(TL.Multiply(p, r), TL.Splat(8.3334519073E-3f));
        p = TL.Add(TL.Multiply(p, r), TL.Splat(4.1665795894E-2f));
        p = TL.Add(TL.Multiply(p, r), TL.Splat(1.6666665459E-1f));
        p = TL.Add(TL.Multiply(p, r), TL.Splat(5.0000001201E-1f));
        p = TL.Add(TL.Add(TL.Multiply(TL.Multiply(p, r), r), r), TL.Splat(1f));
        var half = TL.Floor(TL.Multiply(n, TL.Splat(0.5f)));
        var e = TL.Multiply(TL.Multiply(p, TL.Pow2(half)), TL.Pow2(TL.Subtract(n, half)));
        return TL.Select(TL.Equal(x, x), e, x);
    }

    /// <summary>eˣ − 1, accurate relative to the result near 0 (Taylor series below |x| = 0.35).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpM1<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct
    {
        var p = TL.Splat(1f / 40320f);
        p = TL.Add(TL.Multiply(p, x), TL.Splat(1f / 5040f));
        p = TL.Add(TL.Multiply(p, x), TL.Splat(1f / 720f));
        p = TL.Add(TL.Multiply(p, x), TL.Splat(1f / 120f));
        p = TL.Add(TL.Multiply(p, x), TL.Splat(1f / 24f));
        p = TL.Add(TL.Multiply(p, x), TL.Splat(1f / 6f));
        p = TL.Add(TL.Multiply(p, x), TL.Splat(0.5f));
        var small = TL.Add(TL.Multiply(TL.Multiply(p, x), x), x);
        var large = TL.Subtract(Exp<TL, TV>(x), TL.Splat(1f));
        return TL.Select(TL.LessThan(TL.Abs(x), TL.Splat(0.35f)), small, large);
    }

    /// <summary>ln x (−∞ at 0, NaN below 0, subnormals handled).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Log<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct
    {
        var subnormal = TL.LessThan(x, TL.Splat(1.17549435E-38f));
        var xs = TL.Select(subnormal, TL.Multiply(x, TL.Splat(8388608f)), x);
        var m = TL.Frexp(xs, out var e);
        e = TL.Select(subnormal, TL.Subtract(e, TL.Splat(23f)), e);
        var below = TL.LessThan(m, TL.Splat(0.707106781186547524f));
        e = TL.Select(below, TL.Subtract(e, TL.Splat(1f)), e);
        var t = TL.Subtract(TL.Select(below, TL.Add(m, m), m), TL.Splat(1f));
        var z = TL.Multiply(t, t);
        var y = TL.Splat(7.0376836292E-2f);
        y = TL.Add(TL.Multiply(y, t), TL.Splat(-1.1514610310E-1f));
        y = TL.Add(TL.Multiply(y, t), TL.Splat(1.1676998740E-1f));
        y = TL.Add(TL.Multiply(y, t), TL.Splat(-1.2420140846E-1f));
        y = TL.Add(TL.Multiply(y, t), TL.Splat(1.4249322787E-1f));
        y = TL.Add(TL.Multiply(y, t), TL.Splat(-1.6668057665E-1f));
        y = TL.Add(TL.Multiply(y, t), TL.Splat(2.0000714765E-1f));
        y = TL.Add(TL.Multiply(y, t), TL.Splat(-2.4999993993E-1f));
        y = TL.Add(TL.Multiply(y, t), TL.Splat(3.3333331174E-1f));
        y = TL.Multiply(TL.Multiply(y, t), z);
        y = TL.Add(y, TL.Multiply(e, TL.Splat(-2.12194440e-4f)));
        y = TL.Subtract(y, TL.Multiply(z, TL.Splat(0.5f)));
        var r = TL.Add(TL.Add(t, y), TL.Multiply(e, TL.Splat(0.693359375f)));
        r = TL.Select(TL.Equal(x, TL.Splat(float.PositiveInfinity)), x, r);
        r = TL.Select(TL.Equal(x, TL.Splat(0f)), TL.Splat(float.NegativeInfinity), r);
        return TL.Select(TL.LessThan(x, TL.Splat(0f)), TL.Splat(float.NaN), TL.Select(TL.Equal(x, x), r, x));
    }

    /// <summary>1 / (1 + e⁻ˣ).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct =>
        TL.Divide(TL.Splat(1f), TL.Add(TL.Splat(1f), Exp<TL, TV>(TL.Negate(x))));

    /// <summary>tanh x = −m / (2 + m) with m = expm1(−2|x|), signed; accurate relative to the result near 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct
    {
        var m = ExpM1<TL, TV>(TL.Multiply(TL.Abs(x), TL.Splat(-2f)));
        var t = TL.Divide(TL.Negate(m), TL.Add(TL.Splat(2f), m));
        return TL.Or(t, TL.And(x, TL.Splat(-0f)));
    }

    /// <summary>ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|)), the logarithm by Goldberg's log1p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Softplus<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct
    {
        var z = Exp<TL, TV>(TL.Negate(TL.Abs(x)));
        var u = TL.Add(TL.Splat(1f), z);
        var log1p = TL.Select(TL.Equal(u, TL.Splat(1f)), z, TL.Divide(TL.Multiply(Log<TL, TV>(u), z), TL.Subtract(u, TL.Splat(1f))));
        return TL.Add(TL.Max(x, TL.Splat(0f)), log1p);
    }

    // erf(x) = x·P(x²) below |x| = 0.875, 1 − e^(−x²)·Q(|x|) above (the engine's fit); ±1 beyond 4.
    private const float ErfSplit = 0.875f;

    /// <summary>erf (relative error about 2e-7; NaN propagates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Erf<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct
    {
        var ax = TL.Min(TL.Abs(x), TL.Splat(4f));
        var t = TL.Multiply(ax, ax);
        var s = TL.Splat(8.73762764967978e-05f);
        s = TL.Add(TL.Multiply(s, t), TL.Splat(-0.0008225873461924493f));
        s = TL.Add(TL.Multiply(s, t), TL.Splat(0.005208075512200594f));
        s = TL.Add(TL.Multiply(s, t), TL.Splat(-0.026862144470214844f));
        s = TL.Add(TL.Multiply(s, t), TL.Splat(0.11283744126558304f));
        s = TL.Add(TL.Multiply(s, t), TL.Splat(-0.37612637877464294f));
        s = TL.Add(TL.Multiply(s, t), TL.Splat(1.128379225730896f));
        var small = TL.Multiply(ax, s);
        var q = TL.Splat(2.0897687136312015e-06f);
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(-5.881453398615122e-05f));
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(0.000747655751183629f));
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(-0.005690836813300848f));
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(0.02901860699057579f));
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(-0.10524611920118332f));
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(0.28190305829048157f));
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(-0.5726643800735474f));
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(0.8987255096435547f));
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(-1.093801736831665f));
        q = TL.Add(TL.Multiply(q, ax), TL.Splat(0.9946485161781311f));
        var large = TL.Subtract(TL.Splat(1f), TL.Multiply(Exp<TL, TV>(TL.Negate(t)), q));
        var r = TL.Select(TL.LessThan(ax, TL.Splat(ErfSplit)), small, large);
        r = TL.Or(r, TL.And(x, TL.Splat(-0f)));
        return TL.Select(TL.Equal(x, x), r, x);
    }

    /// <summary>ln(1 + eˣ) in double, as the engine computes it.</summary>
    public static double Softplus(double x)
    {
        double z = Math.Exp(-Math.Abs(x)), u = 1 + z;
        return Math.Max(x, 0) + (u == 1 ? z : Math.Log(u) * z / (u - 1));
    }

    /// <summary>erf in double (relative error about 1e-15): a positive series below 2.5, a continued fraction above.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax >= 6) return Math.CopySign(1, x);
        double r;
        if (ax < 2.5)
        {
            double x2 = ax * ax, term = ax, sum = ax;
            for (int n = 1; term > sum * 1e-17; n++)
            {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
            }
            r = 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
        }
        else
        {
            double f = 0;
            for (int k = 60; k >= 1; k--) f = k / 2.0 / (ax + f);
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        }
        return Math.CopySign(r, x);
    }
}

/// <summary>
/// Element type conversions with the engine's Cast rules: floats to integers truncate toward zero
/// and saturate (NaN becomes 0), integers narrow by wrapping, anything to bool is "not zero", bool
/// is 0 or 1, and float16 rounds to nearest even (through <see cref="Half"/>'s own conversions).
/// </summary>
internal static class Conversions
{
    /// <summary>y = x converted element by element; x and y must not overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Convert<TFrom, TTo>(ReadOnlySpan<TFrom> x, Span<TTo> y) where TFrom : unmanaged where TTo : unmanaged
    {
        Guard.Length(x.Length, y.Length, "Cast X");
        x = x.Slice(0, y.Length);
        if (typeof(TFrom) == typeof(TTo)) MemoryMarshal.Cast<TFrom, TTo>(x).CopyTo(y);
        else if (typeof(TFrom) == typeof(bool) || typeof(TFrom) == typeof(byte)) From(MemoryMarshal.Cast<TFrom, byte>(x), y);
        else if (typeof(TFrom) == typeof(float)) From(MemoryMarshal.Cast<TFrom, float>(x), y);
        else if (typeof(TFrom) == typeof(double)) From(MemoryMarshal.Cast<TFrom, double>(x), y);
        else if (typeof(TFrom) == typeof(Half)) From(MemoryMarshal.Cast<TFrom, Half>(x), y);
        else if (typeof(TFrom) == typeof(sbyte)) From(MemoryMarshal.Cast<TFrom, sbyte>(x), y);
        else if (typeof(TFrom) == typeof(short)) From(MemoryMarshal.Cast<TFrom, short>(x), y);
        else if (typeof(TFrom) == typeof(ushort)) From(MemoryMarshal.Cast<TFrom, ushort>(x), y);
        else if (typeof(TFrom) == typeof(int)) From(MemoryMarshal.Cast<TFrom, int>(x), y);
        else if (typeof(TFrom) == typeof(uint)) From(MemoryMarshal.Cast<TFrom, uint>(x), y);
        else if (typeof(TFrom) == typeof(long)) From(MemoryMarshal.Cast<TFrom, long>(x), y);
        else if (typeof(TFrom) == typeof(ulong)) From(MemoryMarshal.Cast<TFrom, ulong>(x), y);
        else throw new NotSupportedException("CompressBuild runtime: Cast from " + typeof(TFrom).Name + " is not supported.");
    }

    private static void From<TF, TTo>(ReadOnlySpan<TF> x, Span<TTo> y) where TF : unmanaged, INumber<TF> where TTo : unmanaged
    {
        if (typeof(TTo) == typeof(bool))
        {
            var b = MemoryMarshal.Cast<TTo, byte>(y);
            for (int i = 0; i < b.Length; i++) b[i] = TF.IsZero(x[i]) ? (byte)0 : (byte)1;
        }
        else if (typeof(TTo) == typeof(float)) To(x, MemoryMarshal.Cast<TTo, float>(y));
        else if (typeof(TTo) == typeof(double)) To(x, MemoryMarshal.Cast<TTo, double>(y));
        else if (typeof(TTo) == typeof(Half)) To(x, MemoryMarshal.Cast<TTo, Half>(y));
        else if (typeof(TTo) == typeof(sbyte)) To(x, MemoryMarshal.Cast<TTo, sbyte>(y));
        else if (typeof(TTo) == typeof(byte)) To(x, MemoryMarshal.Cast<TTo, byte>(y));
        else if (typeof(TTo) == typeof(short)) To(x, MemoryMarshal.Cast<TTo, short>(y));
        else if (typeof(TTo) == typeof(ushort)) To(x, MemoryMarshal.Cast<TTo, ushort>(y));
        else if (typeof(TTo) == typeof(int)) To(x, MemoryMarshal.Cast<TTo, int>(y));
        else if (typeof(TTo) == typeof(uint)) To(x, MemoryMarshal.Cast<TTo, uint>(y));
        else if (typeof(TTo) == typeof(long)) To(x, MemoryMarshal.Cast<TTo, long>(y));
        else if (typeof(TTo) == typeof(ulong)) To(x, MemoryMarshal.Cast<TTo, ulong>(y));
        else throw new NotSupportedException("CompressBuild runtime: Cast to " + typeof(TTo).Name + " is not supported.");
    }

    private static void To<TF, TT>(ReadOnlySpan<TF> x, Span<TT> y)
        where TF : unmanaged, INumber<TF> where TT : unmanaged, INumber<TT>, IMinMaxValue<TT>
    {
        if (IsFloat<TF>() && !IsFloat<TT>())
        {
            for (int i = 0; i < y.Length; i++) y[i] = FromDouble<TT>(double.CreateTruncating(x[i]));
        }
        else
        {
            for (int i = 0; i < y.Length; i++) y[i] = TT.CreateTruncating(x[i]);
        }
    }

    /// <summary>True for float, double and float16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsFloat<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half);

    /// <summary>A double as <typeparamref name="T"/>: rounded for float types; truncated toward zero and saturated for integers (NaN → 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromDouble<T>(double d) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        if (IsFloat<T>()) return T.CreateTruncating(d);
        if (double.IsNaN(d)) return T.Zero;
        if (d >= double.CreateTruncating(T.MaxValue)) return T.MaxValue;
        if (d <= double.CreateTruncating(T.MinValue)) return T.MinValue;
        return T.CreateTruncating(Math.Truncate(d));
    }
}
