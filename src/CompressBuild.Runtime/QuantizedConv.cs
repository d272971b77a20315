namespace CompressBuild.Runtime;

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

/// <summary>
/// Compile-time facts of one QLinearConv / ConvInteger step (2-D; 1-D as height 1): the geometry
/// plus the signedness of x, w and y.
/// </summary>
internal interface IQConvShape : IConvGeometry
{
    /// <summary>x is int8 (else uint8).</summary>
    static abstract bool XSigned { get; }

    /// <summary>w is int8 (else uint8).</summary>
    static abstract bool WSigned { get; }

    /// <summary>y is int8 (else uint8; unused for int32 output).</summary>
    static abstract bool YSigned { get; }
}

/// <summary>
/// Integer convolution: acc[m, p] = Σ (x - x_zp)(w - w_zp[m]) exact in int32, then QLinearConv's
/// requantization (<see cref="Quant.Requantize"/>) or ConvInteger's int32 output.
/// </summary>
/// <remarks>
/// Stride-1, dilation-1 convolutions (LeNet's, most CNNs') run a direct kernel without im2col: the
/// zero-padded input minus its zero point is staged as int16 planes with row pitch Wp = OutWidth +
/// KernelWidth - 1, so output pixel q = oh·Wp + ow reads input q + kh·Wp + kw for every tap and a
/// vector of consecutive q is one unaligned load per tap. Taps are paired for the pair-multiplying
/// instructions: two input channels at the same tap when a group has an even channel count, else
/// two neighbouring kernel columns (the odd last column pairs with a zero weight). Four output
/// channels share every input load; the Wp - OutWidth wasted columns per row are the price of the
/// flat layout. Other strides and dilations run a scalar direct loop.
/// </remarks>
internal static class QConv
{
    /// <summary>
    /// QLinearConv: y = saturate(round((acc + B[m]) · M[m] / 2^S[m]) + y_zp), M[m] and S[m] the fixed-point
    /// form of x_scale · w_scale[m] / y_scale, here from run-time scales (<see cref="Requantization.Scaled"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Linear<TShape, TSimd, TVec>(ReadOnlySpan<byte> x, ReadOnlySpan<float> xScale, ReadOnlySpan<byte> xZero,
        ReadOnlySpan<byte> w, ReadOnlySpan<float> wScale, ReadOnlySpan<byte> wZero, ReadOnlySpan<float> yScale, ReadOnlySpan<byte> yZero,
        ReadOnlySpan<int> bias, Span<byte> y, Span<float> scratch)
        where TShape : struct, IQConvShape where TSimd : struct, ISimd<TVec> where TVec : struct =>
        Linear<TShape, TSimd, TVec>(x, xZero, w, wZero, Requantization.Scaled(xScale[0], wScale, yScale[0], Quant.ZeroAt(yZero, 0, TShape.YSigned)), bias, y, scratch);

    /// <summary>QLinearConv with its requantization given (constants the generator computed from constant scales).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Linear<TShape, TSimd, TVec>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> xZero, ReadOnlySpan<byte> w, ReadOnlySpan<byte> wZero,
        Requantization requantization, ReadOnlySpan<int> bias, Span<byte> y, Span<float> scratch)
        where TShape : struct, IQConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(requantization.Channels, 1, "QLinearConv w_scale");
        if (requantization.Channels != 1) Guard.Length(requantization.Channels, TShape.OutChannels, "QLinearConv w_scale");
        if (bias.Length != 0) Guard.Length(bias.Length, TShape.OutChannels, "QLinearConv B");
        Run<TShape, TSimd, TVec>(x, xZero, w, wZero, new ConvOutput(false, requantization, bias), y, TShape.OutHeight * TShape.OutWidth, scratch);
    }

    /// <summary>ConvInteger: y = acc (int32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Integer<TShape, TSimd, TVec>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> w, ReadOnlySpan<byte> xZero, ReadOnlySpan<byte> wZero,
        Span<int> y, Span<float> scratch)
        where TShape : struct, IQConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var output = new ConvOutput(true, default, default);
        Run<TShape, TSimd, TVec>(x, xZero, w, wZero, output, MemoryMarshal.AsBytes(y), TShape.OutHeight * TShape.OutWidth * 4, scratch);
    }

    /// <summary>int32 elements of scratch the step needs (one output row for the scalar path); KernelScratch.QConvFloats mirrors it.</summary>
    public static int ScratchInts<TShape>() where TShape : struct, IQConvShape
    {
        if (!Direct<TShape>()) return TShape.OutWidth;
        var g = Geometry.Of<TShape>();
        return g.PlaneInts * TShape.InChannels + g.PairPlanes * TShape.Groups * g.PlaneStride
            + TShape.OutChannels * g.PairPlanes * TShape.KernelHeight * g.Taps + 4 * g.Q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Direct<TShape>() where TShape : struct, IQConvShape =>
        TShape.StrideHeight == 1 && TShape.StrideWidth == 1 && TShape.DilationHeight == 1 && TShape.DilationWidth == 1;

    private static void Run<TShape, TSimd, TVec>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> xZero, ReadOnlySpan<byte> w, ReadOnlySpan<byte> wZero,
        ConvOutput output, Span<byte> y, int outPlaneBytes, Span<float> scratch)
        where TShape : struct, IQConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int cg = TShape.InChannels / TShape.Groups, kernel = cg * TShape.KernelHeight * TShape.KernelWidth;
        Guard.Length(x.Length, (long)TShape.InChannels * TShape.InHeight * TShape.InWidth, "QConv x");
        Guard.Length(w.Length, (long)TShape.OutChannels * kernel, "QConv w");
        Guard.Length(y.Length, (long)TShape.OutChannels * outPlaneBytes, "QConv y");
        if (wZero.Length > 1) Guard.Length(wZero.Length, TShape.OutChannels, "QConv w_zero_point");
        int zx = Quant.ZeroAt(xZero, 0, TShape.XSigned);
        if (!Direct<TShape>())
        {
            Scalar<TShape>(x, zx, w, wZero, output, y, scratch);
            return;
        }
        Guard.Length(scratch.Length, ScratchInts<TShape>(), "QConv scratch");
        if (typeof(TSimd) == typeof(SimdScalar)) Direct<TShape, IntScalar, int, TSimd, TVec>(x, zx, w, wZero, output, y, scratch);
        else if (typeof(TSimd) != typeof(Simd128) && Avx2.IsSupported) Direct<TShape, Int256, Vector256<int>, TSimd, TVec>(x, zx, w, wZero, output, y, scratch);
        else if (Vector128.IsHardwareAccelerated) Direct<TShape, Int128, Vector128<int>, TSimd, TVec>(x, zx, w, wZero, output, y, scratch);
        else Direct<TShape, IntScalar, int, TSimd, TVec>(x, zx, w, wZero, output, y, scratch);
    }

    /// <summary>The direct kernel's layout: plane pitch, pixels computed, how taps pair.</summary>
    private readonly struct Geometry
    {
        /// <summary>Row pitch of the staged planes.</summary>
        public readonly int Wp;

        /// <summary>Flat output pixels computed per channel (OutHeight·Wp rounded up to 16).</summary>
        public readonly int Q;

        /// <summary>int32 elements per staged pair plane (Q plus the reach of the last tap).</summary>
        public readonly int PlaneStride;

        /// <summary>int32 elements per staged int16 plane (the same number of int16, plus one, rounded up to ints).</summary>
        public readonly int PlaneInts;

        /// <summary>True: taps pair two input channels; false: two neighbouring kernel columns.</summary>
        public readonly bool ChannelPairs;

        /// <summary>Pair planes per group.</summary>
        public readonly int PairPlanes;

        /// <summary>Paired taps per kernel row.</summary>
        public readonly int Taps;

        private Geometry(int wp, int q, int planeStride, bool channelPairs, int pairPlanes, int taps)
        {
            Wp = wp;
            Q = q;
            PlaneStride = planeStride;
            PlaneInts = planeStride / 2 + 1;
            ChannelPairs = channelPairs;
            PairPlanes = pairPlanes;
            Taps = taps;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Geometry Of<TShape>() where TShape : struct, IQConvShape
        {
            int cg = TShape.InChannels / TShape.Groups;
            int wp = TShape.OutWidth + TShape.KernelWidth - 1;
            int q = (TShape.OutHeight * wp + 15) / 16 * 16;
            bool channelPairs = cg % 2 == 0;
            int taps = channelPairs ? TShape.KernelWidth : (TShape.KernelWidth + 1) / 2;
            int stride = q + (TShape.KernelHeight - 1) * wp + TShape.KernelWidth + 1;
            return new Geometry(wp, q, stride, channelPairs, channelPairs ? cg / 2 : cg, taps);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Direct<TShape, TI, TV, TSimd, TVec>(ReadOnlySpan<byte> x, int zx, ReadOnlySpan<byte> w, ReadOnlySpan<byte> wZero,
        ConvOutput output, Span<byte> y, Span<float> scratch)
        where TShape : struct, IQConvShape where TI : struct, IIntSimd<TV> where TV : struct
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var g = Geometry.Of<TShape>();
        int c = TShape.InChannels, m = TShape.OutChannels, kh = TShape.KernelHeight, kw = TShape.KernelWidth;
        int cg = c / TShape.Groups, mg = m / TShape.Groups;
        var ints = MemoryMarshal.Cast<float, int>(scratch);
        var planes = MemoryMarshal.Cast<int, short>(ints.Slice(0, g.PlaneInts * c));
        var pairs = ints.Slice(g.PlaneInts * c, g.PairPlanes * TShape.Groups * g.PlaneStride);
        int wRow = g.PairPlanes * kh * g.Taps;
        var weights = ints.Slice(pairs.Length + planes.Length / 2, m * wRow);
        var acc = ints.Slice(pairs.Length + planes.Length / 2 + weights.Length, 4 * g.Q);

        // 1. Input minus its zero point, zero-padded, as int16 planes of pitch Wp.
        int planeShorts = 2 * g.PlaneInts;
        for (int ci = 0; ci < c; ci++)
            StagePlane<TShape, TSimd, TVec>(x.Slice(ci * TShape.InHeight * TShape.InWidth, TShape.InHeight * TShape.InWidth), zx, planes.Slice(ci * planeShorts, planeShorts), g.Wp);

        // 2. Pair planes: (channel 2j, channel 2j+1) or (column i, column i+1).
        for (int gi = 0; gi < TShape.Groups; gi++)
        {
            for (int p = 0; p < g.PairPlanes; p++)
            {
                int first = gi * cg + (g.ChannelPairs ? 2 * p : p);
                ref short a = ref planes[first * planeShorts];
                ref short b = ref g.ChannelPairs ? ref planes[(first + 1) * planeShorts] : ref Unsafe.Add(ref a, 1);
                Interleave<TSimd, TVec>(ref a, ref b, g.PlaneStride, ref pairs[(gi * g.PairPlanes + p) * g.PlaneStride]);
            }
        }

        // 3. Weights minus their zero points as pairs in the order the taps are visited.
        for (int mi = 0; mi < m; mi++)
        {
            int zw = Quant.ZeroAt(wZero, mi, TShape.WSigned);
            ref byte wm = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), mi * cg * kh * kw);
            ref int dst = ref weights[mi * wRow];
            if (g.ChannelPairs)
            {
                // Channels 2p and 2p+1: two contiguous runs of KH·KW taps.
                for (int p = 0; p < g.PairPlanes; p++)
                    Quant.InterleaveBytes<TSimd, TVec>(ref Unsafe.Add(ref wm, 2 * p * kh * kw), ref Unsafe.Add(ref wm, (2 * p + 1) * kh * kw), kh * kw,
                        TShape.WSigned, zw, ref Unsafe.Add(ref dst, p * kh * kw));
                continue;
            }
            // Columns 2t and 2t+1 of each kernel row; an odd last column pairs with 0.
            for (int row = 0, k = 0; row < cg * kh; row++)
            {
                for (int t = 0; t < g.Taps; t++, k++)
                {
                    int wa = Quant.Value(Unsafe.Add(ref wm, row * kw + 2 * t), TShape.WSigned) - zw;
                    int wb = 2 * t + 1 < kw ? Quant.Value(Unsafe.Add(ref wm, row * kw + 2 * t + 1), TShape.WSigned) - zw : 0;
                    Unsafe.Add(ref dst, k) = Quant.Pair(wa, wb);
                }
            }
        }

        // 4. Four output channels at a time, then the epilogue per channel.
        for (int gi = 0; gi < TShape.Groups; gi++)
        {
            ref int input = ref pairs[gi * g.PairPlanes * g.PlaneStride];
            int mi = 0;
            for (; mi <= mg - 4; mi += 4)
            {
                Block<TShape, TI, TV, Four>(g, ref input, ref weights[(gi * mg + mi) * wRow], wRow, ref acc[0]);
                for (int r = 0; r < 4; r++) Rows<TShape, TSimd, TVec>(output, gi * mg + mi + r, ref acc[r * g.Q], g.Wp, y);
            }
            // The 1-3 remaining channels in one block.
            int rest = mg - mi;
            if (rest == 0) continue;
            ref int wr = ref weights[(gi * mg + mi) * wRow];
            if (rest == 3) Block<TShape, TI, TV, Three>(g, ref input, ref wr, wRow, ref acc[0]);
            else if (rest == 2) Block<TShape, TI, TV, Two>(g, ref input, ref wr, wRow, ref acc[0]);
            else Block<TShape, TI, TV, One>(g, ref input, ref wr, wRow, ref acc[0]);
            for (int r = 0; r < rest; r++) Rows<TShape, TSimd, TVec>(output, gi * mg + mi + r, ref acc[r * g.Q], g.Wp, y);
        }
    }

    /// <summary>One input channel minus its zero point into a zero-padded int16 plane of pitch <paramref name="wp"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StagePlane<TShape, TSimd, TVec>(ReadOnlySpan<byte> x, int zx, Span<short> plane, int wp)
        where TShape : struct, IQConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        plane.Clear();
        int rows = Math.Min(TShape.InHeight, TShape.OutHeight + TShape.KernelHeight - 1 - TShape.PadTop);
        int cols = Math.Min(TShape.InWidth, wp - TShape.PadLeft);
        bool vector = typeof(TSimd) != typeof(SimdScalar) && Vector128.IsHardwareAccelerated && cols >= 8;
        for (int r = 0; r < rows; r++)
        {
            ref byte src = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), r * TShape.InWidth);
            ref short dst = ref plane[(r + TShape.PadTop) * wp + TShape.PadLeft];
            if (!vector)
            {
                for (int i = 0; i < cols; i++) Unsafe.Add(ref dst, i) = (short)(Quant.Value(Unsafe.Add(ref src, i), TShape.XSigned) - zx);
                continue;
            }
            // Blocks of 8, the last overlapping its predecessor.
            for (int i = 0; ; i += 8)
            {
                if (i > cols - 8) i = cols - 8;
                Quant.Widen8(ref Unsafe.Add(ref src, i), TShape.XSigned, zx).StoreUnsafe(ref Unsafe.Add(ref dst, i));
                if (i == cols - 8) break;
            }
        }
    }

    /// <summary>dst[i] = (a[i], b[i]) packed, for <paramref name="count"/> pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave<TSimd, TVec>(ref short a, ref short b, int count, ref int dst) where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int i = 0;
        if (typeof(TSimd) != typeof(SimdScalar) && (Sse2.IsSupported || AdvSimd.Arm64.IsSupported))
        {
            for (; i <= count - 8; i += 8)
            {
                var va = Vector128.LoadUnsafe(ref a, (nuint)i);
                var vb = Vector128.LoadUnsafe(ref b, (nuint)i);
                var lo = Sse2.IsSupported ? Sse2.UnpackLow(va, vb) : AdvSimd.Arm64.ZipLow(va, vb);
                var hi = Sse2.IsSupported ? Sse2.UnpackHigh(va, vb) : AdvSimd.Arm64.ZipHigh(va, vb);
                lo.AsInt32().StoreUnsafe(ref dst, (nuint)i);
                hi.AsInt32().StoreUnsafe(ref dst, (nuint)(i + 4));
            }
        }
        for (; i < count; i++) Unsafe.Add(ref dst, i) = Quant.Pair(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i));
    }

    /// <summary>Every output row of channel <paramref name="m"/> from flat accumulators of pitch <paramref name="wp"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows<TShape, TSimd, TVec>(ConvOutput output, int m, ref int acc, int wp, Span<byte> y)
        where TShape : struct, IQConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        // Packing the rows to pitch OutWidth (in place, forward: OutWidth <= Wp) lets the whole plane
        // requantize in one call; per-row calls cost more in setup than in work for narrow rows.
        int ow = TShape.OutWidth;
        if (wp != ow)
        {
            for (int i = 1; i < TShape.OutHeight; i++)
                MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref acc, i * wp), ow).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref acc, i * ow), ow));
        }
        output.WritePlane<TShape, TSimd, TVec>(m, ref acc, y);
    }

    /// <summary>acc[r, q] for <typeparamref name="TRows"/> (1-4) output channels and every flat pixel q, two vectors at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TShape, TI, TV, TRows>(Geometry g, ref int input, ref int weights, int wRow, ref int acc)
        where TShape : struct, IQConvShape where TI : struct, IIntSimd<TV> where TV : struct where TRows : struct, IConstant
    {
        int rows = TRows.Value, n = TI.Count, kh = TShape.KernelHeight, tapStep = g.ChannelPairs ? 1 : 2;
        for (int q = 0; q < g.Q; q += 2 * n)
        {
            TV a00 = TI.Zero, a01 = TI.Zero, a10 = TI.Zero, a11 = TI.Zero, a20 = TI.Zero, a21 = TI.Zero, a30 = TI.Zero, a31 = TI.Zero;
            int k = 0;
            for (int p = 0; p < g.PairPlanes; p++)
            {
                for (int r = 0; r < kh; r++)
                {
                    nint at = (nint)p * g.PlaneStride + q + r * g.Wp;
                    for (int t = 0; t < g.Taps; t++, k++, at += tapStep)
                    {
                        TV x0 = TI.LoadPairs(ref input, at), x1 = TI.LoadPairs(ref input, at + n);
                        TV w0 = TI.Splat(Unsafe.Add(ref weights, k));
                        a00 = TI.MultiplyAddPairs(a00, x0, w0);
                        a01 = TI.MultiplyAddPairs(a01, x1, w0);
                        if (rows > 1)
                        {
                            TV w1 = TI.Splat(Unsafe.Add(ref weights, wRow + k));
                            a10 = TI.MultiplyAddPairs(a10, x0, w1);
                            a11 = TI.MultiplyAddPairs(a11, x1, w1);
                        }
                        if (rows > 2)
                        {
                            TV w2 = TI.Splat(Unsafe.Add(ref weights, 2 * wRow + k));
                            a20 = TI.MultiplyAddPairs(a20, x0, w2);
                            a21 = TI.MultiplyAddPairs(a21, x1, w2);
                        }
                        if (rows > 3)
                        {
                            TV w3 = TI.Splat(Unsafe.Add(ref weights, 3 * wRow + k));
                            a30 = TI.MultiplyAddPairs(a30, x0, w3);
                            a31 = TI.MultiplyAddPairs(a31, x1, w3);
                        }
                    }
                }
            }
            TI.Store(a00, ref acc, q);
            TI.Store(a01, ref acc, q + n);
            if (rows > 1)
            {
                TI.Store(a10, ref acc, g.Q + q);
                TI.Store(a11, ref acc, g.Q + q + n);
            }
            if (rows > 2)
            {
                TI.Store(a20, ref acc, 2 * g.Q + q);
                TI.Store(a21, ref acc, 2 * g.Q + q + n);
            }
            if (rows > 3)
            {
                TI.Store(a30, ref acc, 3 * g.Q + q);
                TI.Store(a31, ref acc, 3 * g.Q + q + n);
            }
        }
    }

    /// <summary>Any stride and dilation: one output at a time, reading x in place.</summary>
    private static void Scalar<TShape>(ReadOnlySpan<byte> x, int zx, ReadOnlySpan<byte> w, ReadOnlySpan<byte> wZero, ConvOutput output, Span<byte> y, Span<float> scratch)
        where TShape : struct, IQConvShape
    {
        int cg = TShape.InChannels / TShape.Groups, mg = TShape.OutChannels / TShape.Groups;
        int oh = TShape.OutHeight, ow = TShape.OutWidth, kh = TShape.KernelHeight, kw = TShape.KernelWidth;
        Guard.Length(scratch.Length, ScratchInts<TShape>(), "QConv scratch");
        var row = MemoryMarshal.Cast<float, int>(scratch).Slice(0, ow);
        for (int m = 0; m < TShape.OutChannels; m++)
        {
            int zw = Quant.ZeroAt(wZero, m, TShape.WSigned), c0 = m / mg * cg;
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    int sum = 0;
                    for (int c = 0; c < cg; c++)
                    {
                        for (int r = 0; r < kh; r++)
                        {
                            int ih = i * TShape.StrideHeight - TShape.PadTop + r * TShape.DilationHeight;
                            if ((uint)ih >= (uint)TShape.InHeight) continue;
                            for (int s = 0; s < kw; s++)
                            {
                                int iw = j * TShape.StrideWidth - TShape.PadLeft + s * TShape.DilationWidth;
                                if ((uint)iw >= (uint)TShape.InWidth) continue;
                                int xv = Quant.Value(x[((c0 + c) * TShape.InHeight + ih) * TShape.InWidth + iw], TShape.XSigned) - zx;
                                int wv = Quant.Value(w[((m * cg + c) * kh + r) * kw + s], TShape.WSigned) - zw;
                                sum += xv * wv;
                            }
                        }
                    }
                    row[j] = sum;
                }
                output.Write<TShape, SimdScalar, float>(m, i, ref row[0], y);
            }
        }
    }
}

