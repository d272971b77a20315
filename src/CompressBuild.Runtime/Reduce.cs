namespace CompressBuild.Runtime;

using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

/// <summary>
/// Compile-time facts of a reduction (ReduceSum, ReduceMean, ReduceMax). The generator drops unit
/// axes and merges neighbouring axes of the same kind (reduced or kept) into groups; x is read once
/// in memory order as rows of the innermost group, and each row is folded into y.
/// </summary>
internal interface IReduceShape
{
    /// <summary>Elements of x.</summary>
    static abstract int Input { get; }

    /// <summary>Elements of y.</summary>
    static abstract int Output { get; }

    /// <summary>Elements of the innermost group (a row of x).</summary>
    static abstract int Inner { get; }

    /// <summary>The innermost group is reduced (a row folds into one y element) rather than kept (a row folds into a y row).</summary>
    static abstract bool InnerReduced { get; }

    /// <summary>Elements folded into each y element (ReduceMean's divisor; 0 for an empty set).</summary>
    static abstract int Count { get; }

    /// <summary>The groups outside the innermost, outermost first: (size, y stride) pairs, y stride 0 for reduced groups.</summary>
    static abstract ReadOnlySpan<int> Outer { get; }
}

/// <summary>Compile-time facts of an ArgMax, LogSoftmax or Softmax step: <see cref="Outer"/> × <see cref="Length"/> × <see cref="Inner"/>, along the middle axis.</summary>
internal interface IAxisShape
{
    /// <summary>Product of the axes before the axis.</summary>
    static abstract int Outer { get; }

    /// <summary>Elements along the axis (softmax before opset 13: the product of the coerced trailing axes).</summary>
    static abstract int Length { get; }

    /// <summary>Product of the axes after the axis.</summary>
    static abstract int Inner { get; }

    /// <summary>ArgMax: the last of tied maxima wins (select_last_index).</summary>
    static abstract bool SelectLast { get; }
}

/// <summary>How a reduction folds elements.</summary>
internal interface IReduceOp<T>
{
    /// <summary>The result over an empty set.</summary>
    static abstract T Identity { get; }

    /// <summary>Folds one element into an accumulator.</summary>
    static abstract T Apply(T acc, T x);
}

