namespace CompressBuild.Runtime;

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

/// <summary>
/// Geometry of one 2-D convolution step (NCHW, one sample), float or integer. Weights are
/// <c>[OutChannels, InChannels / Groups, KernelHeight, KernelWidth]</c>. The generator emits one
/// struct per step; the JIT folds every member into the kernel's loops.
/// </summary>
internal interface IConvGeometry
{
    /// <summary>C.</summary>
    static abstract int InChannels { get; }

    /// <summary>H.</summary>
    static abstract int InHeight { get; }

    /// <summary>W.</summary>
    static abstract int InWidth { get; }

    /// <summary>M (output channels).</summary>
    static abstract int OutChannels { get; }

    /// <summary>Output height.</summary>
    static abstract int OutHeight { get; }

    /// <summary>Output width.</summary>
    static abstract int OutWidth { get; }

    /// <summary>Kernel height.</summary>
    static abstract int KernelHeight { get; }

    /// <summary>Kernel width.</summary>
    static abstract int KernelWidth { get; }

    /// <summary>Vertical stride.</summary>
    static abstract int StrideHeight { get; }

    /// <summary>Horizontal stride.</summary>
    static abstract int StrideWidth { get; }

    /// <summary>Vertical dilation.</summary>
    static abstract int DilationHeight { get; }

    /// <summary>Horizontal dilation.</summary>
    static abstract int DilationWidth { get; }

    /// <summary>Zero rows before the input.</summary>
    static abstract int PadTop { get; }

    /// <summary>Zero columns before the input.</summary>
    static abstract int PadLeft { get; }

    /// <summary>Groups (InChannels for depthwise).</summary>
    static abstract int Groups { get; }
}

/// <summary>Compile-time facts of one float 2-D convolution step: its geometry, bias, weight scales and fused Relu.</summary>
internal interface IConvShape : IConvGeometry
{
    /// <summary>True when there is a bias input.</summary>
    static abstract bool HasBias { get; }

    /// <summary>For quantized weights: one scale per output channel (true) or one for all (false).</summary>
    static abstract bool ScalePerChannel { get; }

    /// <summary>Fused Relu.</summary>
    static abstract bool Relu { get; }
}

/// <summary>Compile-time facts of a Conv step whose weights are packed (<see cref="IPackedFormat"/>).</summary>
internal interface IPackedConvShape : IConvShape
{
    /// <summary>Taps (of one output channel's <c>InChannels / Groups · KernelHeight · KernelWidth</c>) per fp16 scale.</summary>
    static abstract int Block { get; }
}

/// <summary>
/// 2-D convolution, direct and register-blocked: output pixels run along vector lanes; each inner
/// loop computes four output channels × two vectors (or one/two channels × four vectors) of pixels,
/// eight independent FMA accumulators, with the weights broadcast from the blob.
/// </summary>
/// <remarks>
/// The input is first staged into scratch with its zero padding materialized and, for horizontal
/// stride s &gt; 1, each row split into s phases (columns j ≡ p mod s together), so every tap of every
/// stride reads contiguous vectors. With stride 1 the output is computed over the flattened padded
/// plane (rows of the padded width; the few columns past the output width are discarded), which keeps
/// the lanes busy on narrow images. Results go to an output staging area and are compacted into Y.
/// fp16, int8, int4 and int2 weights are dequantized per 4-channel block into a small float panel
/// (scales folded in); fp32 weights are read straight from the blob. Scratch size: <see cref="ScratchFloats{TShape}"/>.
/// </remarks>
internal static class Conv
{
    /// <summary>Zeroed floats after each staging area, so whole-vector reads and writes past the last useful element stay inside scratch.</summary>
    public const int Slack = 64;

    /// <summary>Output channels computed together.</summary>
    public const int ChannelBlock = 4;

    /// <summary>Floats of scratch the step needs (the generator reserves this in the arena; it mirrors the formula, and every call checks it).</summary>
    public static int ScratchFloats<T>() where T : struct, IConvShape =>
        InputStagingFloats<T>() + T.OutChannels * OutPlane<T>() + ChannelBlock * (T.InChannels / T.Groups) * T.KernelHeight * T.KernelWidth;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PaddedHeight<T>() where T : struct, IConvShape => (T.OutHeight - 1) * T.StrideHeight + (T.KernelHeight - 1) * T.DilationHeight + 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PaddedWidth<T>() where T : struct, IConvShape => (T.OutWidth - 1) * T.StrideWidth + (T.KernelWidth - 1) * T.DilationWidth + 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Flat<T>() where T : struct, IConvShape => T.StrideHeight == 1 && T.StrideWidth == 1;

