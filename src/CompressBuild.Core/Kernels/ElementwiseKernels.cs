using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CompressBuild.Core.Kernels;

/// <summary>A float function evaluated eight lanes at a time (activation bodies and their derivatives).</summary>
internal interface IVectorFunction
{
    /// <summary>f(x) for eight lanes.</summary>
    Vector256<float> Invoke(Vector256<float> x);
}

/// <summary>A float function of two arguments evaluated eight lanes at a time.</summary>
internal interface IVectorFunction2
{
    /// <summary>f(a, b) for eight lanes.</summary>
    Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);
}

/// <summary>A float function of three arguments evaluated eight lanes at a time.</summary>
internal interface IVectorFunction3
{
    /// <summary>f(a, b, c) for eight lanes.</summary>
    Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> c);
}

/// <summary>
/// A binary element operation at the granularities the broadcasting engine needs: element,
/// span with span, span with scalar, scalar with span (the span forms are vectorized).
/// </summary>
internal interface IBinaryOp<T>
{
    /// <summary>One element.</summary>
    static abstract T Invoke(T a, T b);

    /// <summary>Two runs of equal length.</summary>
    static abstract void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y);

    /// <summary>A run with a repeated right operand.</summary>
    static abstract void Invoke(ReadOnlySpan<T> a, T b, Span<T> y);

    /// <summary>A repeated left operand with a run.</summary>
    static abstract void Invoke(T a, ReadOnlySpan<T> b, Span<T> y);
}