/// <summary>
/// What QConv writes: ConvInteger's int32 accumulators, or QLinearConv's bytes requantized in
/// fixed point (<see cref="Quant.Requantize"/>) with channel m's multiplier and shift.
/// </summary>
internal readonly ref struct ConvOutput
{
    private readonly bool _int32;
    private readonly Requantization _requantization;
    private readonly ReadOnlySpan<int> _bias;

    public ConvOutput(bool int32, Requantization requantization, ReadOnlySpan<int> bias)
    {
        _int32 = int32;
        _requantization = requantization;
        _bias = bias;
    }

    /// <summary>The whole output plane of channel <paramref name="m"/> from OutHeight·OutWidth packed accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WritePlane<TShape, TSimd, TVec>(int m, ref int acc, Span<byte> y)
        where TShape : struct, IQConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int count = TShape.OutHeight * TShape.OutWidth, at = m * count;
        if (_int32)
        {
            MemoryMarshal.CreateReadOnlySpan(ref acc, count).CopyTo(MemoryMarshal.Cast<byte, int>(y).Slice(at, count));
            return;
        }
        _requantization.At(m, out int multiplier, out int shift);
        Quant.Requantize<TSimd, TVec>(ref acc, count, _bias.Length == 0 ? 0 : _bias[m], multiplier, shift, _requantization.ZeroPoint, TShape.YSigned, ref y[at]);
    }

    /// <summary>Output row <paramref name="oh"/> of channel <paramref name="m"/> from OutWidth accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TShape, TSimd, TVec>(int m, int oh, ref int acc, Span<byte> y)
        where TShape : struct, IQConvShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int ow = TShape.OutWidth, at = (m * TShape.OutHeight + oh) * ow;
        if (_int32)
        {
            MemoryMarshal.CreateReadOnlySpan(ref acc, ow).CopyTo(MemoryMarshal.Cast<byte, int>(y).Slice(at, ow));
            return;
        }
        _requantization.At(m, out int multiplier, out int shift);
        Quant.Requantize<TSimd, TVec>(ref acc, ow, _bias.Length == 0 ? 0 : _bias[m], multiplier, shift, _requantization.ZeroPoint, TShape.YSigned, ref y[at]);
    }
}
