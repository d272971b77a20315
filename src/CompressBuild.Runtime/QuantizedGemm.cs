namespace CompressBuild.Runtime;

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

/// <summary>
/// Compile-time facts of one integer matrix product (QGemm, QLinearMatMul, MatMulInteger):
/// <see cref="Batch"/> problems Y[M,N] = A[M,K]·B[K,N] of 8-bit operands (A stored <c>[K,M]</c>
/// when <see cref="TransA"/>, B <c>[N,K]</c> when <see cref="TransB"/>).
/// </summary>
internal interface IQGemmShape
{
    /// <summary>Rows of Y.</summary>
    static abstract int M { get; }

    /// <summary>Columns of Y.</summary>
    static abstract int N { get; }

    /// <summary>Reduction length.</summary>
    static abstract int K { get; }

    /// <summary>A is stored [K,M].</summary>
    static abstract bool TransA { get; }

    /// <summary>B is stored [N,K] (PyTorch's Linear: weight rows are contiguous).</summary>
    static abstract bool TransB { get; }

    /// <summary>A is int8 (else uint8).</summary>
    static abstract bool ASigned { get; }

    /// <summary>B is int8 (else uint8).</summary>
    static abstract bool BSigned { get; }

    /// <summary>An 8-bit Y is int8 (else uint8).</summary>
    static abstract bool YSigned { get; }

    /// <summary>QGemm's alpha (1 for the others).</summary>
    static abstract float Alpha { get; }

    /// <summary>True when there is an int32 C (QGemm's bias).</summary>
    static abstract bool HasC { get; }

    /// <summary>Element stride of C per row of Y (0: broadcast).</summary>
    static abstract int CRowStride { get; }

    /// <summary>Element stride of C per column of Y (0: broadcast).</summary>
    static abstract int CColStride { get; }

    /// <summary>Number of [M,N] problems.</summary>
    static abstract int Batch { get; }

    /// <summary>Elements between consecutive A matrices (0: shared).</summary>
    static abstract int AStride { get; }

    /// <summary>Elements between consecutive B matrices (0: shared).</summary>
    static abstract int BStride { get; }
}

/// <summary>
/// Integer matrix products: acc = C + Σ_k (a - a_zp)(b - b_zp[n]) exact in int32, then QLinearMatMul /
/// QGemm's requantization, QGemm's float output acc·alpha·a_scale·b_scale[n], or MatMulInteger's int32.
/// </summary>
/// <remarks>
/// Rows of A minus their zero point are staged as int16 (zero-padded to a multiple of 16); each output
/// is a dot product with a row of B, four B rows sharing every A load. B <c>[N,K]</c> (weights from
/// Gemm with transB, the usual Linear layer) is read in place and widened in registers; B
/// <c>[K,N]</c> is first transposed into int16 rows. At batch 1 this is a GEMV whose cost is reading
/// the weights: a quarter of the fp32 bytes.
/// </remarks>
internal static class QGemm
{
    private const int KAlign = 16;