/// <summary>How a float reduction folds vectors.</summary>
internal interface IFloatReduceOp : IReduceOp<float>
{
    /// <summary>Lane-wise fold.</summary>
    static abstract TVec Apply<TSimd, TVec>(TVec acc, TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct;

    /// <summary>Fold of the lanes.</summary>
    static abstract float Across<TSimd, TVec>(TVec v) where TSimd : struct, ISimd<TVec> where TVec : struct;
}

/// <summary>Sum (0 over an empty set).</summary>
internal readonly struct SumOp<T> : IReduceOp<T> where T : INumber<T>
{
    public static T Identity => T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply(T acc, T x) => acc + x;
}

/// <summary>Maximum (-inf, or the type's minimum, over an empty set); NaN wins.</summary>
internal readonly struct MaxOp<T> : IReduceOp<T> where T : INumber<T>
{
    public static T Identity => T.CreateSaturating(double.NegativeInfinity);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply(T acc, T x) => T.IsNaN(acc) ? acc : T.IsNaN(x) || x > acc ? x : acc;
}

/// <summary>Float sum.</summary>
internal readonly struct FloatSumOp : IFloatReduceOp
{
    public static float Identity => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float acc, float x) => acc + x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TSimd, TVec>(TVec acc, TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Add(acc, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Across<TSimd, TVec>(TVec v) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Sum(v);
}

/// <summary>Float maximum; NaN wins.</summary>
internal readonly struct FloatMaxOp : IFloatReduceOp
{
    public static float Identity => float.NegativeInfinity;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float acc, float x) => FloatVectors.Max(acc, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TSimd, TVec>(TVec acc, TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct => FloatVectors.Max<TSimd, TVec>(acc, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Across<TSimd, TVec>(TVec v) where TSimd : struct, ISimd<TVec> where TVec : struct => FloatVectors.MaxAcross<TSimd, TVec>(v);
}

/// <summary>
/// Float vector helpers the <see cref="ISimd{TVec}"/> abstraction lacks: a NaN-propagating maximum
/// (IEEE maximum, as the engine's reductions) and exp. Each width is dispatched on the vector type,
/// which the JIT folds.
/// </summary>
internal static class FloatVectors
{
    /// <summary>max(a, b); NaN when either is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float a, float b) => float.IsNaN(a) ? a : float.IsNaN(b) || b > a ? b : a;

    /// <summary>Lane-wise max(a, b); NaN where either is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Max<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector128<float>))
        {
            var x = Unsafe.As<TVec, Vector128<float>>(ref a);
            var y = Unsafe.As<TVec, Vector128<float>>(ref b);
            var r = Vector128.ConditionalSelect(Vector128.Equals(x, x), Vector128.ConditionalSelect(Vector128.Equals(y, y), Vector128.Max(x, y), y), x);
            return Unsafe.As<Vector128<float>, TVec>(ref r);
        }
        if (typeof(TVec) == typeof(Vector256<float>))
        {
            var x = Unsafe.As<TVec, Vector256<float>>(ref a);
            var y = Unsafe.As<TVec, Vector256<float>>(ref b);
            var r = Vector256.ConditionalSelect(Vector256.Equals(x, x), Vector256.ConditionalSelect(Vector256.Equals(y, y), Vector256.Max(x, y), y), x);
            return Unsafe.As<Vector256<float>, TVec>(ref r);
        }
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            var x = Unsafe.As<TVec, Vector512<float>>(ref a);
            var y = Unsafe.As<TVec, Vector512<float>>(ref b);
            var r = Vector512.ConditionalSelect(Vector512.Equals(x, x), Vector512.ConditionalSelect(Vector512.Equals(y, y), Vector512.Max(x, y), y), x);
            return Unsafe.As<Vector512<float>, TVec>(ref r);
        }
        if (typeof(TVec) == typeof(float))
        {
            float r = Max(Unsafe.As<TVec, float>(ref a), Unsafe.As<TVec, float>(ref b));
            return Unsafe.As<float, TVec>(ref r);
        }
        throw new NotSupportedException();
    }

    /// <summary>Maximum of the lanes; NaN when any lane is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross<TSimd, TVec>(TVec v) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (typeof(TVec) == typeof(float)) return Unsafe.As<TVec, float>(ref v);
        float m = float.NegativeInfinity;
        for (int i = 0; i < TSimd.Count; i++) m = Max(m, Lane(ref v, i));
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Lane<TVec>(ref TVec v, int i) where TVec : struct => Unsafe.Add(ref Unsafe.As<TVec, float>(ref v), i);

    /// <summary>
    /// Lane-wise e^x (Cephes single-precision polynomial, about 1 ulp) for x ≤ 88; results below
    /// 2^-126 are flushed to 2^-126. Softmax-family kernels only take exp of x − max ≤ 0 and sum it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Exp<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector128<float>))
        {
            var r = Exp128(Unsafe.As<TVec, Vector128<float>>(ref x));
            return Unsafe.As<Vector128<float>, TVec>(ref r);
        }
        if (typeof(TVec) == typeof(Vector256<float>))
        {
            var r = Exp256(Unsafe.As<TVec, Vector256<float>>(ref x));
            return Unsafe.As<Vector256<float>, TVec>(ref r);
        }
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            var v = Unsafe.As<TVec, Vector512<float>>(ref x);
            var r = Vector512.Create(Exp256(v.GetLower()), Exp256(v.GetUpper()));
            return Unsafe.As<Vector512<float>, TVec>(ref r);
        }
        if (typeof(TVec) == typeof(float))
        {
            float r = MathF.Exp(Unsafe.As<TVec, float>(ref x));
            return Unsafe.As<float, TVec>(ref r);
        }
        throw new NotSupportedException();
    }

