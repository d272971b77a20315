namespace CompressBuild.Runtime;

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

/// <summary>
/// Compile-time facts of a BatchNormalization step: X viewed as [N, C, Inner] (a 1-D input is N
/// samples of one channel; spatial = 0 makes every activation a channel).
/// </summary>
internal interface IBatchNormShape
{
    /// <summary>Samples.</summary>
    static abstract int N { get; }

    /// <summary>Channels (parameters per tensor).</summary>
    static abstract int C { get; }

    /// <summary>Elements per channel and sample.</summary>
    static abstract int Inner { get; }

    /// <summary>epsilon.</summary>
    static abstract float Epsilon { get; }

    /// <summary>momentum (weight of the input running statistics in training mode).</summary>
    static abstract float Momentum { get; }

    /// <summary>Normalize with the batch's statistics (training mode) instead of input_mean / input_var.</summary>
    static abstract bool Training { get; }

    /// <summary>Fused Relu.</summary>
    static abstract bool Relu { get; }
}

/// <summary>Compile-time facts of a LayerNormalization step: <see cref="Rows"/> rows of <see cref="Size"/> normalized elements.</summary>
/// <remarks>
/// The normalized elements are walked as [D0, D1, D2] with Scale read at element strides S0..S2
/// and B at B0..B2 (0 where they broadcast); <see cref="Dense"/> says both are plain vectors of
/// <see cref="Size"/> elements (or absent).
/// </remarks>
internal interface ILayerNormShape
{
    /// <summary>Rows (product of the dims before axis).</summary>
    static abstract int Rows { get; }

    /// <summary>Normalized elements per row.</summary>
    static abstract int Size { get; }

    /// <summary>epsilon.</summary>
    static abstract float Epsilon { get; }

    /// <summary>True when there is a B input.</summary>
    static abstract bool HasBias { get; }

    /// <summary>Scale and B are dense vectors of <see cref="Size"/> elements.</summary>
    static abstract bool Dense { get; }

    /// <summary>Outer walk dimension.</summary>
    static abstract int D0 { get; }

    /// <summary>Middle walk dimension.</summary>
    static abstract int D1 { get; }

    /// <summary>Inner walk dimension.</summary>
    static abstract int D2 { get; }

    /// <summary>Scale stride along D0.</summary>
    static abstract int S0 { get; }

    /// <summary>Scale stride along D1.</summary>
    static abstract int S1 { get; }

    /// <summary>Scale stride along D2.</summary>
    static abstract int S2 { get; }

    /// <summary>B stride along D0.</summary>
    static abstract int B0 { get; }

    /// <summary>B stride along D1.</summary>
    static abstract int B1 { get; }

    /// <summary>B stride along D2.</summary>
    static abstract int B2 { get; }
}