    /// <summary>
    /// 8-bit Y = saturate(round(acc · M[n] / 2^S[n]) + y_zp), M[n] and S[n] the fixed-point form of
    /// alpha·a_scale·b_scale[n] / y_scale, here from run-time scales (<see cref="Requantization.Scaled"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Linear<TShape, TSimd, TVec>(ReadOnlySpan<byte> a, ReadOnlySpan<float> aScale, ReadOnlySpan<byte> aZero,
        ReadOnlySpan<byte> b, ReadOnlySpan<float> bScale, ReadOnlySpan<byte> bZero, ReadOnlySpan<int> c,
        ReadOnlySpan<float> yScale, ReadOnlySpan<byte> yZero, Span<byte> y, Span<float> scratch)
        where TShape : struct, IQGemmShape where TSimd : struct, ISimd<TVec> where TVec : struct =>
        Linear<TShape, TSimd, TVec>(a, aZero, b, bZero, c, Requantization.Scaled(TShape.Alpha * aScale[0], bScale, yScale[0], Quant.ZeroAt(yZero, 0, TShape.YSigned)), y, scratch);

    /// <summary>8-bit Y with its requantization given (constants the generator computed from constant scales, alpha included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Linear<TShape, TSimd, TVec>(ReadOnlySpan<byte> a, ReadOnlySpan<byte> aZero, ReadOnlySpan<byte> b, ReadOnlySpan<byte> bZero,
        ReadOnlySpan<int> c, Requantization requantization, Span<byte> y, Span<float> scratch)
        where TShape : struct, IQGemmShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(y.Length, (long)TShape.Batch * TShape.M * TShape.N, "QGemm Y");
        Guard.Length(requantization.Channels, 1, "QGemm b_scale");
        if (requantization.Channels != 1) Guard.Length(requantization.Channels, TShape.N, "QGemm b_scale");
        Run<TShape, TSimd, TVec>(a, aZero, b, bZero, new GemmOutput(requantization, c), y, scratch);
    }

    /// <summary>Float Y = acc · alpha·a_scale·b_scale[n] (QGemm without y_scale).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Float<TShape, TSimd, TVec>(ReadOnlySpan<byte> a, ReadOnlySpan<float> aScale, ReadOnlySpan<byte> aZero,
        ReadOnlySpan<byte> b, ReadOnlySpan<float> bScale, ReadOnlySpan<byte> bZero, ReadOnlySpan<int> c, Span<float> y, Span<float> scratch)
        where TShape : struct, IQGemmShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(y.Length, (long)TShape.Batch * TShape.M * TShape.N, "QGemm Y");
        var output = new GemmOutput(GemmOutput.Kind.Float, aScale[0], bScale, c);
        Run<TShape, TSimd, TVec>(a, aZero, b, bZero, output, MemoryMarshal.AsBytes(y), scratch);
    }

    /// <summary>int32 Y = acc (MatMulInteger).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Integer<TShape, TSimd, TVec>(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> aZero, ReadOnlySpan<byte> bZero,
        Span<int> y, Span<float> scratch)
        where TShape : struct, IQGemmShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(y.Length, (long)TShape.Batch * TShape.M * TShape.N, "MatMulInteger Y");
        var output = new GemmOutput(GemmOutput.Kind.Int32, 0f, default, default);
        Run<TShape, TSimd, TVec>(a, aZero, b, bZero, output, MemoryMarshal.AsBytes(y), scratch);
    }

    /// <summary>K rounded up for the staged int16 rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PaddedK<TShape>() where TShape : struct, IQGemmShape => (TShape.K + KAlign - 1) / KAlign * KAlign;

    /// <summary>int32 elements of scratch: A's rows, and B's transposed rows when B is [K,N]; KernelScratch.QGemmFloats mirrors it.</summary>
    public static int ScratchInts<TShape>() where TShape : struct, IQGemmShape =>
        (TShape.M + (TShape.TransB ? 0 : TShape.N)) * PaddedK<TShape>() / 2;

    private static void Run<TShape, TSimd, TVec>(ReadOnlySpan<byte> a, ReadOnlySpan<byte> aZero, ReadOnlySpan<byte> b, ReadOnlySpan<byte> bZero,
        GemmOutput output, Span<byte> y, Span<float> scratch)
        where TShape : struct, IQGemmShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(a.Length, (long)(TShape.AStride == 0 ? 1 : TShape.Batch) * TShape.M * TShape.K, "QGemm A");
        Guard.Length(b.Length, (long)(TShape.BStride == 0 ? 1 : TShape.Batch) * TShape.K * TShape.N, "QGemm B");
        if (bZero.Length > 1) Guard.Length(bZero.Length, TShape.N, "QGemm b_zero_point");
        Guard.Length(scratch.Length, ScratchInts<TShape>(), "QGemm scratch");
        if (TShape.HasC) Guard.Length(output.CLength, (long)(TShape.M - 1) * TShape.CRowStride + (long)(TShape.N - 1) * TShape.CColStride + 1, "QGemm C");
        if (typeof(TSimd) == typeof(SimdScalar)) Core<TShape, IntScalar, int>(a, aZero, b, bZero, output, y, scratch);
        else if (typeof(TSimd) != typeof(Simd128) && Avx2.IsSupported) Core<TShape, Int256, Vector256<int>>(a, aZero, b, bZero, output, y, scratch);
        else if (Vector128.IsHardwareAccelerated) Core<TShape, Int128, Vector128<int>>(a, aZero, b, bZero, output, y, scratch);
        else Core<TShape, IntScalar, int>(a, aZero, b, bZero, output, y, scratch);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Core<TShape, TI, TV>(ReadOnlySpan<byte> a, ReadOnlySpan<byte> aZero, ReadOnlySpan<byte> b, ReadOnlySpan<byte> bZero,
        GemmOutput output, Span<byte> y, Span<float> scratch)
        where TShape : struct, IQGemmShape where TI : struct, IIntSimd<TV> where TV : struct
    {
        int m = TShape.M, n = TShape.N, k = TShape.K, kp = PaddedK<TShape>();
        int za = Quant.ZeroAt(aZero, 0, TShape.ASigned);
        var ints = MemoryMarshal.Cast<float, int>(scratch);
        var aRows = MemoryMarshal.Cast<int, short>(ints.Slice(0, m * kp / 2));
        var bRows = MemoryMarshal.Cast<int, short>(ints.Slice(m * kp / 2, TShape.TransB ? 0 : n * kp / 2));
        for (int p = 0; p < TShape.Batch; p++)
        {
            var ap = a.Slice(p * TShape.AStride);
            var bp = b.Slice(p * TShape.BStride);
            aRows.Clear();
            for (int i = 0; i < m; i++)
            {
                if (!TShape.TransA && k >= 8 && typeof(TI) != typeof(IntScalar))
                {
                    // Blocks of 8, the last overlapping its predecessor.
                    ref byte row = ref Unsafe.Add(ref MemoryMarshal.GetReference(ap), i * k);
                    for (int kk = 0; ; kk += 8)
                    {
                        if (kk > k - 8) kk = k - 8;
                        Quant.Widen8(ref Unsafe.Add(ref row, kk), TShape.ASigned, za).StoreUnsafe(ref aRows[i * kp + kk]);
                        if (kk == k - 8) break;
                    }
                    continue;
                }
                for (int kk = 0; kk < k; kk++)
                    aRows[i * kp + kk] = (short)(Quant.Value(TShape.TransA ? ap[kk * m + i] : ap[i * k + kk], TShape.ASigned) - za);
            }
            if (!TShape.TransB)
            {
                bRows.Clear();
                for (int j = 0; j < n; j++)
                {
                    int zb = Quant.ZeroAt(bZero, j, TShape.BSigned);
                    for (int kk = 0; kk < k; kk++) bRows[j * kp + kk] = (short)(Quant.Value(bp[kk * n + j], TShape.BSigned) - zb);
                }
            }
            int yBase = p * m * n;
            bool zeroPoints = false;
            foreach (byte z in bZero) zeroPoints |= z != 0;
            for (int i = 0; i < m; i++)
            {
                ref int aRow = ref Unsafe.As<short, int>(ref aRows[i * kp]);
                if (zeroPoints) Rows<TShape, TI, TV, Yes>(ref aRow, bp, bZero, bRows, i, output, y, yBase);
                else Rows<TShape, TI, TV, No>(ref aRow, bp, bZero, bRows, i, output, y, yBase);
            }
        }
    }

    /// <summary>Row <paramref name="i"/> of Y, four columns at a time; <typeparamref name="TZero"/>: B has non-zero zero points.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TShape, TI, TV, TZero>(ref int aRow, ReadOnlySpan<byte> b, ReadOnlySpan<byte> bZero, Span<short> bRows, int i,
        GemmOutput output, Span<byte> y, int yBase)
        where TShape : struct, IQGemmShape where TI : struct, IIntSimd<TV> where TV : struct where TZero : struct, IFlag
    {
        int j = 0;
        for (; j <= TShape.N - 4; j += 4) Finish<TShape, TI, TV, Four>(output, y, yBase, i, j, Dots<TShape, TI, TV, Four, TZero>(ref aRow, b, bZero, bRows, j));
        for (; j < TShape.N; j++) Finish<TShape, TI, TV, One>(output, y, yBase, i, j, Dots<TShape, TI, TV, One, TZero>(ref aRow, b, bZero, bRows, j));
    }

    /// <summary>The accumulators of outputs (i, j..j+rows): dot products of the staged A row with B rows (lane r for row j + r).</summary>
    // Compiled on its own, not inlined into Rows: with few locals the JIT keeps the accumulators in
    // registers (inlined, they were spilled and every step waited on a store-to-load round trip).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector128<int> Dots<TShape, TI, TV, TRows, TZero>(ref int aRow, ReadOnlySpan<byte> b, ReadOnlySpan<byte> bZero, Span<short> bRows, int j)
        where TShape : struct, IQGemmShape where TI : struct, IIntSimd<TV> where TV : struct where TRows : struct, IConstant where TZero : struct, IFlag
    {
        int rows = TRows.Value, k = TShape.K, kp = PaddedK<TShape>(), step = 2 * TI.Count;
        TV s0 = TI.Zero, s1 = TI.Zero, s2 = TI.Zero, s3 = TI.Zero;
        int kk = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        if (TShape.TransB)
        {
            // Weight rows in place: 8-bit, widened and shifted by their zero point in registers.
            ref byte w = ref MemoryMarshal.GetReference(b);
            nint r0 = (nint)j * k;
            int z0 = TZero.Value ? Quant.ZeroAt(bZero, j, TShape.BSigned) : 0, z1 = 0, z2 = 0, z3 = 0;
            if (rows > 1 && TZero.Value)
            {
                z1 = Quant.ZeroAt(bZero, j + 1, TShape.BSigned);
                z2 = Quant.ZeroAt(bZero, j + 2, TShape.BSigned);
                z3 = Quant.ZeroAt(bZero, j + 3, TShape.BSigned);
            }
            // A is zero-padded to PaddedK, so whole vectors may run past K into the next weight row
            // (times zero) wherever the bytes exist; only the last rows of B need a scalar tail.
            int end = (long)(j + rows - 1) * k + kp <= b.Length ? kp : k - k % step;
            // Row references and a native-width index keep the loop to its loads and multiplies.
            ref byte w0 = ref Unsafe.Add(ref w, r0);
            ref byte w1 = ref Unsafe.Add(ref w0, rows > 1 ? k : 0);
            ref byte w2 = ref Unsafe.Add(ref w0, rows > 1 ? 2 * k : 0);
            ref byte w3 = ref Unsafe.Add(ref w0, rows > 1 ? 3 * k : 0);
            for (nint e = 0; e < end; e += step)
            {
                TV x = TI.LoadPairs(ref aRow, e >> 1);
                s0 = TI.MultiplyAddPairs(s0, x, TI.LoadWidened(ref w0, e, TShape.BSigned, z0));
                if (rows > 1)
                {
                    s1 = TI.MultiplyAddPairs(s1, x, TI.LoadWidened(ref w1, e, TShape.BSigned, z1));
                    s2 = TI.MultiplyAddPairs(s2, x, TI.LoadWidened(ref w2, e, TShape.BSigned, z2));
                    s3 = TI.MultiplyAddPairs(s3, x, TI.LoadWidened(ref w3, e, TShape.BSigned, z3));
                }
            }
            kk = end;
            ref short xs = ref Unsafe.As<int, short>(ref aRow);
            for (; kk < k; kk++)
            {
                int x = Unsafe.Add(ref xs, kk);
                t0 += x * (Quant.Value(Unsafe.Add(ref w, r0 + kk), TShape.BSigned) - z0);
                if (rows > 1)
                {
                    t1 += x * (Quant.Value(Unsafe.Add(ref w, r0 + k + kk), TShape.BSigned) - z1);
                    t2 += x * (Quant.Value(Unsafe.Add(ref w, r0 + 2 * k + kk), TShape.BSigned) - z2);
                    t3 += x * (Quant.Value(Unsafe.Add(ref w, r0 + 3 * k + kk), TShape.BSigned) - z3);
                }
            }
        }
        else
        {
            // Transposed int16 rows, zero-padded like A: no tail.
            ref int bRow = ref Unsafe.As<short, int>(ref bRows[j * kp]);
            for (; kk < kp; kk += step)
            {
                TV x = TI.LoadPairs(ref aRow, kk / 2);
                s0 = TI.MultiplyAddPairs(s0, x, TI.LoadPairs(ref bRow, kk / 2));
                if (rows > 1)
                {
                    s1 = TI.MultiplyAddPairs(s1, x, TI.LoadPairs(ref bRow, (kp + kk) / 2));
                    s2 = TI.MultiplyAddPairs(s2, x, TI.LoadPairs(ref bRow, (2 * kp + kk) / 2));
                    s3 = TI.MultiplyAddPairs(s3, x, TI.LoadPairs(ref bRow, (3 * kp + kk) / 2));
                }
            }
        }
        if (rows == 1) return Vector128.CreateScalar(TI.Sum(s0) + t0);
        return TI.Sum4(s0, s1, s2, s3) + Vector128.Create(t0, t1, t2, t3);
    }

    /// <summary>Writes outputs (i, j..j+rows) from their accumulators, four at once where there are four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TShape, TI, TV, TRows>(GemmOutput output, Span<byte> y, int yBase, int i, int j, Vector128<int> acc)
        where TShape : struct, IQGemmShape where TI : struct, IIntSimd<TV> where TV : struct where TRows : struct, IConstant
    {
        if (TRows.Value == 1 || typeof(TI) == typeof(IntScalar) || !Vector128.IsHardwareAccelerated)
        {
            for (int r = 0; r < TRows.Value; r++) output.Write<TShape>(y, yBase, i, j + r, acc.GetElement(r));
            return;
        }
        output.Write4<TShape>(y, yBase, i, j, acc);
    }
}