    private const float ExpLow = -87.33654f, ExpHigh = 88f, Log2E = 1.44269504088896341f, Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;
    private const float Magic = 12582912f; // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Exp128(Vector128<float> x)
    {
        var nan = ~Vector128.Equals(x, x);
        var c = Vector128.Min(Vector128.Max(x, Vector128.Create(ExpLow)), Vector128.Create(ExpHigh));
        var t = c * Vector128.Create(Log2E) + Vector128.Create(Magic);
        var n = t - Vector128.Create(Magic);
        var r = c - n * Vector128.Create(Ln2High) - n * Vector128.Create(Ln2Low);
        var p = Vector128.Create(P0);
        p = p * r + Vector128.Create(P1);
        p = p * r + Vector128.Create(P2);
        p = p * r + Vector128.Create(P3);
        p = p * r + Vector128.Create(P4);
        p = p * r + Vector128.Create(P5);
        var e = p * r * r + r + Vector128.Create(1f);
        var scale = Vector128.ShiftLeft(t.AsInt32() - Vector128.Create(0x4B400000 - 127), 23).AsSingle();
        return Vector128.ConditionalSelect(nan, x, e * scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp256(Vector256<float> x)
    {
        var nan = ~Vector256.Equals(x, x);
        var c = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLow)), Vector256.Create(ExpHigh));
        var t = c * Vector256.Create(Log2E) + Vector256.Create(Magic);
        var n = t - Vector256.Create(Magic);
        var r = c - n * Vector256.Create(Ln2High) - n * Vector256.Create(Ln2Low);
        var p = Vector256.Create(P0);
        p = p * r + Vector256.Create(P1);
        p = p * r + Vector256.Create(P2);
        p = p * r + Vector256.Create(P3);
        p = p * r + Vector256.Create(P4);
        p = p * r + Vector256.Create(P5);
        var e = p * r * r + r + Vector256.Create(1f);
        var scale = Vector256.ShiftLeft(t.AsInt32() - Vector256.Create(0x4B400000 - 127), 23).AsSingle();
        return Vector256.ConditionalSelect(nan, x, e * scale);
    }
}

/// <summary>ReduceSum, ReduceMean, ReduceMax (any numeric type; float vectorized), ArgMax, and LogSoftmax/Softmax (float vectorized, double).</summary>
internal static class Reduce
{
    /// <summary>Most groups a reduction shape may have.</summary>
    private const int MaxGroups = 32;

    /// <summary>ReduceSum for any numeric type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sum<TShape, T>(ReadOnlySpan<T> x, Span<T> y) where TShape : struct, IReduceShape where T : unmanaged, INumber<T> =>
        Run<TShape, T, SumOp<T>>(x, y);

    /// <summary>ReduceMax for any numeric type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max<TShape, T>(ReadOnlySpan<T> x, Span<T> y) where TShape : struct, IReduceShape where T : unmanaged, INumber<T> =>
        Run<TShape, T, MaxOp<T>>(x, y);

    /// <summary>ReduceMean for any numeric type: the sum divided by the count (integers truncate; the mean of nothing is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mean<TShape, T>(ReadOnlySpan<T> x, Span<T> y) where TShape : struct, IReduceShape where T : unmanaged, INumber<T>
    {
        Run<TShape, T, SumOp<T>>(x, y);
        if (TShape.Count <= 0) return;
        T count = T.CreateTruncating(TShape.Count);
        Span<T> ys = y.Slice(0, TShape.Output);
        for (int i = 0; i < ys.Length; i++) ys[i] /= count;
    }

    /// <summary>ReduceSum of floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumFloat<TShape, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IReduceShape where TSimd : struct, ISimd<TVec> where TVec : struct =>
        RunFloat<TShape, FloatSumOp, TSimd, TVec>(x, y);

