namespace CompressBuild.Runtime;

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

/// <summary>Stand-alone activations (Relu not fused into a layer) and Softmax.</summary>
internal static class Activations
{
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
