namespace CompressBuild.Runtime;

using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

/// <summary>Compile-time facts of a Softmax step: <see cref="Outer"/> × <see cref="Length"/> × <see cref="Inner"/>, normalized along the middle axis.</summary>
internal interface ISoftmaxShape
{
    /// <summary>Product of the axes before the normalized ones.</summary>
    static abstract int Outer { get; }

    /// <summary>Elements normalized together (opset &lt; 13: the product of the coerced trailing axes).</summary>
    static abstract int Length { get; }

    /// <summary>Product of the axes after the normalized axis (1 for opset &lt; 13 and for the last axis).</summary>
    static abstract int Inner { get; }
}

/// <summary>Compile-time parameters of an element-wise function (attributes; 0 where unused).</summary>
internal interface IUnaryParams
{
    /// <summary>alpha (Elu, Selu, LeakyRelu, HardSigmoid).</summary>
    static abstract float Alpha { get; }

    /// <summary>beta (HardSigmoid).</summary>
    static abstract float Beta { get; }

    /// <summary>gamma (Selu).</summary>
    static abstract float Gamma { get; }
}

/// <summary>No parameters.</summary>
internal readonly struct NoParams : IUnaryParams
{
    public static float Alpha => 0f;
    public static float Beta => 0f;
    public static float Gamma => 0f;
}

/// <summary>
/// An element-wise function of the float types: on float32 lanes (float16 is computed in float32 and
/// rounded once) and in double.
/// </summary>
internal interface IFloatFunction
{
    /// <summary>On float lanes.</summary>
    static abstract TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct;

    /// <summary>In double.</summary>
    static abstract double Apply<TP>(double x) where TP : struct, IUnaryParams;
}

/// <summary>eˣ.</summary>
internal readonly struct ExpFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct => FloatMath.Exp<TL, TV>(x);

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => Math.Exp(x);
}

/// <summary>ln x.</summary>
internal readonly struct LogFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct => FloatMath.Log<TL, TV>(x);

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => Math.Log(x);
}

/// <summary>√x.</summary>
internal readonly struct SqrtFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct => TL.Sqrt(x);

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => Math.Sqrt(x);
}

/// <summary>1 / x.</summary>
internal readonly struct ReciprocalFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct => TL.Divide(TL.Splat(1f), x);

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => 1d / x;
}

/// <summary>1 / (1 + e⁻ˣ).</summary>
internal readonly struct SigmoidFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct => FloatMath.Sigmoid<TL, TV>(x);

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => 1d / (1d + Math.Exp(-x));
}

/// <summary>tanh x.</summary>
internal readonly struct TanhFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct => FloatMath.Tanh<TL, TV>(x);

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => Math.Tanh(x);
}

/// <summary>ln(1 + eˣ).</summary>
internal readonly struct SoftplusFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct => FloatMath.Softplus<TL, TV>(x);

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => FloatMath.Softplus(x);
}

/// <summary>erf x (integer inputs are computed in double and converted back).</summary>
internal readonly struct ErfFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct => FloatMath.Erf<TL, TV>(x);

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => FloatMath.Erf(x);
}

/// <summary>x &gt; 0 ? x : alpha·(eˣ − 1).</summary>
internal readonly struct EluFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct =>
        TL.Select(TL.GreaterThan(x, TL.Splat(0f)), x, TL.Multiply(TL.Splat(TP.Alpha), FloatMath.ExpM1<TL, TV>(x)));

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => x > 0 ? x : TP.Alpha * (Math.Exp(x) - 1);
}

/// <summary>gamma·(x &gt; 0 ? x : alpha·(eˣ − 1)).</summary>
internal readonly struct SeluFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct =>
        TL.Multiply(EluFunction.Apply<TP, TL, TV>(x), TL.Splat(TP.Gamma));

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => TP.Gamma * (x > 0 ? x : TP.Alpha * (Math.Exp(x) - 1));
}

/// <summary>x &lt; 0 ? alpha·x : x.</summary>
internal readonly struct LeakyReluFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct =>
        TL.Select(TL.LessThan(x, TL.Splat(0f)), TL.Multiply(x, TL.Splat(TP.Alpha)), x);

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => x < 0 ? TP.Alpha * x : x;
}