    /// <summary>ReduceMax of floats (NaN wins, -inf over nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxFloat<TShape, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IReduceShape where TSimd : struct, ISimd<TVec> where TVec : struct =>
        RunFloat<TShape, FloatMaxOp, TSimd, TVec>(x, y);

    /// <summary>ReduceMean of floats (0 over nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MeanFloat<TShape, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IReduceShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        RunFloat<TShape, FloatSumOp, TSimd, TVec>(x, y);
        if (TShape.Count <= 0) return;
        ref float y0 = ref MemoryMarshal.GetReference(y);
        int n = TShape.Output, i = 0;
        float count = TShape.Count;
        TVec c = TSimd.Splat(count);
        for (; i <= n - TSimd.Count; i += TSimd.Count) TSimd.Store(TSimd.Divide(TSimd.Load(ref y0, i), c), ref y0, i);
        for (; i < n; i++) Unsafe.Add(ref y0, i) /= count;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TShape, T, TOp>(ReadOnlySpan<T> x, Span<T> y)
        where TShape : struct, IReduceShape where T : unmanaged, INumber<T> where TOp : struct, IReduceOp<T>
    {
        Guard.Length(x.Length, TShape.Input, "Reduce X");
        Guard.Length(y.Length, TShape.Output, "Reduce Y");
        y.Slice(0, TShape.Output).Fill(TOp.Identity);
        if (TShape.Input == 0 || TShape.Output == 0) return;
        ReadOnlySpan<int> outer = TShape.Outer;
        CheckOuter(outer);
        int groups = outer.Length / 2, inner = TShape.Inner;
        ref T x0 = ref MemoryMarshal.GetReference(x);
        ref T y0 = ref MemoryMarshal.GetReference(y);
        Span<int> index = stackalloc int[MaxGroups];
        index.Clear();
        nint xo = 0, yo = 0;
        while (true)
        {
            ref T xs = ref Unsafe.Add(ref x0, xo);
            if (TShape.InnerReduced)
            {
                T acc = Unsafe.Add(ref y0, yo);
                for (int i = 0; i < inner; i++) acc = TOp.Apply(acc, Unsafe.Add(ref xs, i));
                Unsafe.Add(ref y0, yo) = acc;
            }
            else
            {
                ref T ys = ref Unsafe.Add(ref y0, yo);
                for (int i = 0; i < inner; i++) Unsafe.Add(ref ys, i) = TOp.Apply(Unsafe.Add(ref ys, i), Unsafe.Add(ref xs, i));
            }
            xo += inner;
            if (!Advance(outer, groups, index, ref yo)) return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunFloat<TShape, TOp, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IReduceShape where TOp : struct, IFloatReduceOp where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(x.Length, TShape.Input, "Reduce X");
        Guard.Length(y.Length, TShape.Output, "Reduce Y");
        y.Slice(0, TShape.Output).Fill(TOp.Identity);
        if (TShape.Input == 0 || TShape.Output == 0) return;
        ReadOnlySpan<int> outer = TShape.Outer;
        CheckOuter(outer);
        int groups = outer.Length / 2, n = TShape.Inner;
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        Span<int> index = stackalloc int[MaxGroups];
        index.Clear();
        nint xo = 0, yo = 0;
        while (true)
        {
            ref float xs = ref Unsafe.Add(ref x0, xo);
            int i = 0;
            if (TShape.InnerReduced)
            {
                float acc = Unsafe.Add(ref y0, yo);
                if (n >= TSimd.Count)
                {
                    TVec a0 = TSimd.Load(ref xs, 0), a1 = TSimd.Splat(TOp.Identity);
                    i = TSimd.Count;
                    for (; i <= n - 2 * TSimd.Count; i += 2 * TSimd.Count)
                    {
                        a0 = TOp.Apply<TSimd, TVec>(a0, TSimd.Load(ref xs, i));
                        a1 = TOp.Apply<TSimd, TVec>(a1, TSimd.Load(ref xs, i + TSimd.Count));
                    }
                    for (; i <= n - TSimd.Count; i += TSimd.Count) a0 = TOp.Apply<TSimd, TVec>(a0, TSimd.Load(ref xs, i));
                    acc = TOp.Apply(acc, TOp.Across<TSimd, TVec>(TOp.Apply<TSimd, TVec>(a0, a1)));
                }
                for (; i < n; i++) acc = TOp.Apply(acc, Unsafe.Add(ref xs, i));
                Unsafe.Add(ref y0, yo) = acc;
            }
            else
            {
                ref float ys = ref Unsafe.Add(ref y0, yo);
                for (; i <= n - TSimd.Count; i += TSimd.Count)
                    TSimd.Store(TOp.Apply<TSimd, TVec>(TSimd.Load(ref ys, i), TSimd.Load(ref xs, i)), ref ys, i);
                for (; i < n; i++) Unsafe.Add(ref ys, i) = TOp.Apply(Unsafe.Add(ref ys, i), Unsafe.Add(ref xs, i));
            }
            xo += n;
            if (!Advance(outer, groups, index, ref yo)) return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CheckOuter(ReadOnlySpan<int> outer)
    {
        if (outer.Length % 2 != 0 || outer.Length / 2 > MaxGroups) Guard.Fail("Reduce groups", outer.Length, 2 * MaxGroups);
    }

    /// <summary>Steps the outer groups' odometer (y offset follows); false after the last row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Advance(ReadOnlySpan<int> outer, int groups, Span<int> index, ref nint yo)
    {
        for (int k = groups - 1; k >= 0; k--)
        {
            int size = outer[2 * k], stride = outer[2 * k + 1];
            yo += stride;
            if (++index[k] < size) return true;
            index[k] = 0;
            yo -= (nint)size * stride;
        }
        return false;
    }

    /// <summary>
    /// ArgMax along the middle axis: the index of the first maximum (the last with
    /// <see cref="IAxisShape.SelectLast"/>); NaN counts as the maximum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ArgMax<TShape, T>(ReadOnlySpan<T> x, Span<long> y) where TShape : struct, IAxisShape where T : unmanaged, INumber<T>
    {
        int n = TShape.Length, inner = TShape.Inner;
        Guard.Length(x.Length, (long)TShape.Outer * n * inner, "ArgMax X");
        Guard.Length(y.Length, (long)TShape.Outer * inner, "ArgMax Y");
        if (n == 0) Guard.Fail("ArgMax X (the axis is empty)", 0, 1);
        ref T x0 = ref MemoryMarshal.GetReference(x);
        ref long y0 = ref MemoryMarshal.GetReference(y);
        for (int o = 0; o < TShape.Outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                ref T xs = ref Unsafe.Add(ref x0, (nint)o * n * inner + i);
                T best = xs;
                int at = 0;
                for (int j = 1; j < n; j++)
                {
                    T v = Unsafe.Add(ref xs, (nint)j * inner);
                    bool better = T.IsNaN(best) ? TShape.SelectLast && T.IsNaN(v) : T.IsNaN(v) || v > best || (TShape.SelectLast && v == best);
                    if (better)
                    {
                        best = v;
                        at = j;
                    }
                }
                Unsafe.Add(ref y0, (nint)o * inner + i) = at;
            }
        }
    }

    /// <summary>
    /// Softmax (<paramref name="log"/> false) or LogSoftmax of floats along the middle axis:
    /// exp(x − max) / Σ exp(x − max), or x − max − log Σ exp(x − max). Vectorized along the axis
    /// (<see cref="IAxisShape.Inner"/> = 1) or across the inner positions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxFloat<TShape, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y, bool log)
        where TShape : struct, IAxisShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int n = TShape.Length, inner = TShape.Inner;
        long total = (long)TShape.Outer * n * inner;
        Guard.Length(x.Length, total, "Softmax X");
        Guard.Length(y.Length, total, "Softmax Y");
        if (total == 0) return;
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int o = 0; o < TShape.Outer; o++)
        {
            nint start = (nint)o * n * inner;
            if (inner == 1) Row<TSimd, TVec>(ref Unsafe.Add(ref x0, start), ref Unsafe.Add(ref y0, start), n, log);
            else Columns<TSimd, TVec>(ref Unsafe.Add(ref x0, start), ref Unsafe.Add(ref y0, start), n, inner, log);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TSimd, TVec>(ref float x, ref float y, int n, bool log) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int i = 0;
        float max = float.NegativeInfinity;
        if (n >= TSimd.Count)
        {
            TVec m = TSimd.Load(ref x, 0);
            for (i = TSimd.Count; i <= n - TSimd.Count; i += TSimd.Count) m = FloatVectors.Max<TSimd, TVec>(m, TSimd.Load(ref x, i));
            max = FloatVectors.MaxAcross<TSimd, TVec>(m);
        }
        for (; i < n; i++) max = FloatVectors.Max(max, Unsafe.Add(ref x, i));
        TVec vmax = TSimd.Splat(max);
        TVec s = TSimd.Zero;
        float sum = 0f;
        for (i = 0; i <= n - TSimd.Count; i += TSimd.Count)
        {
            TVec e = FloatVectors.Exp<TSimd, TVec>(TSimd.Subtract(TSimd.Load(ref x, i), vmax));
            if (!log) TSimd.Store(e, ref y, i);
            s = TSimd.Add(s, e);
        }
        sum = TSimd.Sum(s);
        for (; i < n; i++)
        {
            float e = MathF.Exp(Unsafe.Add(ref x, i) - max);
            if (!log) Unsafe.Add(ref y, i) = e;
            sum += e;
        }
        if (log)
        {
            float ls = MathF.Log(sum);
            TVec vls = TSimd.Splat(ls);
            for (i = 0; i <= n - TSimd.Count; i += TSimd.Count)
                TSimd.Store(TSimd.Subtract(TSimd.Subtract(TSimd.Load(ref x, i), vmax), vls), ref y, i);
            for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref x, i) - max - ls;
        }
        else
        {
            TVec vs = TSimd.Splat(sum);
            for (i = 0; i <= n - TSimd.Count; i += TSimd.Count) TSimd.Store(TSimd.Divide(TSimd.Load(ref y, i), vs), ref y, i);
            for (; i < n; i++) Unsafe.Add(ref y, i) /= sum;
        }
    }