    /// <summary>Elements per phase of a staged row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PhaseWidth<T>() where T : struct, IConvShape => (PaddedWidth<T>() + T.StrideWidth - 1) / T.StrideWidth;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RowLength<T>() where T : struct, IConvShape => T.StrideWidth * PhaseWidth<T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InPlane<T>() where T : struct, IConvShape => PaddedHeight<T>() * RowLength<T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InputStagingFloats<T>() where T : struct, IConvShape => T.InChannels * InPlane<T>() + Slack;

    /// <summary>Output staging: distance between output rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int OutPitch<T>() where T : struct, IConvShape => Flat<T>() ? RowLength<T>() : (T.OutWidth + Slack - 1) / Slack * Slack;

    /// <summary>Output staging: distance between output channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int OutPlane<T>() where T : struct, IConvShape => T.OutHeight * OutPitch<T>() + Slack;

    /// <summary>Input staging: offset of kernel column <paramref name="kw"/> within a staged row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint TapOffset<T>(int kw) where T : struct, IConvShape
    {
        int col = kw * T.DilationWidth;
        return T.StrideWidth == 1 ? col : col % T.StrideWidth * PhaseWidth<T>() + col / T.StrideWidth;
    }

    /// <summary>Runs one Conv step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TShape, TW, TSimd, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<byte> w, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch)
        where TShape : struct, IConvShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        WeightReader.RequireBytes<TW>(w, (long)TShape.OutChannels * Taps<TShape>(), "Conv W");
        if (TW.HasScales) Guard.Length(scales.Length, TShape.ScalePerChannel ? TShape.OutChannels : 1, "Conv scales");
        Execute<TShape, Dense<TW>, TSimd, TVec>(x, w, MemoryMarshal.AsBytes(scales), 0, bias, y, scratch);
    }

    /// <summary>Runs one Conv step with packed weights (int4 / int2) and fp16 block scales along each output channel's taps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunPacked<TShape, TP, TSimd, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<byte> w, ReadOnlySpan<byte> scales, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch)
        where TShape : struct, IPackedConvShape where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(w.Length, Packed.Bytes<TP>((long)TShape.OutChannels * Taps<TShape>()), "Conv W (packed bytes)");
        Guard.Length(scales.Length, 2L * TShape.OutChannels * ((Taps<TShape>() + TShape.Block - 1) / TShape.Block), "Conv scales (fp16 bytes)");
        Execute<TShape, PackedSource<TP>, TSimd, TVec>(x, w, scales, TShape.Block, bias, y, scratch);
    }

    /// <summary>Weights per output channel (the taps of its group's input channels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Taps<T>() where T : struct, IConvShape => T.InChannels / T.Groups * T.KernelHeight * T.KernelWidth;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Execute<TShape, TSource, TSimd, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<byte> w, ReadOnlySpan<byte> scales, int block, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch)
        where TShape : struct, IConvShape where TSource : struct, IPanelSource where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int icg = TShape.InChannels / TShape.Groups, ocg = TShape.OutChannels / TShape.Groups;
        Guard.Length(x.Length, (long)TShape.InChannels * TShape.InHeight * TShape.InWidth, "Conv X");
        if (TShape.HasBias) Guard.Length(bias.Length, TShape.OutChannels, "Conv B");
        Guard.Length(y.Length, (long)TShape.OutChannels * TShape.OutHeight * TShape.OutWidth, "Conv Y");
        Guard.Length(scratch.Length, ScratchFloats<TShape>(), "Conv scratch");

        ref float staged = ref MemoryMarshal.GetReference(scratch);
        ref float outStaged = ref Unsafe.Add(ref staged, InputStagingFloats<TShape>());
        ref float panel = ref Unsafe.Add(ref outStaged, (nint)TShape.OutChannels * OutPlane<TShape>());
        StageInput<TShape, TSimd, TVec>(ref MemoryMarshal.GetReference(x), ref staged);
        Rows.Clear<TSimd, TVec>(ref Unsafe.Add(ref staged, (nint)TShape.InChannels * InPlane<TShape>()), Slack);

        ref byte wb = ref MemoryMarshal.GetReference(w);
        ref byte sc = ref MemoryMarshal.GetReference(scales);
        ref float bs = ref MemoryMarshal.GetReference(bias);
        for (int g = 0; g < TShape.Groups; g++)
        {
            ref float inG = ref Unsafe.Add(ref staged, (nint)g * icg * InPlane<TShape>());
            int ob = 0;
            for (; ob <= ocg - ChannelBlock; ob += ChannelBlock)
                Block<TShape, TSource, TSimd, TVec, Four>(g * ocg + ob, ref inG, ref wb, ref sc, block, ref bs, ref outStaged, ref panel);
            switch (ocg - ob)
            {
                case 3: Block<TShape, TSource, TSimd, TVec, Three>(g * ocg + ob, ref inG, ref wb, ref sc, block, ref bs, ref outStaged, ref panel); break;
                case 2: Block<TShape, TSource, TSimd, TVec, Two>(g * ocg + ob, ref inG, ref wb, ref sc, block, ref bs, ref outStaged, ref panel); break;
                case 1: Block<TShape, TSource, TSimd, TVec, One>(g * ocg + ob, ref inG, ref wb, ref sc, block, ref bs, ref outStaged, ref panel); break;
            }
        }

        // Compact the staged rows into Y.
        ref float y0 = ref MemoryMarshal.GetReference(y);
        int ow = TShape.OutWidth;
        for (int oc = 0; oc < TShape.OutChannels; oc++)
            for (int oh = 0; oh < TShape.OutHeight; oh++)
                Rows.Copy<TSimd, TVec>(ref Unsafe.Add(ref outStaged, (nint)oc * OutPlane<TShape>() + (nint)oh * OutPitch<TShape>()),
                    ref Unsafe.Add(ref y0, ((nint)oc * TShape.OutHeight + oh) * ow), ow);
    }

    /// <summary>Where a block of output channels finds its float weights (scale folded in).</summary>
    private interface IPanelSource
    {
        /// <summary>
        /// The <paramref name="count"/> channels' weights from <paramref name="oc0"/>, rows of <c>Taps</c>
        /// floats: in the blob (fp32) or dequantized into <paramref name="panel"/>. <paramref name="block"/>:
        /// taps per scale of packed weights.
        /// </summary>
        static abstract ref float Weights<TShape, TSimd, TVec>(int oc0, int count, ref byte w, ref byte scales, int block, ref float panel)
            where TShape : struct, IConvShape where TSimd : struct, ISimd<TVec> where TVec : struct;
    }

    /// <summary>fp32 (read in place), fp16 and int8 weights (fp32 scales per channel or one).</summary>
    private readonly struct Dense<TW> : IPanelSource where TW : struct, IWeightFormat
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ref float Weights<TShape, TSimd, TVec>(int oc0, int count, ref byte w, ref byte scales, int block, ref float panel)
            where TShape : struct, IConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            int ickk = Taps<TShape>();
            if (typeof(TW) == typeof(F32)) return ref Unsafe.As<byte, float>(ref Unsafe.Add(ref w, (nint)oc0 * ickk * 4));
            ref float sc = ref Unsafe.As<byte, float>(ref scales);
            for (int j = 0; j < count; j++)
            {
                float s = TW.HasScales ? (TShape.ScalePerChannel ? Unsafe.Add(ref sc, oc0 + j) : sc) : 1f;
                WeightReader.Dequantize<TW, TSimd, TVec>(ref w, (nint)(oc0 + j) * ickk, ickk, s, ref Unsafe.Add(ref panel, (nint)j * ickk));
            }
            return ref panel;
        }
    }

    /// <summary>Packed int4 / int2 weights, unpacked and scaled block by block.</summary>
    private readonly struct PackedSource<TP> : IPanelSource where TP : struct, IPackedFormat
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ref float Weights<TShape, TSimd, TVec>(int oc0, int count, ref byte w, ref byte scales, int block, ref float panel)
            where TShape : struct, IConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            int ickk = Taps<TShape>();
            int blocks = (ickk + block - 1) / block;
            for (int j = 0; j < count; j++)
                Packed.Dequantize<TP, TSimd, TVec>(ref w, (nint)(oc0 + j) * ickk, ickk, ref Unsafe.Add(ref scales, (nint)(oc0 + j) * blocks * 2), block, ref Unsafe.Add(ref panel, (nint)j * ickk));
            return ref panel;
        }
    }

    /// <summary>Copies X into the padded (and, for stride &gt; 1, phase-split) staging planes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StageInput<T, TSimd, TVec>(ref float x, ref float staged) where T : struct, IConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int hp = PaddedHeight<T>(), wp = PaddedWidth<T>(), lrow = RowLength<T>(), wq = PhaseWidth<T>();
        for (int c = 0; c < T.InChannels; c++)
        {
            ref float plane = ref Unsafe.Add(ref staged, (nint)c * InPlane<T>());
            ref float xPlane = ref Unsafe.Add(ref x, (nint)c * T.InHeight * T.InWidth);
            for (int r = 0; r < hp; r++)
            {
                ref float row = ref Unsafe.Add(ref plane, (nint)r * lrow);
                int ih = r - T.PadTop;
                if ((uint)ih >= (uint)T.InHeight)
                {
                    Rows.Clear<TSimd, TVec>(ref row, lrow);
                    continue;
                }
                ref float xRow = ref Unsafe.Add(ref xPlane, (nint)ih * T.InWidth);
                if (T.StrideWidth == 1)
                {
                    int left = Math.Min(T.PadLeft, lrow);
                    int count = Math.Max(0, Math.Min(T.InWidth, lrow - T.PadLeft));
                    if (left > 0) Rows.Clear<TSimd, TVec>(ref row, left);
                    if (count > 0) Rows.Copy<TSimd, TVec>(ref xRow, ref Unsafe.Add(ref row, left), count);
                    if (lrow - left - count > 0) Rows.Clear<TSimd, TVec>(ref Unsafe.Add(ref row, left + count), lrow - left - count);
                }
                else
                {
                    for (int ph = 0; ph < T.StrideWidth; ph++)
                        for (int i = 0; i < wq; i++)
                        {
                            int j = i * T.StrideWidth + ph;
                            int iw = j - T.PadLeft;
                            Unsafe.Add(ref row, ph * wq + i) = j < wp && (uint)iw < (uint)T.InWidth ? Unsafe.Add(ref xRow, iw) : 0f;
                        }
                }
            }
        }
    }

    /// <summary>All output pixels of <typeparamref name="TCount"/> (1-4) channels starting at <paramref name="oc0"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TShape, TSource, TSimd, TVec, TCount>(int oc0, ref float inG, ref byte wb, ref byte scales, int block, ref float bias, ref float outStaged, ref float panel)
        where TShape : struct, IConvShape where TSource : struct, IPanelSource where TSimd : struct, ISimd<TVec> where TVec : struct where TCount : struct, IConstant
    {
        int count = TCount.Value;
        ref float wf = ref TSource.Weights<TShape, TSimd, TVec>(oc0, count, ref wb, ref scales, block, ref panel);
        float b0 = 0f, b1 = 0f, b2 = 0f, b3 = 0f;
        if (TShape.HasBias)
        {
            b0 = Unsafe.Add(ref bias, oc0);
            if (count > 1) b1 = Unsafe.Add(ref bias, oc0 + 1);
            if (count > 2) b2 = Unsafe.Add(ref bias, oc0 + 2);
            if (count > 3) b3 = Unsafe.Add(ref bias, oc0 + 3);
        }
        ref float o = ref Unsafe.Add(ref outStaged, (nint)oc0 * OutPlane<TShape>());
        // One or two channels: four pixel vectors keep eight accumulators busy (wide rows only).
        if (count <= 2 && (Flat<TShape>() || TShape.OutWidth >= 3 * TSimd.Count))
            Pixels<TShape, TSimd, TVec, TCount, Four>(ref inG, ref wf, ref o, b0, b1, b2, b3);
        else
            Pixels<TShape, TSimd, TVec, TCount, Two>(ref inG, ref wf, ref o, b0, b1, b2, b3);
    }

    /// <summary>Walks the output pixels in tiles of <typeparamref name="TPix"/> vectors (the flat plane, or row by row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pixels<TShape, TSimd, TVec, TCount, TPix>(ref float inG, ref float wf, ref float o, float b0, float b1, float b2, float b3)
        where TShape : struct, IConvShape where TSimd : struct, ISimd<TVec> where TVec : struct where TCount : struct, IConstant where TPix : struct, IConstant
    {
        int tile = TPix.Value * TSimd.Count;
        if (Flat<TShape>())
        {
            int len = (TShape.OutHeight - 1) * RowLength<TShape>() + TShape.OutWidth;
            for (int p = 0; p < len; p += tile)
                Micro<TShape, TSimd, TVec, TCount, TPix>(ref Unsafe.Add(ref inG, p), ref wf, ref Unsafe.Add(ref o, p), b0, b1, b2, b3);
        }
        else
        {
            for (int oh = 0; oh < TShape.OutHeight; oh++)
            {
                ref float inRow = ref Unsafe.Add(ref inG, (nint)oh * TShape.StrideHeight * RowLength<TShape>());
                ref float outRow = ref Unsafe.Add(ref o, (nint)oh * OutPitch<TShape>());
                for (int p = 0; p < TShape.OutWidth; p += tile)
                    Micro<TShape, TSimd, TVec, TCount, TPix>(ref Unsafe.Add(ref inRow, p), ref wf, ref Unsafe.Add(ref outRow, p), b0, b1, b2, b3);
            }
        }
    }

    /// <summary>
    /// <typeparamref name="TCount"/> channels × <typeparamref name="TPix"/> vectors of output pixels
    /// (4×2 or 2×4 / 1×4: up to 8 independent accumulators): every tap loads the pixel vectors once
    /// and broadcasts one weight per channel.
    /// </summary>
    // Too many locals for the JIT to inline: compiled on its own, fully optimized from the first call.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro<TShape, TSimd, TVec, TCount, TPix>(ref float x, ref float w, ref float o, float b0, float b1, float b2, float b3)
        where TShape : struct, IConvShape where TSimd : struct, ISimd<TVec> where TVec : struct where TCount : struct, IConstant where TPix : struct, IConstant
    {
        int count = TCount.Value, pix = TPix.Value;
        int n = TSimd.Count;
        int ickk = TShape.InChannels / TShape.Groups * TShape.KernelHeight * TShape.KernelWidth;
        TVec a00 = TSimd.Zero, a01 = TSimd.Zero, a02 = TSimd.Zero, a03 = TSimd.Zero;
        TVec a10 = TSimd.Zero, a11 = TSimd.Zero, a12 = TSimd.Zero, a13 = TSimd.Zero;
        TVec a20 = TSimd.Zero, a21 = TSimd.Zero, a30 = TSimd.Zero, a31 = TSimd.Zero;
        ref float w1 = ref Unsafe.Add(ref w, ickk);
        ref float w2 = ref Unsafe.Add(ref w, 2 * ickk);
        ref float w3 = ref Unsafe.Add(ref w, 3 * ickk);
        nint t = 0;
        for (int ic = 0; ic < TShape.InChannels / TShape.Groups; ic++)
        {
            ref float xc = ref Unsafe.Add(ref x, (nint)ic * InPlane<TShape>());
            for (int kh = 0; kh < TShape.KernelHeight; kh++)
            {
                ref float xr = ref Unsafe.Add(ref xc, (nint)kh * TShape.DilationHeight * RowLength<TShape>());
                for (int kw = 0; kw < TShape.KernelWidth; kw++, t++)
                {
                    nint off = TapOffset<TShape>(kw);
                    TVec x0 = TSimd.Load(ref xr, off);
                    TVec x1 = TSimd.Load(ref xr, off + n);
                    TVec x2 = pix > 2 ? TSimd.Load(ref xr, off + 2 * n) : default;
                    TVec x3 = pix > 2 ? TSimd.Load(ref xr, off + 3 * n) : default;
                    TVec v = TSimd.Splat(Unsafe.Add(ref w, t));
                    a00 = TSimd.MultiplyAdd(x0, v, a00);
                    a01 = TSimd.MultiplyAdd(x1, v, a01);
                    if (pix > 2)
                    {
                        a02 = TSimd.MultiplyAdd(x2, v, a02);
                        a03 = TSimd.MultiplyAdd(x3, v, a03);
                    }
                    if (count > 1)
                    {
                        v = TSimd.Splat(Unsafe.Add(ref w1, t));
                        a10 = TSimd.MultiplyAdd(x0, v, a10);
                        a11 = TSimd.MultiplyAdd(x1, v, a11);
                        if (pix > 2)
                        {
                            a12 = TSimd.MultiplyAdd(x2, v, a12);
                            a13 = TSimd.MultiplyAdd(x3, v, a13);
                        }
                    }
                    if (count > 2)
                    {
                        v = TSimd.Splat(Unsafe.Add(ref w2, t));
                        a20 = TSimd.MultiplyAdd(x0, v, a20);
                        a21 = TSimd.MultiplyAdd(x1, v, a21);
                    }
                    if (count > 3)
                    {
                        v = TSimd.Splat(Unsafe.Add(ref w3, t));
                        a30 = TSimd.MultiplyAdd(x0, v, a30);
                        a31 = TSimd.MultiplyAdd(x1, v, a31);
                    }
                }
            }
        }
        nint plane = OutPlane<TShape>();
        Store<TShape, TSimd, TVec>(a00, a01, b0, ref o, n);
        if (pix > 2) Store<TShape, TSimd, TVec>(a02, a03, b0, ref Unsafe.Add(ref o, 2 * n), n);
        if (count > 1)
        {
            Store<TShape, TSimd, TVec>(a10, a11, b1, ref Unsafe.Add(ref o, plane), n);
            if (pix > 2) Store<TShape, TSimd, TVec>(a12, a13, b1, ref Unsafe.Add(ref o, plane + 2 * n), n);
        }
        if (count > 2) Store<TShape, TSimd, TVec>(a20, a21, b2, ref Unsafe.Add(ref o, 2 * plane), n);
        if (count > 3) Store<TShape, TSimd, TVec>(a30, a31, b3, ref Unsafe.Add(ref o, 3 * plane), n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TShape, TSimd, TVec>(TVec a0, TVec a1, float bias, ref float o, int n)
        where TShape : struct, IConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (TShape.HasBias)
        {
            TVec b = TSimd.Splat(bias);
            a0 = TSimd.Add(a0, b);
            a1 = TSimd.Add(a1, b);
        }
        if (TShape.Relu)
        {
            a0 = TSimd.Max(a0, TSimd.Zero);
            a1 = TSimd.Max(a1, TSimd.Zero);
        }
        TSimd.Store(a0, ref o, 0);
        TSimd.Store(a1, ref o, n);
    }
}