/// <summary>A compile-time yes/no (a generic argument, so the JIT removes the branch it guards).</summary>
internal interface IFlag
{
    /// <summary>The value.</summary>
    static abstract bool Value { get; }
}

/// <summary>true.</summary>
internal readonly struct Yes : IFlag
{
    public static bool Value => true;
}

/// <summary>false.</summary>
internal readonly struct No : IFlag
{
    public static bool Value => false;
}

/// <summary>What a QGemm writes per output: int32, 8-bit requantized in fixed point (<see cref="Requantization"/>), or float.</summary>
internal readonly ref struct GemmOutput
{
    /// <summary>Output forms.</summary>
    public enum Kind
    {
        /// <summary>The int32 accumulator (MatMulInteger).</summary>
        Int32,

        /// <summary>Requantized 8-bit (QLinearMatMul, QGemm with y_scale).</summary>
        Quantized,

        /// <summary>Scaled float (QGemm without y_scale).</summary>
        Float,
    }

    private readonly Kind _kind;
    private readonly float _aScale;
    private readonly ReadOnlySpan<float> _bScale;
    private readonly Requantization _requantization;
    private readonly ReadOnlySpan<int> _c;

    /// <summary>Int32 or float output (8-bit output takes a <see cref="Requantization"/>).</summary>
    public GemmOutput(Kind kind, float aScale, ReadOnlySpan<float> bScale, ReadOnlySpan<int> c)
    {
        _kind = kind;
        _aScale = aScale;
        _bScale = bScale;
        _requantization = default;
        _c = c;
    }

    /// <summary>8-bit output requantized by <paramref name="requantization"/>.</summary>
    public GemmOutput(Requantization requantization, ReadOnlySpan<int> c)
    {
        _kind = Kind.Quantized;
        _aScale = 0f;
        _bScale = default;
        _requantization = requantization;
        _c = c;
    }

    /// <summary>Elements of C.</summary>
    public int CLength => _c.Length;

    /// <summary>Writes Y[i, j..j+3] from their accumulators, as <see cref="Write{TShape}"/> does one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write4<TShape>(Span<byte> y, int yBase, int i, int j, Vector128<int> acc) where TShape : struct, IQGemmShape
    {
        if (TShape.HasC)
        {
            int c = i * TShape.CRowStride + j * TShape.CColStride;
            acc += TShape.CColStride == 0 ? Vector128.Create(_c[c])
                : TShape.CColStride == 1 ? Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(_c), (nuint)c)
                : Vector128.Create(_c[c], _c[c + TShape.CColStride], _c[c + 2 * TShape.CColStride], _c[c + 3 * TShape.CColStride]);
        }
        int at = yBase + i * TShape.N + j;
        switch (_kind)
        {
            case Kind.Int32:
                acc.StoreUnsafe(ref Unsafe.As<byte, int>(ref y[at * 4]));
                break;
            case Kind.Quantized:
                _requantization.At4(j, out var multipliers, out var shifts);
                Quant.Requantize4(acc, multipliers, shifts, _requantization.ZeroPoint, TShape.YSigned, ref y[at]);
                break;
            default:
                var scale = Vector128.Create(TShape.Alpha * _aScale) * (_bScale.Length == 1 ? Vector128.Create(_bScale[0]) : Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(_bScale), (nuint)j));
                (Vector128.ConvertToSingle(acc) * scale).StoreUnsafe(ref Unsafe.As<byte, float>(ref y[at * 4]));
                break;
        }
    }

    /// <summary>Writes Y[i, j] of the problem at <paramref name="yBase"/> from its accumulator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TShape>(Span<byte> y, int yBase, int i, int j, int acc) where TShape : struct, IQGemmShape
    {
        if (TShape.HasC) acc += _c[i * TShape.CRowStride + j * TShape.CColStride];
        int at = yBase + i * TShape.N + j;
        switch (_kind)
        {
            case Kind.Int32:
                Unsafe.WriteUnaligned(ref y[at * 4], acc);
                break;
            case Kind.Quantized:
                _requantization.At(j, out int multiplier, out int shift);
                y[at] = Quant.Requantize(acc, multiplier, shift, _requantization.ZeroPoint, TShape.YSigned);
                break;
            default:
                Unsafe.WriteUnaligned(ref y[at * 4], (float)acc * (TShape.Alpha * _aScale * Quant.At(_bScale, j)));
                break;
        }
    }
}