/// <summary>BatchNormalization (inference and training statistics) and LayerNormalization, float.</summary>
internal static class Normalization
{
    /// <summary>
    /// BatchNormalization: y = a·x + b per channel with a = scale/√(σ² + ε), b = B − μ·a, where μ, σ²
    /// are input_mean/input_var or (training) the batch's mean and biased variance. The optional
    /// outputs (empty spans when absent): running mean/var (training: input·momentum +
    /// batch·(1 − momentum); otherwise the inputs), and opsets &lt; 14's saved mean and inverse
    /// standard deviation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BatchNorm<TShape, TSimd, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias,
        ReadOnlySpan<float> inputMean, ReadOnlySpan<float> inputVar, Span<float> y,
        Span<float> runningMean, Span<float> runningVar, Span<float> savedMean, Span<float> savedInvStd)
        where TShape : struct, IBatchNormShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int c = TShape.C, inner = TShape.Inner;
        long total = (long)TShape.N * c * inner;
        Guard.Length(x.Length, total, "BatchNormalization X");
        Guard.Length(scale.Length, c, "BatchNormalization scale");
        Guard.Length(bias.Length, c, "BatchNormalization B");
        Guard.Length(inputMean.Length, c, "BatchNormalization input_mean");
        Guard.Length(inputVar.Length, c, "BatchNormalization input_var");
        Guard.Length(y.Length, total, "BatchNormalization Y");
        if (!runningMean.IsEmpty) Guard.Length(runningMean.Length, c, "BatchNormalization running_mean");
        if (!runningVar.IsEmpty) Guard.Length(runningVar.Length, c, "BatchNormalization running_var");
        if (!savedMean.IsEmpty) Guard.Length(savedMean.Length, c, "BatchNormalization saved_mean");
        if (!savedInvStd.IsEmpty) Guard.Length(savedInvStd.Length, c, "BatchNormalization saved_inv_std");
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        float invCount = 1f / ((float)TShape.N * inner);
        for (int ch = 0; ch < c; ch++)
        {
            float mean = inputMean[ch], variance = inputVar[ch];
            if (TShape.Training)
            {
                double sum = 0;
                for (int n = 0; n < TShape.N; n++) sum += Sum<TSimd, TVec>(ref Unsafe.Add(ref x0, ((nint)n * c + ch) * inner), inner);
                mean = (float)sum * invCount;
                double squares = 0;
                for (int n = 0; n < TShape.N; n++) squares += SquaredDeviations<TSimd, TVec>(ref Unsafe.Add(ref x0, ((nint)n * c + ch) * inner), inner, mean);
                variance = (float)squares * invCount;
            }
            float invStd = 1f / MathF.Sqrt(variance + TShape.Epsilon);
            float a = scale[ch] * invStd;
            float b = bias[ch] - mean * a;
            for (int n = 0; n < TShape.N; n++)
            {
                nint at = ((nint)n * c + ch) * inner;
                Affine<TSimd, TVec>(ref Unsafe.Add(ref x0, at), ref Unsafe.Add(ref y0, at), inner, a, b, TShape.Relu);
            }
            if (!runningMean.IsEmpty) runningMean[ch] = TShape.Training ? inputMean[ch] * TShape.Momentum + mean * (1f - TShape.Momentum) : inputMean[ch];
            if (!runningVar.IsEmpty) runningVar[ch] = TShape.Training ? inputVar[ch] * TShape.Momentum + variance * (1f - TShape.Momentum) : inputVar[ch];
            if (!savedMean.IsEmpty) savedMean[ch] = mean;
            if (!savedInvStd.IsEmpty) savedInvStd[ch] = invStd;
        }
    }

    /// <summary>
    /// LayerNormalization: per row, y = (x − μ)·InvStdDev·Scale + B with InvStdDev = 1/√(mean((x − μ)²) + ε);
    /// the optional Mean and InvStdDev outputs (empty spans when absent) get one value per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNorm<TShape, TSimd, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y,
        Span<float> mean, Span<float> invStdDev)
        where TShape : struct, ILayerNormShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int n = TShape.Size;
        Guard.Length(x.Length, (long)TShape.Rows * n, "LayerNormalization X");
        Guard.Length(y.Length, (long)TShape.Rows * n, "LayerNormalization Y");
        Guard.Length(scale.Length, (long)(TShape.D0 - 1) * TShape.S0 + (long)(TShape.D1 - 1) * TShape.S1 + (long)(TShape.D2 - 1) * TShape.S2 + 1, "LayerNormalization Scale");
        if (TShape.HasBias) Guard.Length(bias.Length, (long)(TShape.D0 - 1) * TShape.B0 + (long)(TShape.D1 - 1) * TShape.B1 + (long)(TShape.D2 - 1) * TShape.B2 + 1, "LayerNormalization B");
        if (!mean.IsEmpty) Guard.Length(mean.Length, TShape.Rows, "LayerNormalization Mean");
        if (!invStdDev.IsEmpty) Guard.Length(invStdDev.Length, TShape.Rows, "LayerNormalization InvStdDev");
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref float s0 = ref MemoryMarshal.GetReference(scale);
        ref float b0 = ref MemoryMarshal.GetReference(bias);
        for (int r = 0; r < TShape.Rows; r++)
        {
            ref float xr = ref Unsafe.Add(ref x0, (nint)r * n);
            ref float yr = ref Unsafe.Add(ref y0, (nint)r * n);
            float mu = Sum<TSimd, TVec>(ref xr, n) / n;
            float istd = 1f / MathF.Sqrt(SquaredDeviations<TSimd, TVec>(ref xr, n, mu) / n + TShape.Epsilon);
            if (!mean.IsEmpty) mean[r] = mu;
            if (!invStdDev.IsEmpty) invStdDev[r] = istd;
            if (TShape.Dense)
            {
                TVec m = TSimd.Splat(mu), s = TSimd.Splat(istd);
                int i = 0;
                for (; i <= n - TSimd.Count; i += TSimd.Count)
                {
                    TVec v = TSimd.Multiply(TSimd.Multiply(TSimd.Subtract(TSimd.Load(ref xr, i), m), s), TSimd.Load(ref s0, i));
                    if (TShape.HasBias) v = TSimd.Add(v, TSimd.Load(ref b0, i));
                    TSimd.Store(v, ref yr, i);
                }
                for (; i < n; i++)
                {
                    float v = (Unsafe.Add(ref xr, i) - mu) * istd * Unsafe.Add(ref s0, i);
                    Unsafe.Add(ref yr, i) = TShape.HasBias ? v + Unsafe.Add(ref b0, i) : v;
                }
                continue;
            }
            int j = 0;
            for (int i0 = 0; i0 < TShape.D0; i0++)
                for (int i1 = 0; i1 < TShape.D1; i1++)
                    for (int i2 = 0; i2 < TShape.D2; i2++, j++)
                    {
                        float v = (Unsafe.Add(ref xr, j) - mu) * istd * Unsafe.Add(ref s0, i0 * TShape.S0 + i1 * TShape.S1 + i2 * TShape.S2);
                        Unsafe.Add(ref yr, j) = TShape.HasBias ? v + Unsafe.Add(ref b0, i0 * TShape.B0 + i1 * TShape.B1 + i2 * TShape.B2) : v;
                    }
        }
    }

    /// <summary>Σ x over <paramref name="n"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum<TSimd, TVec>(ref float x, int n) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        TVec s0 = TSimd.Zero, s1 = TSimd.Zero;
        int i = 0;
        for (; i <= n - 2 * TSimd.Count; i += 2 * TSimd.Count)
        {
            s0 = TSimd.Add(s0, TSimd.Load(ref x, i));
            s1 = TSimd.Add(s1, TSimd.Load(ref x, i + TSimd.Count));
        }
        for (; i <= n - TSimd.Count; i += TSimd.Count) s0 = TSimd.Add(s0, TSimd.Load(ref x, i));
        float sum = TSimd.Sum(TSimd.Add(s0, s1));
        for (; i < n; i++) sum += Unsafe.Add(ref x, i);
        return sum;
    }

    /// <summary>Σ (x − <paramref name="mean"/>)² over <paramref name="n"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SquaredDeviations<TSimd, TVec>(ref float x, int n, float mean) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        TVec m = TSimd.Splat(mean), s0 = TSimd.Zero;
        int i = 0;
        for (; i <= n - TSimd.Count; i += TSimd.Count)
        {
            TVec d = TSimd.Subtract(TSimd.Load(ref x, i), m);
            s0 = TSimd.MultiplyAdd(d, d, s0);
        }
        float sum = TSimd.Sum(s0);
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref x, i) - mean;
            sum += d * d;
        }
        return sum;
    }

    /// <summary>y = a·x + b (then max(·, 0) with <paramref name="relu"/>) over <paramref name="n"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Affine<TSimd, TVec>(ref float x, ref float y, int n, float a, float b, bool relu) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        TVec av = TSimd.Splat(a), bv = TSimd.Splat(b);
        int i = 0;
        for (; i <= n - TSimd.Count; i += TSimd.Count)
        {
            TVec v = TSimd.MultiplyAdd(TSimd.Load(ref x, i), av, bv);
            if (relu) v = TSimd.Max(v, TSimd.Zero);
            TSimd.Store(v, ref y, i);
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref x, i) * a + b;
            Unsafe.Add(ref y, i) = relu ? SimdScalar.Max(v, 0f) : v;
        }
    }
}