/// <summary>
/// Compile-time facts of a window over three spatial axes (depth, height, width; ops with fewer
/// spatial axes have leading axes of size 1, kernel 1, stride 1 and no padding), shared by the N-d
/// convolution, transposed convolution and pooling kernels.
/// </summary>
internal interface IWindow3Shape
{
    /// <summary>Input depth.</summary>
    static abstract int InD { get; }

    /// <summary>Input height.</summary>
    static abstract int InH { get; }

    /// <summary>Input width.</summary>
    static abstract int InW { get; }

    /// <summary>Output depth.</summary>
    static abstract int OutD { get; }

    /// <summary>Output height.</summary>
    static abstract int OutH { get; }

    /// <summary>Output width.</summary>
    static abstract int OutW { get; }

    /// <summary>Kernel depth.</summary>
    static abstract int KernelD { get; }

    /// <summary>Kernel height.</summary>
    static abstract int KernelH { get; }

    /// <summary>Kernel width.</summary>
    static abstract int KernelW { get; }

    /// <summary>Depth stride.</summary>
    static abstract int StrideD { get; }

    /// <summary>Vertical stride.</summary>
    static abstract int StrideH { get; }

    /// <summary>Horizontal stride.</summary>
    static abstract int StrideW { get; }

    /// <summary>Depth dilation.</summary>
    static abstract int DilationD { get; }

