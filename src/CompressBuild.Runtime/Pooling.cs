namespace CompressBuild.Runtime;

using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

/// <summary>Compile-time facts of one 2-D MaxPool / AveragePool step (NCHW, one sample).</summary>
internal interface IPoolShape
{
    /// <summary>Channels (planes).</summary>
    static abstract int Channels { get; }

    /// <summary>Input height.</summary>
    static abstract int InHeight { get; }

    /// <summary>Input width.</summary>
    static abstract int InWidth { get; }

    /// <summary>Output height.</summary>
    static abstract int OutHeight { get; }

    /// <summary>Output width.</summary>
    static abstract int OutWidth { get; }

    /// <summary>Window height.</summary>
    static abstract int KernelHeight { get; }

    /// <summary>Window width.</summary>
    static abstract int KernelWidth { get; }

    /// <summary>Vertical stride.</summary>
    static abstract int StrideHeight { get; }

    /// <summary>Horizontal stride.</summary>
    static abstract int StrideWidth { get; }

    /// <summary>Vertical dilation.</summary>
    static abstract int DilationHeight { get; }

    /// <summary>Horizontal dilation.</summary>
    static abstract int DilationWidth { get; }

    /// <summary>Padding rows before.</summary>
    static abstract int PadTop { get; }

    /// <summary>Padding columns before.</summary>
    static abstract int PadLeft { get; }

    /// <summary>Padding rows after (the padded extent AveragePool's count_include_pad counts).</summary>
    static abstract int PadBottom { get; }

    /// <summary>Padding columns after.</summary>
    static abstract int PadRight { get; }

    /// <summary>AveragePool: divide by the window's size within the padded input (true) or by its valid elements.</summary>
    static abstract bool CountIncludePad { get; }
}

/// <summary>Compile-time facts of a global pooling step: <see cref="Channels"/> planes of <see cref="Size"/> elements.</summary>
internal interface IGlobalPoolShape
{
    /// <summary>Planes.</summary>
    static abstract int Channels { get; }

    /// <summary>Elements per plane.</summary>
    static abstract int Size { get; }
}

/// <summary>The reduction of a pooling window.</summary>
internal interface IPoolOp
{
    /// <summary>Start value.</summary>
    static abstract float Identity { get; }

    /// <summary>True for average (the result is divided by the window count).</summary>
    static abstract bool IsAverage { get; }

    /// <summary>Combines two values.</summary>
    static abstract float Combine(float a, float b);

    /// <summary>Combines two vectors.</summary>
    static abstract TVec Combine<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct;

    /// <summary>Combines adjacent pairs of <c>a ‖ b</c> (a 2-wide, stride-2 window).</summary>
    static abstract TVec Pairs<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct;
}

/// <summary>Max pooling.</summary>
internal readonly struct MaxOp : IPoolOp
{
    public static float Identity => float.NegativeInfinity;
    public static bool IsAverage => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Combine(float a, float b) => SimdScalar.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Combine<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Pairs<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.MaxPairs(a, b);
}