/// <summary>max(0, min(1, alpha·x + beta)).</summary>
internal readonly struct HardSigmoidFunction : IFloatFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct =>
        TL.Max(TL.Splat(0f), TL.Min(TL.Splat(1f), TL.Add(TL.Multiply(x, TL.Splat(TP.Alpha)), TL.Splat(TP.Beta))));

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => Math.Max(0, Math.Min(1, TP.Alpha * x + TP.Beta));
}

/// <summary>x · max(0, min(1, x/6 + 1/2)) (HardSwish; alpha = 1/6 and beta = 1/2 as float constants, as the engine uses them).</summary>
internal readonly struct HardSwishFunction : IFloatFunction
{
    private const float Alpha = 1f / 6f;
    private const float Beta = 0.5f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TP, TL, TV>(TV x) where TP : struct, IUnaryParams where TL : struct, IFloatLanes<TV> where TV : struct =>
        TL.Multiply(x, TL.Max(TL.Splat(0f), TL.Min(TL.Splat(1f), TL.Add(TL.Multiply(x, TL.Splat(Alpha)), TL.Splat(Beta)))));

    public static double Apply<TP>(double x) where TP : struct, IUnaryParams => x * Math.Max(0, Math.Min(1, Alpha * x + Beta));
}

/// <summary>An element-wise function exact on every numeric type (Abs, Neg, Relu).</summary>
internal interface INumericFunction
{
    /// <summary>On float lanes.</summary>
    static abstract TV Apply<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct;

    /// <summary>On one element of any numeric type (integers wrap).</summary>
    static abstract T Apply<T>(T x) where T : unmanaged, INumber<T>;
}

/// <summary>|x| (signed integer MinValue wraps to itself).</summary>
internal readonly struct AbsFunction : INumericFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x) where T : unmanaged, INumber<T> =>
        Conversions.IsFloat<T>() ? T.Abs(x) : T.IsNegative(x) ? unchecked(T.Zero - x) : x;
}

/// <summary>−x (signed integer MinValue wraps to itself).</summary>
internal readonly struct NegFunction : INumericFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Negate(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x) where T : unmanaged, INumber<T> => Conversions.IsFloat<T>() ? -x : unchecked(T.Zero - x);
}

/// <summary>max(x, 0), NaN propagating.</summary>
internal readonly struct ReluFunction : INumericFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV x) where TL : struct, IFloatLanes<TV> where TV : struct => TL.Max(x, TL.Splat(0f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x) where T : unmanaged, INumber<T> => T.Max(x, T.Zero);
}

/// <summary>Compile-time facts of a Clip step.</summary>
internal interface IClipShape
{
    /// <summary>A lower bound applies.</summary>
    static abstract bool HasMin { get; }

    /// <summary>An upper bound applies.</summary>
    static abstract bool HasMax { get; }

    /// <summary>The lower bound when no min input is given (opset &lt; 11 attribute, converted saturating).</summary>
    static abstract float Min { get; }

    /// <summary>The upper bound when no max input is given.</summary>
    static abstract float Max { get; }
}