    /// <summary>Vertical dilation.</summary>
    static abstract int DilationH { get; }

    /// <summary>Horizontal dilation.</summary>
    static abstract int DilationW { get; }

    /// <summary>Padding before the input along depth (ConvTranspose: before the output).</summary>
    static abstract int PadBeginD { get; }

    /// <summary>Padding before along height.</summary>
    static abstract int PadBeginH { get; }

    /// <summary>Padding before along width.</summary>
    static abstract int PadBeginW { get; }
}

/// <summary>
/// Compile-time facts of an N-d (1-3 spatial axes) Conv or ConvTranspose step. Conv: weights
/// <c>[OutChannels, InChannels / Groups, k…]</c>, scales per output channel. ConvTranspose:
/// weights <c>[InChannels, OutChannels / Groups, k…]</c>, scales along axis 1; the window's In is X
/// and its Out is Y.
/// </summary>
internal interface IConvNdShape : IWindow3Shape
{
    /// <summary>Samples (N of the per-sample shape).</summary>
    static abstract int Batch { get; }

    /// <summary>Channels of X.</summary>
    static abstract int InChannels { get; }

    /// <summary>Channels of Y.</summary>
    static abstract int OutChannels { get; }

    /// <summary>Groups.</summary>
    static abstract int Groups { get; }