/// <summary>Average pooling (sums, divided at the end).</summary>
internal readonly struct AverageOp : IPoolOp
{
    public static float Identity => 0f;
    public static bool IsAverage => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Combine(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Combine<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Add(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Pairs<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.AddPairs(a, b);
}

/// <summary>
/// MaxPool, AveragePool (2-D, pads, strides, dilations, ceil-mode output sizes, count_include_pad)
/// and GlobalAveragePool. Windows entirely inside the input are vectorized along the output row
/// (stride 1: shifted loads; 2-wide stride-2 windows: pairwise reductions); border windows are
/// handled element by element with their valid taps.
/// </summary>
internal static class Pooling
{
    /// <summary>MaxPool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max<TShape, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IPoolShape where TSimd : struct, ISimd<TVec> where TVec : struct =>
        Run<TShape, MaxOp, TSimd, TVec>(x, y);

    /// <summary>AveragePool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Average<TShape, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IPoolShape where TSimd : struct, ISimd<TVec> where TVec : struct =>
        Run<TShape, AverageOp, TSimd, TVec>(x, y);

    /// <summary>GlobalAveragePool: the mean of each plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAverage<TShape, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IGlobalPoolShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(x.Length, (long)TShape.Channels * TShape.Size, "GlobalAveragePool X");
        Guard.Length(y.Length, TShape.Channels, "GlobalAveragePool Y");
        ref float x0 = ref MemoryMarshal.GetReference(x);
        for (int c = 0; c < TShape.Channels; c++)
        {
            ref float p = ref Unsafe.Add(ref x0, (nint)c * TShape.Size);
            TVec s0 = TSimd.Zero, s1 = TSimd.Zero;
            int i = 0;
            for (; i <= TShape.Size - 2 * TSimd.Count; i += 2 * TSimd.Count)
            {
                s0 = TSimd.Add(s0, TSimd.Load(ref p, i));
                s1 = TSimd.Add(s1, TSimd.Load(ref p, i + TSimd.Count));
            }
            float sum = TSimd.Sum(TSimd.Add(s0, s1));
            for (; i < TShape.Size; i++) sum += Unsafe.Add(ref p, i);
            y[c] = sum / TShape.Size;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TShape, TOp, TSimd, TVec>(ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IPoolShape where TOp : struct, IPoolOp where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(x.Length, (long)TShape.Channels * TShape.InHeight * TShape.InWidth, "Pool X");
        Guard.Length(y.Length, (long)TShape.Channels * TShape.OutHeight * TShape.OutWidth, "Pool Y");
        int kw = TShape.KernelWidth, sw = TShape.StrideWidth, dw = TShape.DilationWidth;
        // Output columns whose whole window lies inside the input.
        int owLo = Math.Min(TShape.OutWidth, (TShape.PadLeft + sw - 1) / sw);
        int lastStart = TShape.InWidth - 1 - (kw - 1) * dw + TShape.PadLeft;
        int owHi = lastStart < 0 ? owLo : Math.Max(owLo, Math.Min(TShape.OutWidth, lastStart / sw + 1));
        bool pairs = kw == 2 && sw == 2 && dw == 1;
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int c = 0; c < TShape.Channels; c++)
        {
            ref float plane = ref Unsafe.Add(ref x0, (nint)c * TShape.InHeight * TShape.InWidth);
            for (int oh = 0; oh < TShape.OutHeight; oh++)
            {
                var (khLo, khHi) = ValidTaps(oh, TShape.StrideHeight, TShape.PadTop, TShape.DilationHeight, TShape.KernelHeight, TShape.InHeight);
                int paddedH = PaddedTaps(oh, TShape.StrideHeight, TShape.PadTop, TShape.DilationHeight, TShape.KernelHeight, TShape.InHeight + TShape.PadBottom);
                int hstart = oh * TShape.StrideHeight - TShape.PadTop;
                ref float yRow = ref Unsafe.Add(ref y0, ((nint)c * TShape.OutHeight + oh) * TShape.OutWidth);
                int ow = 0;
                for (; ow < owLo; ow++) Unsafe.Add(ref yRow, ow) = Element<TShape, TOp>(ref plane, hstart, khLo, khHi, paddedH, ow);
                if (khHi > khLo && (pairs || sw == 1))
                {
                    float inv = TOp.IsAverage ? 1f / ((TShape.CountIncludePad ? paddedH : khHi - khLo) * kw) : 1f;
                    if (owHi - ow >= TSimd.Count)
                        ow = Interior<TShape, TOp, TSimd, TVec>(ref plane, ref yRow, hstart, khLo, khHi, ow, owHi, inv);
                    else if (TSimd.Count > 4 && Vector128.IsHardwareAccelerated && owHi - ow >= 4)
                        ow = Interior<TShape, TOp, Simd128, Vector128<float>>(ref plane, ref yRow, hstart, khLo, khHi, ow, owHi, inv); // narrow rows
                }
                for (; ow < TShape.OutWidth; ow++) Unsafe.Add(ref yRow, ow) = Element<TShape, TOp>(ref plane, hstart, khLo, khHi, paddedH, ow);
            }
        }
    }

    /// <summary>Outputs [<paramref name="ow"/>, <paramref name="owHi"/>) (at least one vector) of one row, by vectors; returns <paramref name="owHi"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Interior<TShape, TOp, TSimd, TVec>(ref float plane, ref float yRow, int hstart, int khLo, int khHi, int ow, int owHi, float inv)
        where TShape : struct, IPoolShape where TOp : struct, IPoolOp where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        for (; ow <= owHi - TSimd.Count; ow += TSimd.Count)
            TSimd.Store(Window<TShape, TOp, TSimd, TVec>(ref plane, hstart, khLo, khHi, ow, inv), ref yRow, ow);
        // The last vector overlaps the previous one: recomputed outputs get the same values.
        if (ow < owHi) TSimd.Store(Window<TShape, TOp, TSimd, TVec>(ref plane, hstart, khLo, khHi, owHi - TSimd.Count, inv), ref yRow, owHi - TSimd.Count);
        return owHi;
    }

    /// <summary>
    /// <c>Count</c> outputs from <paramref name="ow"/> whose windows lie inside the input columns:
    /// 2-wide stride-2 windows by pairwise reduction, stride-1 windows by shifted loads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Window<TShape, TOp, TSimd, TVec>(ref float plane, int hstart, int khLo, int khHi, int ow, float inv)
        where TShape : struct, IPoolShape where TOp : struct, IPoolOp where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        TVec v;
        if (TShape.KernelWidth == 2 && TShape.StrideWidth == 2 && TShape.DilationWidth == 1)
        {
            TVec v0 = TSimd.Splat(TOp.Identity), v1 = v0;
            ref float col = ref Unsafe.Add(ref plane, ow * 2 - TShape.PadLeft);
            for (int kh = khLo; kh < khHi; kh++)
            {
                ref float r = ref Unsafe.Add(ref col, (nint)(hstart + kh * TShape.DilationHeight) * TShape.InWidth);
                v0 = TOp.Combine<TSimd, TVec>(v0, TSimd.Load(ref r, 0));
                v1 = TOp.Combine<TSimd, TVec>(v1, TSimd.Load(ref r, TSimd.Count));
            }
            v = TOp.Pairs<TSimd, TVec>(v0, v1);
        }
        else
        {
            v = TSimd.Splat(TOp.Identity);
            ref float col = ref Unsafe.Add(ref plane, ow - TShape.PadLeft);
            for (int kh = khLo; kh < khHi; kh++)
            {
                ref float r = ref Unsafe.Add(ref col, (nint)(hstart + kh * TShape.DilationHeight) * TShape.InWidth);
                for (int k = 0; k < TShape.KernelWidth; k++) v = TOp.Combine<TSimd, TVec>(v, TSimd.Load(ref r, k * TShape.DilationWidth));
            }
        }
        return TOp.IsAverage ? TSimd.Multiply(v, TSimd.Splat(inv)) : v;
    }

    /// <summary>One output element from its valid taps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Element<TShape, TOp>(ref float plane, int hstart, int khLo, int khHi, int paddedH, int ow)
        where TShape : struct, IPoolShape where TOp : struct, IPoolOp
    {
        var (kwLo, kwHi) = ValidTaps(ow, TShape.StrideWidth, TShape.PadLeft, TShape.DilationWidth, TShape.KernelWidth, TShape.InWidth);
        int wstart = ow * TShape.StrideWidth - TShape.PadLeft;
        float acc = TOp.Identity;
        for (int kh = khLo; kh < khHi; kh++)
        {
            ref float r = ref Unsafe.Add(ref plane, (nint)(hstart + kh * TShape.DilationHeight) * TShape.InWidth + wstart);
            for (int k = kwLo; k < kwHi; k++) acc = TOp.Combine(acc, Unsafe.Add(ref r, k * TShape.DilationWidth));
        }
        if (!TOp.IsAverage) return acc;
        int count = TShape.CountIncludePad
            ? paddedH * PaddedTaps(ow, TShape.StrideWidth, TShape.PadLeft, TShape.DilationWidth, TShape.KernelWidth, TShape.InWidth + TShape.PadRight)
            : (khHi - khLo) * (kwHi - kwLo);
        return count == 0 ? 0f : acc / count;
    }

    /// <summary>Taps [lo, hi) of output position <paramref name="o"/> that read inside [0, <paramref name="size"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Lo, int Hi) ValidTaps(int o, int stride, int padBegin, int dilation, int kernel, int size)
    {
        int start = o * stride - padBegin;
        int lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
        int last = size - 1 - start;
        int hi = last < 0 ? 0 : Math.Min(kernel, last / dilation + 1);
        return (Math.Min(lo, hi), hi);
    }

    /// <summary>Taps of output position <paramref name="o"/> inside the padded extent [-padBegin, <paramref name="paddedEnd"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PaddedTaps(int o, int stride, int padBegin, int dilation, int kernel, int paddedEnd)
    {
        int start = o * stride - padBegin;
        int last = paddedEnd - 1 - start;
        return last < 0 ? 0 : Math.Min(kernel, last / dilation + 1);
    }
}