/// <summary>
/// Element-wise building blocks: vectorized maps of float functions (with split over threads),
/// a float32 erf, and the numpy broadcasting engine for binary operations.
/// </summary>
internal static class ElementwiseKernels
{
    /// <summary>y = f(x) over spans of equal length.</summary>
    public static void Map<TF>(ReadOnlySpan<float> x, Span<float> y, TF f) where TF : struct, IVectorFunction
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        for (; i <= n - 8; i += 8)
            f.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        // The tail runs through the same vector body on zero padding, so no scalar twin is needed.
        if (i < n) StoreTail(f.Invoke(LoadTail(x[i..])), y[i..]);
    }

    /// <summary>y = f(a, b) over spans of equal length.</summary>
    public static void Map<TF>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, TF f) where TF : struct, IVectorFunction2
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = a.Length, i = 0;
        for (; i <= n - 8; i += 8)
            f.Invoke(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (i < n) StoreTail(f.Invoke(LoadTail(a[i..]), LoadTail(b[i..])), y[i..]);
    }

    /// <summary>y = f(a, b, c) over spans of equal length.</summary>
    public static void Map<TF>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y, TF f) where TF : struct, IVectorFunction3
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float cr = ref MemoryMarshal.GetReference(c);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = a.Length, i = 0;
        for (; i <= n - 8; i += 8)
            f.Invoke(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i), Vector256.LoadUnsafe(ref cr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (i < n) StoreTail(f.Invoke(LoadTail(a[i..]), LoadTail(b[i..]), LoadTail(c[i..])), y[i..]);
    }

    /// <summary><see cref="Map{TF}(ReadOnlySpan{float}, Span{float}, TF)"/> split over threads.</summary>
    public static void Map<TF>(float[] x, float[] y, TF f, int maxDegree, int cost) where TF : struct, IVectorFunction =>
        Parallelism.For(x.Length, maxDegree, cost, (s, e) => Map(x.AsSpan(s, e - s), y.AsSpan(s, e - s), f));

    /// <summary>Two-argument map split over threads.</summary>
    public static void Map<TF>(float[] a, float[] b, float[] y, TF f, int maxDegree, int cost) where TF : struct, IVectorFunction2 =>
        Parallelism.For(a.Length, maxDegree, cost, (s, e) => Map(a.AsSpan(s, e - s), b.AsSpan(s, e - s), y.AsSpan(s, e - s), f));

    /// <summary>Three-argument map split over threads.</summary>
    public static void Map<TF>(float[] a, float[] b, float[] c, float[] y, TF f, int maxDegree, int cost) where TF : struct, IVectorFunction3 =>
        Parallelism.For(a.Length, maxDegree, cost, (s, e) => Map(a.AsSpan(s, e - s), b.AsSpan(s, e - s), c.AsSpan(s, e - s), y.AsSpan(s, e - s), f));

    private static Vector256<float> LoadTail(ReadOnlySpan<float> s)
    {
        Span<float> buf = stackalloc float[8];
        buf.Clear();
        s.CopyTo(buf);
        return Vector256.Create<float>(buf);
    }

    private static void StoreTail(Vector256<float> v, Span<float> dst)
    {
        Span<float> buf = stackalloc float[8];
        v.CopyTo(buf);
        buf[..dst.Length].CopyTo(dst);
    }

    // The exponential-based functions below evaluate in double and round once, so they are
    // correctly rounded in practice (Vector256.Exp in float is off by an ulp half the time, making
    // exp(0) = 1.0000001, sigmoid(0) ≠ 0.5 and tanh lose all relative precision near 0), at about
    // 1.5× the cost of the float version.

    /// <summary>eˣ for eight lanes (exp(0) is exactly 1).</summary>
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(Vector256.Exp(lo), Vector256.Exp(hi));
    }

    /// <summary>eˣ − 1 for eight lanes, accurate relative to the result near 0.</summary>
    public static Vector256<float> ExpM1(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(ExpM1(lo), ExpM1(hi));
    }

    private static Vector256<double> ExpM1(Vector256<double> x)
    {
        // eˣ − 1 in double has absolute error 1e-16, enough for float except below 1e-5, where x + x²/2 is exact to float precision.
        var small = Vector256.LessThan(Vector256.Abs(x), Vector256.Create(1e-5));
        return Vector256.ConditionalSelect(small, x + x * x * 0.5, Vector256.Exp(x) - Vector256<double>.One);
    }

    /// <summary>1 / (1 + e⁻ˣ) for eight lanes.</summary>
    public static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(Sigmoid(lo), Sigmoid(hi));
    }

    private static Vector256<double> Sigmoid(Vector256<double> x) => Vector256<double>.One / (Vector256<double>.One + Vector256.Exp(-x));

    /// <summary>tanh for eight lanes, accurate relative to the result near 0.</summary>
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(Tanh(lo), Tanh(hi));
    }

    private static Vector256<double> Tanh(Vector256<double> x)
    {
        // tanh|x| = (1 − t) / (1 + t) with t = e^(−2|x|); below 1e-5, tanh x = x to float precision.
        var ax = Vector256.Abs(x);
        var t = Vector256.Exp(ax * -2.0);
        var r = (Vector256<double>.One - t) / (Vector256<double>.One + t);
        r = Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(1e-5)), ax, r);
        return r | (x & Vector256.Create(-0.0));
    }

    /// <summary>ln(1 + eˣ) for eight lanes, as max(x, 0) + ln(1 + e^(−|x|)) so it neither overflows nor loses small values.</summary>
    public static Vector256<float> Softplus(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(Softplus(lo), Softplus(hi));
    }

    private static Vector256<double> Softplus(Vector256<double> x)
    {
        var z = Vector256.Exp(-Vector256.Abs(x));
        var u = Vector256<double>.One + z;
        // ln(1 + z) without losing z when 1 + z rounds (Goldberg's log1p).
        var log1p = Vector256.ConditionalSelect(Vector256.Equals(u, Vector256<double>.One), z, Vector256.Log(u) * z / (u - Vector256<double>.One));
        return Vector256.Max(x, Vector256<double>.Zero) + log1p;
    }

    // erf(x) = x·P(x²) for |x| < 0.875, 1 − exp(−x²)·Q(|x|) above; both fitted by least squares on
    // Chebyshev nodes (max relative error 1.8e-7 in float arithmetic). Beyond |x| = 4, erf rounds to ±1.
    private const float ErfSplit = 0.875f;
    private static readonly float[] ErfSmall =
    {
        1.128379225730896f, -0.37612637877464294f, 0.11283744126558304f, -0.026862144470214844f,
        0.005208075512200594f, -0.0008225873461924493f, 8.73762764967978e-05f,
    };
    private static readonly float[] ErfLarge =
    {
        0.9946485161781311f, -1.093801736831665f, 0.8987255096435547f, -0.5726643800735474f,
        0.28190305829048157f, -0.10524611920118332f, 0.02901860699057579f, -0.005690836813300848f,
        0.000747655751183629f, -5.881453398615122e-05f, 2.0897687136312015e-06f,
    };

    /// <summary>erf for eight lanes (relative error below 2e-7; NaN propagates).</summary>
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var ax = Vector256.Min(Vector256.Abs(x), Vector256.Create(4f));
        var t = ax * ax;
        var small = ax * Horner(t, ErfSmall);
        var large = Vector256<float>.One - Vector256.Exp(-t) * Horner(ax, ErfLarge);
        var r = Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(ErfSplit)), small, large);
        r |= x & Vector256.Create(-0f);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), r, x);
    }

    private static Vector256<float> Horner(Vector256<float> x, float[] c)
    {
        var p = Vector256.Create(c[^1]);
        for (int i = c.Length - 2; i >= 0; i--) p = Vector256.MultiplyAddEstimate(p, x, Vector256.Create(c[i]));
        return p;
    }

    /// <summary>erf in double precision (relative error about 1e-15), for double tensors.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax >= 6) return Math.CopySign(1, x);
        double r;
        if (ax < 2.5)
        {
            // erf(x) = 2/√π · e^(−x²) · Σ (2x²)ⁿ x / (1·3·…·(2n+1)): every term is positive, so no cancellation.
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
            // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), converged by 60 levels here.
            double f = 0;
            for (int k = 60; k >= 1; k--) f = k / 2.0 / (ax + f);
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        }
        return Math.CopySign(r, x);
    }

    /// <summary>
    /// y = op(a, b) with numpy broadcasting of <paramref name="aShape"/> and <paramref name="bShape"/>
    /// to <paramref name="yShape"/> (the caller has validated them). Same shapes and scalar operands
    /// are single vectorized calls; otherwise dimensions are collapsed so the innermost run is as
    /// long as possible and each run is one span call (span·span, span·scalar or scalar·span).
    /// Splits over threads when large. <paramref name="y"/> may be <paramref name="a"/> when their shapes agree.
    /// </summary>
    public static void Broadcast<T, TOp>(T[] a, int[] aShape, T[] b, int[] bShape, T[] y, int[] yShape, int maxDegree, int cost = 1)
        where TOp : IBinaryOp<T>
    {
        int n = y.Length;
        if (n == 0) return;
        if (a.Length == n && b.Length == n)
        {
            Parallelism.For(n, maxDegree, cost, (s, e) => TOp.Invoke(a.AsSpan(s, e - s), b.AsSpan(s, e - s), y.AsSpan(s, e - s)));
            return;
        }
        if (a.Length == n && b.Length == 1)
        {
            T b0 = b[0];
            Parallelism.For(n, maxDegree, cost, (s, e) => TOp.Invoke(a.AsSpan(s, e - s), b0, y.AsSpan(s, e - s)));
            return;
        }
        if (a.Length == 1 && b.Length == n)
        {
            T a0 = a[0];
            Parallelism.For(n, maxDegree, cost, (s, e) => TOp.Invoke(a0, b.AsSpan(s, e - s), y.AsSpan(s, e - s)));
            return;
        }

        var plan = new BroadcastPlan(aShape, bShape, yShape);
        int inner = plan.Inner;
        Parallelism.For(n / inner, maxDegree, (long)cost * inner, (r0, r1) =>
        {
            Span<int> index = stackalloc int[plan.Outer.Length];
            plan.Seek(r0, index, out int offA, out int offB);
            for (int r = r0; r < r1; r++)
            {
                var yr = y.AsSpan(r * inner, inner);
                if (plan.InnerA && plan.InnerB) TOp.Invoke(a.AsSpan(offA, inner), b.AsSpan(offB, inner), yr);
                else if (plan.InnerA) TOp.Invoke(a.AsSpan(offA, inner), b[offB], yr);
                else if (plan.InnerB) TOp.Invoke(a[offA], b.AsSpan(offB, inner), yr);
                else yr.Fill(TOp.Invoke(a[offA], b[offB]));
                plan.Next(index, ref offA, ref offB);
            }
        });
    }

    /// <summary>
    /// The collapsed iteration space of a two-input broadcast: outer dimensions with the element
    /// strides of each input (0 where broadcast), and an innermost run where each input either
    /// advances (stride 1) or repeats one element.
    /// </summary>
    private sealed class BroadcastPlan
    {
        public readonly int[] Outer;
        private readonly int[] _strideA;
        private readonly int[] _strideB;
        public readonly int Inner;
        public readonly bool InnerA;
        public readonly bool InnerB;

        public BroadcastPlan(int[] aShape, int[] bShape, int[] yShape)
        {
            var sa = Broadcasting.Strides(aShape, yShape);
            var sb = Broadcasting.Strides(bShape, yShape);
            var size = new List<int>();
            var da = new List<int>();
            var db = new List<int>();
            for (int d = 0; d < yShape.Length; d++)
            {
                int m = yShape[d];
                if (m == 1) continue;
                int last = size.Count - 1;
                // A dimension merges into the one before it when both inputs walk them contiguously.
                if (last >= 0 && da[last] == sa[d] * m && db[last] == sb[d] * m)
                {
                    size[last] *= m;
                    da[last] = sa[d];
                    db[last] = sb[d];
                }
                else
                {
                    size.Add(m);
                    da.Add(sa[d]);
                    db.Add(sb[d]);
                }
            }
            int k = size.Count - 1;
            Inner = size[k];
            InnerA = da[k] != 0;
            InnerB = db[k] != 0;
            Outer = size.GetRange(0, k).ToArray();
            _strideA = da.GetRange(0, k).ToArray();
            _strideB = db.GetRange(0, k).ToArray();
        }

        /// <summary>Positions the multi-index at run <paramref name="row"/>.</summary>
        public void Seek(int row, Span<int> index, out int offA, out int offB)
        {
            offA = offB = 0;
            for (int d = Outer.Length - 1; d >= 0; d--)
            {
                index[d] = row % Outer[d];
                row /= Outer[d];
                offA += index[d] * _strideA[d];
                offB += index[d] * _strideB[d];
            }
        }

        /// <summary>Advances the multi-index to the next run.</summary>
        public void Next(Span<int> index, ref int offA, ref int offB)
        {
            for (int d = Outer.Length - 1; d >= 0; d--)
            {
                offA += _strideA[d];
                offB += _strideB[d];
                if (++index[d] < Outer[d]) return;
                offA -= _strideA[d] * Outer[d];
                offB -= _strideB[d] * Outer[d];
                index[d] = 0;
            }
        }
    }
}