    /// <summary>True when there is a bias input.</summary>
    static abstract bool HasBias { get; }

    /// <summary>For quantized weights: one scale per channel (true) or one for all (false).</summary>
    static abstract bool ScalePerChannel { get; }

    /// <summary>Fused Relu.</summary>
    static abstract bool Relu { get; }
}

/// <summary>
/// Direct N-d convolution (3-D, and any window the 2-D <see cref="Conv"/> does not take): each
/// output row starts at the bias and accumulates, tap by tap, a weight times a shifted input row
/// (vectorized when the horizontal stride is 1). Weights are read in their stored format.
/// </summary>
internal static class ConvNd
{
    /// <summary>Runs one Conv step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TShape, TW, TSimd, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<byte> w, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> y)
        where TShape : struct, IConvNdShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int icg = TShape.InChannels / TShape.Groups, ocg = TShape.OutChannels / TShape.Groups;
        int taps = TShape.KernelD * TShape.KernelH * TShape.KernelW;
        int inPlane = TShape.InD * TShape.InH * TShape.InW, outPlane = TShape.OutD * TShape.OutH * TShape.OutW;
        Guard.Length(x.Length, (long)TShape.Batch * TShape.InChannels * inPlane, "Conv X");
        WeightReader.RequireBytes<TW>(w, (long)TShape.OutChannels * icg * taps, "Conv W");
        if (TW.HasScales) Guard.Length(scales.Length, TShape.ScalePerChannel ? TShape.OutChannels : 1, "Conv scales");
        if (TShape.HasBias) Guard.Length(bias.Length, TShape.OutChannels, "Conv B");
        Guard.Length(y.Length, (long)TShape.Batch * TShape.OutChannels * outPlane, "Conv Y");
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref byte wb = ref MemoryMarshal.GetReference(w);
        for (int n = 0; n < TShape.Batch; n++)
            for (int oc = 0; oc < TShape.OutChannels; oc++)
            {
                int g = oc / ocg;
                float scale = TW.HasScales ? scales[TShape.ScalePerChannel ? oc : 0] : 1f;
                ref float yPlane = ref Unsafe.Add(ref y0, ((nint)n * TShape.OutChannels + oc) * outPlane);
                NdRows.Fill<TSimd, TVec>(ref yPlane, TShape.HasBias ? bias[oc] : 0f, outPlane);
                for (int ci = 0; ci < icg; ci++)
                {
                    ref float xPlane = ref Unsafe.Add(ref x0, ((nint)n * TShape.InChannels + g * icg + ci) * inPlane);
                    nint wBase = ((nint)oc * icg + ci) * taps;
                    for (int od = 0; od < TShape.OutD; od++)
                        for (int kd = 0; kd < TShape.KernelD; kd++)
                        {
                            int id = od * TShape.StrideD - TShape.PadBeginD + kd * TShape.DilationD;
                            if ((uint)id >= (uint)TShape.InD) continue;
                            for (int oh = 0; oh < TShape.OutH; oh++)
                                for (int kh = 0; kh < TShape.KernelH; kh++)
                                {
                                    int ih = oh * TShape.StrideH - TShape.PadBeginH + kh * TShape.DilationH;
                                    if ((uint)ih >= (uint)TShape.InH) continue;
                                    ref float yRow = ref Unsafe.Add(ref yPlane, ((nint)od * TShape.OutH + oh) * TShape.OutW);
                                    ref float xRow = ref Unsafe.Add(ref xPlane, ((nint)id * TShape.InH + ih) * TShape.InW);
                                    nint wRow = wBase + ((nint)kd * TShape.KernelH + kh) * TShape.KernelW;
                                    for (int kw = 0; kw < TShape.KernelW; kw++)
                                    {
                                        float wv = TW.Get(ref wb, wRow + kw) * scale;
                                        int off = kw * TShape.DilationW - TShape.PadBeginW;
                                        // Outputs whose input column ow·stride + off lies inside the row.
                                        int lo = off >= 0 ? 0 : (-off + TShape.StrideW - 1) / TShape.StrideW;
                                        int last = TShape.InW - 1 - off;
                                        int hi = last < 0 ? 0 : Math.Min(TShape.OutW, last / TShape.StrideW + 1);
                                        if (hi <= lo) continue;
                                        if (TShape.StrideW == 1)
                                            NdRows.Axpy<TSimd, TVec>(ref Unsafe.Add(ref yRow, lo), ref Unsafe.Add(ref xRow, lo + off), wv, hi - lo);
                                        else
                                            for (int ow = lo; ow < hi; ow++)
                                                Unsafe.Add(ref yRow, ow) += wv * Unsafe.Add(ref xRow, ow * TShape.StrideW + off);
                                    }
                                }
                        }
                }
                if (TShape.Relu) NdRows.Relu<TSimd, TVec>(ref yPlane, outPlane);
            }
    }
}