/// <summary>Stand-alone activations (Relu not fused into a layer), element-wise functions, Clip and Softmax.</summary>
internal static class Activations
{
    /// <summary>
    /// y = f(x) for a float-type function: float32 on SIMD lanes, float16 in float32 rounded once,
    /// double in double, integers (Erf) in double converted back. x and y may be the same memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unary<TP, TF, T, TSimd, TVec>(ReadOnlySpan<T> x, Span<T> y)
        where TP : struct, IUnaryParams where TF : struct, IFloatFunction where T : unmanaged, INumber<T>, IMinMaxValue<T>
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(x.Length, y.Length, "X");
        int n = y.Length;
        if (typeof(T) == typeof(float))
        {
            ref float xf = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(x));
            ref float yf = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(y));
            if (typeof(TVec) == typeof(Vector256<float>) || typeof(TVec) == typeof(Vector512<float>)) MapFloat<TP, TF, FloatLanes256, Vector256<float>>(ref xf, ref yf, n);
            else if (typeof(TVec) == typeof(Vector128<float>)) MapFloat<TP, TF, FloatLanes128, Vector128<float>>(ref xf, ref yf, n);
            else MapFloat<TP, TF, FloatLanes1, float>(ref xf, ref yf, n);
        }
        else if (typeof(T) == typeof(Half))
        {
            for (int i = 0; i < n; i++) y[i] = T.CreateTruncating(TF.Apply<TP, FloatLanes1, float>(float.CreateTruncating(x[i])));
        }
        else
        {
            for (int i = 0; i < n; i++) y[i] = Conversions.FromDouble<T>(TF.Apply<TP>(double.CreateTruncating(x[i])));
        }
    }

    private static void MapFloat<TP, TF, TL, TV>(ref float x, ref float y, int n)
        where TP : struct, IUnaryParams where TF : struct, IFloatFunction where TL : struct, IFloatLanes<TV> where TV : struct
    {
        int i = 0;
        for (; i <= n - TL.Count; i += TL.Count) TL.Store(TF.Apply<TP, TL, TV>(TL.Load(ref x, i)), ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = TF.Apply<TP, FloatLanes1, float>(Unsafe.Add(ref x, i));
    }

    /// <summary>y = f(x) for a function exact on every numeric type (Abs, Neg, Relu); x and y may be the same memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Numeric<TF, T, TSimd, TVec>(ReadOnlySpan<T> x, Span<T> y)
        where TF : struct, INumericFunction where T : unmanaged, INumber<T> where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(x.Length, y.Length, "X");
        int n = y.Length;
        if (typeof(T) == typeof(float))
        {
            ref float xf = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(x));
            ref float yf = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(y));
            if (typeof(TVec) == typeof(Vector256<float>) || typeof(TVec) == typeof(Vector512<float>)) MapNumeric<TF, FloatLanes256, Vector256<float>>(ref xf, ref yf, n);
            else if (typeof(TVec) == typeof(Vector128<float>)) MapNumeric<TF, FloatLanes128, Vector128<float>>(ref xf, ref yf, n);
            else MapNumeric<TF, FloatLanes1, float>(ref xf, ref yf, n);
            return;
        }
        for (int i = 0; i < n; i++) y[i] = TF.Apply(x[i]);
    }

    private static void MapNumeric<TF, TL, TV>(ref float x, ref float y, int n)
        where TF : struct, INumericFunction where TL : struct, IFloatLanes<TV> where TV : struct
    {
        int i = 0;
        for (; i <= n - TL.Count; i += TL.Count) TL.Store(TF.Apply<TL, TV>(TL.Load(ref x, i)), ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = TF.Apply<FloatLanes1, float>(Unsafe.Add(ref x, i));
    }

    /// <summary>
    /// Clip: y = min(max(x, lo), hi) (max first, so lo &gt; hi gives hi everywhere; NaN stays NaN).
    /// Each bound is element 0 of its span when given, else the shape's attribute value; x and y may
    /// be the same memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Clip<TShape, T, TSimd, TVec>(ReadOnlySpan<T> x, ReadOnlySpan<T> min, ReadOnlySpan<T> max, Span<T> y)
        where TShape : struct, IClipShape where T : unmanaged, INumber<T> where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(x.Length, y.Length, "X");
        T lo = min.Length > 0 ? min[0] : T.CreateSaturating(TShape.Min);
        T hi = max.Length > 0 ? max[0] : T.CreateSaturating(TShape.Max);
        int n = y.Length;
        if (typeof(T) == typeof(float))
        {
            ref float xf = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(x));
            ref float yf = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(y));
            float l = Unsafe.As<T, float>(ref lo), h = Unsafe.As<T, float>(ref hi);
            if (typeof(TVec) == typeof(Vector256<float>) || typeof(TVec) == typeof(Vector512<float>)) ClipFloat<TShape, FloatLanes256, Vector256<float>>(ref xf, ref yf, n, l, h);
            else if (typeof(TVec) == typeof(Vector128<float>)) ClipFloat<TShape, FloatLanes128, Vector128<float>>(ref xf, ref yf, n, l, h);
            else ClipFloat<TShape, FloatLanes1, float>(ref xf, ref yf, n, l, h);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            T v = x[i];
            if (TShape.HasMin) v = T.Max(v, lo);
            if (TShape.HasMax) v = T.Min(v, hi);
            y[i] = v;
        }
    }

    private static void ClipFloat<TShape, TL, TV>(ref float x, ref float y, int n, float lo, float hi)
        where TShape : struct, IClipShape where TL : struct, IFloatLanes<TV> where TV : struct
    {
        TV vl = TL.Splat(lo), vh = TL.Splat(hi);
        int i = 0;
        for (; i <= n - TL.Count; i += TL.Count)
        {
            TV v = TL.Load(ref x, i);
            if (TShape.HasMin) v = TL.Max(v, vl);
            if (TShape.HasMax) v = TL.Min(v, vh);
            TL.Store(v, ref y, i);
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref x, i);
            if (TShape.HasMin) v = FloatLanes1.Max(v, lo);
            if (TShape.HasMax) v = FloatLanes1.Min(v, hi);
            Unsafe.Add(ref y, i) = v;
        }
    }

    /// <summary>
    /// Dropout at inference: throws when the step would train (training_mode true with a nonzero
    /// ratio), which generated predictors do not reproduce (the engine draws a random mask).
    /// </summary>
    public static void RequireInferenceDropout<TR>(ReadOnlySpan<bool> trainingMode, ReadOnlySpan<TR> ratio, float defaultRatio) where TR : unmanaged, INumber<TR>
    {
        if (trainingMode.Length == 0 || !trainingMode[0]) return;
        double r = ratio.Length > 0 ? double.CreateTruncating(ratio[0]) : defaultRatio;
        if (r != 0) ThrowTrainingDropout();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTrainingDropout() =>
        throw new NotSupportedException("CompressBuild runtime: Dropout with training_mode = true and a nonzero ratio draws a random mask; generated predictors run inference only.");

    /// <summary>y = max(x, 0) over <paramref name="y"/>'s length; x and y may be the same memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu<TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(x.Length, y.Length, "Relu X");
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        int n = y.Length, i = 0;
        for (; i <= n - TSimd.Count; i += TSimd.Count) TSimd.Store(TSimd.Max(TSimd.Load(ref x0, i), TSimd.Zero), ref y0, i);
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref x0, i);
            Unsafe.Add(ref y0, i) = SimdScalar.Max(v, 0f);
        }
    }

    /// <summary>Softmax: exp(x - max) / sum along the normalized axis; x and y may be the same memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax<TShape, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, ISoftmaxShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        long total = (long)TShape.Outer * TShape.Length * TShape.Inner;
        Guard.Length(x.Length, total, "Softmax X");
        Guard.Length(y.Length, total, "Softmax Y");
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int o = 0; o < TShape.Outer; o++)
            for (int j = 0; j < TShape.Inner; j++)
            {
                nint start = (nint)o * TShape.Length * TShape.Inner + j;
                ref float xs = ref Unsafe.Add(ref x0, start);
                ref float ys = ref Unsafe.Add(ref y0, start);
                float max = float.NegativeInfinity;
                int i = 0;
                if (TShape.Inner == 1)
                {
                    TVec m = TSimd.Splat(float.NegativeInfinity);
                    for (; i <= TShape.Length - TSimd.Count; i += TSimd.Count) m = TSimd.Max(m, TSimd.Load(ref xs, i));
                    max = TSimd.MaxAcross(m);
                }
                for (; i < TShape.Length; i++) max = SimdScalar.Max(max, Unsafe.Add(ref xs, (nint)i * TShape.Inner));
                float sum = 0f;
                for (i = 0; i < TShape.Length; i++)
                {
                    float e = MathF.Exp(Unsafe.Add(ref xs, (nint)i * TShape.Inner) - max);
                    Unsafe.Add(ref ys, (nint)i * TShape.Inner) = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (i = 0; i < TShape.Length; i++) Unsafe.Add(ref ys, (nint)i * TShape.Inner) *= inv;
            }
    }
}