/// <summary>Compile-time facts of an N-d (1-3 spatial axes) MaxPool / AveragePool step over <see cref="Planes"/> planes.</summary>
internal interface IPoolNdShape : IWindow3Shape
{
    /// <summary>Planes (N·C).</summary>
    static abstract int Planes { get; }

    /// <summary>Padding after the input along depth (the padded extent count_include_pad counts).</summary>
    static abstract int PadEndD { get; }

    /// <summary>Padding after along height.</summary>
    static abstract int PadEndH { get; }

    /// <summary>Padding after along width.</summary>
    static abstract int PadEndW { get; }

    /// <summary>AveragePool: divide by the window's size within the padded input (true) or by its input elements.</summary>
    static abstract bool CountIncludePad { get; }

    /// <summary>MaxPool Indices: spatial offsets column-major (storage_order 1).</summary>
    static abstract bool ColumnMajor { get; }
}

/// <summary>
/// MaxPool and AveragePool over 1-3 spatial axes for any element type (MaxPool: float, double,
/// float16, int8, uint8; AveragePool: float, double), window by window with each axis' valid taps,
/// as the engine's kernels: a max window keeps its first maximum (its int64 Indices output counts
/// from the start of the input, spatial axes in storage_order), an average divides by the input
/// elements of the window or, with count_include_pad, by its size within the padded input. Also the
/// global poolings of any spatial rank.
/// </summary>
internal static class PoolingNd
{
    /// <summary>MaxPool; <paramref name="indices"/> is empty when the step has no Indices output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max<TShape, T>(ReadOnlySpan<T> x, Span<T> y, Span<long> indices)
        where TShape : struct, IPoolNdShape where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        int inSize = TShape.InD * TShape.InH * TShape.InW, outSize = TShape.OutD * TShape.OutH * TShape.OutW;
        Guard.Length(x.Length, (long)TShape.Planes * inSize, "MaxPool X");
        Guard.Length(y.Length, (long)TShape.Planes * outSize, "MaxPool Y");
        bool withIndices = !indices.IsEmpty;
        if (withIndices) Guard.Length(indices.Length, (long)TShape.Planes * outSize, "MaxPool Indices");
        ref T x0 = ref MemoryMarshal.GetReference(x);
        int o = 0;
        for (int p = 0; p < TShape.Planes; p++)
        {
            ref T plane = ref Unsafe.Add(ref x0, (nint)p * inSize);
            for (int od = 0; od < TShape.OutD; od++)
            {
                var (dLo, dHi) = Taps(od, TShape.StrideD, TShape.PadBeginD, TShape.DilationD, TShape.KernelD, TShape.InD);
                int dStart = od * TShape.StrideD - TShape.PadBeginD;
                for (int oh = 0; oh < TShape.OutH; oh++)
                {
                    var (hLo, hHi) = Taps(oh, TShape.StrideH, TShape.PadBeginH, TShape.DilationH, TShape.KernelH, TShape.InH);
                    int hStart = oh * TShape.StrideH - TShape.PadBeginH;
                    for (int ow = 0; ow < TShape.OutW; ow++, o++)
                    {
                        var (wLo, wHi) = Taps(ow, TShape.StrideW, TShape.PadBeginW, TShape.DilationW, TShape.KernelW, TShape.InW);
                        int wStart = ow * TShape.StrideW - TShape.PadBeginW;
                        T best = T.MinValue;
                        int arg = -1;
                        for (int kd = dLo; kd < dHi; kd++)
                        {
                            int id = dStart + kd * TShape.DilationD;
                            for (int kh = hLo; kh < hHi; kh++)
                            {
                                int row = (id * TShape.InH + hStart + kh * TShape.DilationH) * TShape.InW + wStart;
                                for (int kw = wLo; kw < wHi; kw++)
                                {
                                    int i = row + kw * TShape.DilationW;
                                    T v = Unsafe.Add(ref plane, i);
                                    if (arg < 0 || v > best)
                                    {
                                        best = v;
                                        arg = i;
                                    }
                                }
                            }
                        }
                        y[o] = best;
                        if (withIndices) indices[o] = arg < 0 ? -1 : (long)p * inSize + Spatial<TShape>(arg);
                    }
                }
            }
        }
    }

    /// <summary>A plane offset as the Indices output counts it (storage_order 1: column-major spatial axes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Spatial<TShape>(int a) where TShape : struct, IPoolNdShape
    {
        if (!TShape.ColumnMajor) return a;
        int w = a % TShape.InW, h = a / TShape.InW % TShape.InH, d = a / (TShape.InH * TShape.InW);
        return d + (long)TShape.InD * (h + (long)TShape.InH * w);
    }

    /// <summary>AveragePool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Average<TShape, T>(ReadOnlySpan<T> x, Span<T> y)
        where TShape : struct, IPoolNdShape where T : unmanaged, INumber<T>
    {
        int inSize = TShape.InD * TShape.InH * TShape.InW, outSize = TShape.OutD * TShape.OutH * TShape.OutW;
        Guard.Length(x.Length, (long)TShape.Planes * inSize, "AveragePool X");
        Guard.Length(y.Length, (long)TShape.Planes * outSize, "AveragePool Y");
        ref T x0 = ref MemoryMarshal.GetReference(x);
        int o = 0;
        for (int p = 0; p < TShape.Planes; p++)
        {
            ref T plane = ref Unsafe.Add(ref x0, (nint)p * inSize);
            for (int od = 0; od < TShape.OutD; od++)
            {
                var (dLo, dHi) = Taps(od, TShape.StrideD, TShape.PadBeginD, TShape.DilationD, TShape.KernelD, TShape.InD);
                int dPad = Padded(od, TShape.StrideD, TShape.PadBeginD, TShape.DilationD, TShape.KernelD, TShape.InD + TShape.PadEndD);
                int dStart = od * TShape.StrideD - TShape.PadBeginD;
                for (int oh = 0; oh < TShape.OutH; oh++)
                {
                    var (hLo, hHi) = Taps(oh, TShape.StrideH, TShape.PadBeginH, TShape.DilationH, TShape.KernelH, TShape.InH);
                    int hPad = Padded(oh, TShape.StrideH, TShape.PadBeginH, TShape.DilationH, TShape.KernelH, TShape.InH + TShape.PadEndH);
                    int hStart = oh * TShape.StrideH - TShape.PadBeginH;
                    for (int ow = 0; ow < TShape.OutW; ow++, o++)
                    {
                        var (wLo, wHi) = Taps(ow, TShape.StrideW, TShape.PadBeginW, TShape.DilationW, TShape.KernelW, TShape.InW);
                        int wStart = ow * TShape.StrideW - TShape.PadBeginW;
                        T sum = T.Zero;
                        for (int kd = dLo; kd < dHi; kd++)
                        {
                            int id = dStart + kd * TShape.DilationD;
                            for (int kh = hLo; kh < hHi; kh++)
                            {
                                int row = (id * TShape.InH + hStart + kh * TShape.DilationH) * TShape.InW + wStart;
                                for (int kw = wLo; kw < wHi; kw++) sum += Unsafe.Add(ref plane, row + kw * TShape.DilationW);
                            }
                        }
                        int divisor = TShape.CountIncludePad
                            ? dPad * hPad * Padded(ow, TShape.StrideW, TShape.PadBeginW, TShape.DilationW, TShape.KernelW, TShape.InW + TShape.PadEndW)
                            : (dHi - dLo) * (hHi - hLo) * (wHi - wLo);
                        y[o] = sum / T.CreateChecked(divisor);
                    }
                }
            }
        }
    }

    /// <summary>GlobalMaxPool: the maximum of each plane (NaN if the plane has one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalMax<TShape, T>(ReadOnlySpan<T> x, Span<T> y)
        where TShape : struct, IGlobalPoolShape where T : unmanaged, INumber<T>
    {
        Guard.Length(x.Length, (long)TShape.Channels * TShape.Size, "GlobalMaxPool X");
        Guard.Length(y.Length, TShape.Channels, "GlobalMaxPool Y");
        for (int c = 0; c < TShape.Channels; c++)
        {
            var plane = x.Slice(c * TShape.Size, TShape.Size);
            T best = plane[0];
            for (int i = 0; i < plane.Length; i++)
            {
                T v = plane[i];
                if (T.IsNaN(v))
                {
                    best = v;
                    break;
                }
                if (v > best) best = v;
            }
            y[c] = best;
        }
    }

    /// <summary>GlobalAveragePool for element types other than float (float has <see cref="Pooling.GlobalAverage{TShape, TSimd, TVec}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAverage<TShape, T>(ReadOnlySpan<T> x, Span<T> y)
        where TShape : struct, IGlobalPoolShape where T : unmanaged, INumber<T>
    {
        Guard.Length(x.Length, (long)TShape.Channels * TShape.Size, "GlobalAveragePool X");
        Guard.Length(y.Length, TShape.Channels, "GlobalAveragePool Y");
        for (int c = 0; c < TShape.Channels; c++)
        {
            T sum = T.Zero;
            foreach (T v in x.Slice(c * TShape.Size, TShape.Size)) sum += v;
            y[c] = sum / T.CreateChecked(TShape.Size);
        }
    }

    /// <summary>Taps [lo, hi) of output position <paramref name="o"/> that read inside [0, <paramref name="size"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Lo, int Hi) Taps(int o, int stride, int padBegin, int dilation, int kernel, int size)
    {
        int start = o * stride - padBegin;
        int lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
        int last = size - 1 - start;
        int hi = last < 0 ? 0 : Math.Min(kernel, last / dilation + 1);
        return (Math.Min(lo, hi), hi);
    }

    /// <summary>Taps of output position <paramref name="o"/> inside the padded extent [-padBegin, <paramref name="paddedEnd"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Padded(int o, int stride, int padBegin, int dilation, int kernel, int paddedEnd)
    {
        int start = o * stride - padBegin;
        int last = paddedEnd - 1 - start;
        return last < 0 ? 0 : Math.Min(kernel, last / dilation + 1);
    }
}