/// <summary>
/// ConvTranspose (1-3 spatial axes): Y starts at the bias, then every input element scatters
/// weight × value into the outputs its taps reach (the transpose of <see cref="ConvNd"/>), rows at a
/// time (vectorized when the stride along width is 1). Output positions beyond the full result
/// (output_shape larger than it) keep the bias.
/// </summary>
internal static class ConvTranspose
{
    /// <summary>Runs one ConvTranspose step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TShape, TW, TSimd, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<byte> w, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> y)
        where TShape : struct, IConvNdShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int icg = TShape.InChannels / TShape.Groups, ocg = TShape.OutChannels / TShape.Groups;
        int taps = TShape.KernelD * TShape.KernelH * TShape.KernelW;
        int inPlane = TShape.InD * TShape.InH * TShape.InW, outPlane = TShape.OutD * TShape.OutH * TShape.OutW;
        Guard.Length(x.Length, (long)TShape.Batch * TShape.InChannels * inPlane, "ConvTranspose X");
        WeightReader.RequireBytes<TW>(w, (long)TShape.InChannels * ocg * taps, "ConvTranspose W");
        if (TW.HasScales) Guard.Length(scales.Length, TShape.ScalePerChannel ? ocg : 1, "ConvTranspose scales");
        if (TShape.HasBias) Guard.Length(bias.Length, TShape.OutChannels, "ConvTranspose B");
        Guard.Length(y.Length, (long)TShape.Batch * TShape.OutChannels * outPlane, "ConvTranspose Y");
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref byte wb = ref MemoryMarshal.GetReference(w);
        for (int n = 0; n < TShape.Batch; n++)
        {
            for (int oc = 0; oc < TShape.OutChannels; oc++)
                NdRows.Fill<TSimd, TVec>(ref Unsafe.Add(ref y0, ((nint)n * TShape.OutChannels + oc) * outPlane), TShape.HasBias ? bias[oc] : 0f, outPlane);
            for (int ic = 0; ic < TShape.InChannels; ic++)
            {
                int g = ic / icg;
                ref float xPlane = ref Unsafe.Add(ref x0, ((nint)n * TShape.InChannels + ic) * inPlane);
                for (int co = 0; co < ocg; co++)
                {
                    float scale = TW.HasScales ? scales[TShape.ScalePerChannel ? co : 0] : 1f;
                    ref float yPlane = ref Unsafe.Add(ref y0, ((nint)n * TShape.OutChannels + g * ocg + co) * outPlane);
                    nint wBase = ((nint)ic * ocg + co) * taps;
                    for (int id = 0; id < TShape.InD; id++)
                        for (int kd = 0; kd < TShape.KernelD; kd++)
                        {
                            int od = id * TShape.StrideD - TShape.PadBeginD + kd * TShape.DilationD;
                            if ((uint)od >= (uint)TShape.OutD) continue;
                            for (int ih = 0; ih < TShape.InH; ih++)
                                for (int kh = 0; kh < TShape.KernelH; kh++)
                                {
                                    int oh = ih * TShape.StrideH - TShape.PadBeginH + kh * TShape.DilationH;
                                    if ((uint)oh >= (uint)TShape.OutH) continue;
                                    ref float yRow = ref Unsafe.Add(ref yPlane, ((nint)od * TShape.OutH + oh) * TShape.OutW);
                                    ref float xRow = ref Unsafe.Add(ref xPlane, ((nint)id * TShape.InH + ih) * TShape.InW);
                                    nint wRow = wBase + ((nint)kd * TShape.KernelH + kh) * TShape.KernelW;
                                    for (int kw = 0; kw < TShape.KernelW; kw++)
                                    {
                                        float wv = TW.Get(ref wb, wRow + kw) * scale;
                                        int off = kw * TShape.DilationW - TShape.PadBeginW;
                                        // Inputs whose output column iw·stride + off lies inside the row.
                                        int lo = off >= 0 ? 0 : (-off + TShape.StrideW - 1) / TShape.StrideW;
                                        int last = TShape.OutW - 1 - off;
                                        int hi = last < 0 ? 0 : Math.Min(TShape.InW, last / TShape.StrideW + 1);
                                        if (hi <= lo) continue;
                                        if (TShape.StrideW == 1)
                                            NdRows.Axpy<TSimd, TVec>(ref Unsafe.Add(ref yRow, lo + off), ref Unsafe.Add(ref xRow, lo), wv, hi - lo);
                                        else
                                            for (int iw = lo; iw < hi; iw++)
                                                Unsafe.Add(ref yRow, iw * TShape.StrideW + off) += wv * Unsafe.Add(ref xRow, iw);
                                    }
                                }
                        }
                }
            }
            if (TShape.Relu) NdRows.Relu<TSimd, TVec>(ref Unsafe.Add(ref y0, (nint)n * TShape.OutChannels * outPlane), TShape.OutChannels * outPlane);
        }
    }
}