    /// <summary>Inner positions a softmax over strided columns handles together (their max and sum live on the stack).</summary>
    private const int Strip = 256;

    // Inner > 1: strips of neighbouring inner positions walk the axis row by row (contiguous reads),
    // their running max and sum held on the stack.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns<TSimd, TVec>(ref float x, ref float y, int n, int inner, bool log) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Span<float> buffer = stackalloc float[2 * Strip];
        ref float max = ref MemoryMarshal.GetReference(buffer);
        ref float sum = ref Unsafe.Add(ref max, Strip);
        for (int c0 = 0; c0 < inner; c0 += Strip)
        {
            int w = Math.Min(Strip, inner - c0);
            ref float xc = ref Unsafe.Add(ref x, c0);
            ref float yc = ref Unsafe.Add(ref y, c0);
            MemoryMarshal.CreateReadOnlySpan(ref xc, w).CopyTo(MemoryMarshal.CreateSpan(ref max, w));
            for (int j = 1; j < n; j++)
            {
                ref float xj = ref Unsafe.Add(ref xc, (nint)j * inner);
                int i = 0;
                for (; i <= w - TSimd.Count; i += TSimd.Count)
                    TSimd.Store(FloatVectors.Max<TSimd, TVec>(TSimd.Load(ref max, i), TSimd.Load(ref xj, i)), ref max, i);
                for (; i < w; i++) Unsafe.Add(ref max, i) = FloatVectors.Max(Unsafe.Add(ref max, i), Unsafe.Add(ref xj, i));
            }
            MemoryMarshal.CreateSpan(ref sum, w).Clear();
            for (int j = 0; j < n; j++)
            {
                ref float xj = ref Unsafe.Add(ref xc, (nint)j * inner);
                ref float yj = ref Unsafe.Add(ref yc, (nint)j * inner);
                int i = 0;
                for (; i <= w - TSimd.Count; i += TSimd.Count)
                {
                    TVec e = FloatVectors.Exp<TSimd, TVec>(TSimd.Subtract(TSimd.Load(ref xj, i), TSimd.Load(ref max, i)));
                    if (!log) TSimd.Store(e, ref yj, i);
                    TSimd.Store(TSimd.Add(TSimd.Load(ref sum, i), e), ref sum, i);
                }
                for (; i < w; i++)
                {
                    float e = MathF.Exp(Unsafe.Add(ref xj, i) - Unsafe.Add(ref max, i));
                    if (!log) Unsafe.Add(ref yj, i) = e;
                    Unsafe.Add(ref sum, i) += e;
                }
            }
            if (log)
                for (int i = 0; i < w; i++) Unsafe.Add(ref sum, i) = MathF.Log(Unsafe.Add(ref sum, i));
            for (int j = 0; j < n; j++)
            {
                ref float xj = ref Unsafe.Add(ref xc, (nint)j * inner);
                ref float yj = ref Unsafe.Add(ref yc, (nint)j * inner);
                int i = 0;
                if (log)
                {
                    for (; i <= w - TSimd.Count; i += TSimd.Count)
                        TSimd.Store(TSimd.Subtract(TSimd.Subtract(TSimd.Load(ref xj, i), TSimd.Load(ref max, i)), TSimd.Load(ref sum, i)), ref yj, i);
                    for (; i < w; i++) Unsafe.Add(ref yj, i) = Unsafe.Add(ref xj, i) - Unsafe.Add(ref max, i) - Unsafe.Add(ref sum, i);
                }
                else
                {
                    for (; i <= w - TSimd.Count; i += TSimd.Count) TSimd.Store(TSimd.Divide(TSimd.Load(ref yj, i), TSimd.Load(ref sum, i)), ref yj, i);
                    for (; i < w; i++) Unsafe.Add(ref yj, i) /= Unsafe.Add(ref sum, i);
                }
            }
        }
    }

    /// <summary>Softmax or LogSoftmax along the middle axis for double (and any IEEE type), scalar.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax<TShape, T>(ReadOnlySpan<T> x, Span<T> y, bool log) where TShape : struct, IAxisShape where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = TShape.Length, inner = TShape.Inner;
        long total = (long)TShape.Outer * n * inner;
        Guard.Length(x.Length, total, "Softmax X");
        Guard.Length(y.Length, total, "Softmax Y");
        if (total == 0) return;
        for (int o = 0; o < TShape.Outer; o++)
        {
            for (int c = 0; c < inner; c++)
            {
                int start = o * n * inner + c;
                T max = x[start];
                for (int j = 1; j < n; j++) max = MaxOp<T>.Apply(max, x[start + j * inner]);
                T sum = T.Zero;
                for (int j = 0; j < n; j++)
                {
                    T e = T.Exp(x[start + j * inner] - max);
                    if (!log) y[start + j * inner] = e;
                    sum += e;
                }
                if (log)
                {
                    T ls = T.Log(sum);
                    for (int j = 0; j < n; j++) y[start + j * inner] = x[start + j * inner] - max - ls;
                }
                else
                {
                    for (int j = 0; j < n; j++) y[start + j * inner] /= sum;
                }
            }
        }
    }
}