/// <summary>Vectorized row helpers of the N-d kernels.</summary>
internal static class NdRows
{
    /// <summary>y[i] += a · x[i] for <paramref name="n"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy<TSimd, TVec>(ref float y, ref float x, float a, int n) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        TVec av = TSimd.Splat(a);
        int i = 0;
        for (; i <= n - TSimd.Count; i += TSimd.Count)
            TSimd.Store(TSimd.MultiplyAdd(av, TSimd.Load(ref x, i), TSimd.Load(ref y, i)), ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) += a * Unsafe.Add(ref x, i);
    }

    /// <summary>Sets <paramref name="n"/> floats to <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fill<TSimd, TVec>(ref float y, float value, int n) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        TVec v = TSimd.Splat(value);
        int i = 0;
        for (; i <= n - TSimd.Count; i += TSimd.Count) TSimd.Store(v, ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = value;
    }

    /// <summary>y = max(y, 0) for <paramref name="n"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Relu<TSimd, TVec>(ref float y, int n) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int i = 0;
        for (; i <= n - TSimd.Count; i += TSimd.Count) TSimd.Store(TSimd.Max(TSimd.Load(ref y, i), TSimd.Zero), ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = SimdScalar.Max(Unsafe.Add(ref y, i), 0f);
    }
}
