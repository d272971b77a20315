namespace CompressBuild.Runtime;

using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

/// <summary>
/// Compile-time facts of one Gemm / MatMul step: <c>Y[M,N] = act(Alpha · A·B · scale + Beta · C)</c>
/// with A <c>[M,K]</c> (or <c>[K,M]</c> when <see cref="TransA"/>), B <c>[K,N]</c> (or <c>[N,K]</c>
/// when <see cref="TransB"/>). The generator emits one struct per step; the JIT folds every member.
/// </summary>
internal interface IGemmShape
{
    /// <summary>Rows of Y.</summary>
    static abstract int M { get; }

    /// <summary>Columns of Y.</summary>
    static abstract int N { get; }

    /// <summary>Reduction length.</summary>
    static abstract int K { get; }

    /// <summary>A is stored <c>[K,M]</c>.</summary>
    static abstract bool TransA { get; }

    /// <summary>B is stored <c>[N,K]</c>.</summary>
    static abstract bool TransB { get; }

    /// <summary>Multiplier of A·B.</summary>
    static abstract float Alpha { get; }

    /// <summary>Multiplier of C.</summary>
    static abstract float Beta { get; }

    /// <summary>True when there is a C input.</summary>
    static abstract bool HasC { get; }

    /// <summary>Element stride of C per row of Y (0: broadcast over rows).</summary>
    static abstract int CRowStride { get; }

    /// <summary>Element stride of C per column of Y (0: broadcast over columns, or 1).</summary>
    static abstract int CColStride { get; }

    /// <summary>For quantized B: one scale per column of Y (true) or one for all (false).</summary>
    static abstract bool ScalePerColumn { get; }

    /// <summary>Fused Relu.</summary>
    static abstract bool Relu { get; }
}

/// <summary>Compile-time facts of a (batched) MatMul step: batches of <see cref="IGemmShape"/> problems.</summary>
internal interface IMatMulShape : IGemmShape
{
    /// <summary>Number of [M,N] problems.</summary>
    static abstract int Batch { get; }

    /// <summary>Elements between consecutive A matrices (0: A is shared).</summary>
    static abstract int AStride { get; }

    /// <summary>Elements between consecutive B matrices (0: B is shared).</summary>
    static abstract int BStride { get; }
}

/// <summary>Compile-time facts of a Gemm step whose B is packed (<see cref="IPackedFormat"/>).</summary>
internal interface IPackedGemmShape : IGemmShape
{
    /// <summary>
    /// Reduction indices per fp16 scale. B <c>[N,K]</c> (<see cref="IGemmShape.TransB"/>): scale
    /// <c>n · ⌈K/Block⌉ + k / Block</c>; B <c>[K,N]</c>: scale <c>(k / Block) · N + n</c>.
    /// </summary>
    static abstract int Block { get; }
}

/// <summary>Compile-time facts of a (batched) MatMul step with a packed, shared B.</summary>
internal interface IPackedMatMulShape : IMatMulShape, IPackedGemmShape
{
}

/// <summary>
/// Gemm and MatMul. B is read in its stored format (fp32, fp16, int8), so weights are dequantized in
/// registers. Two register-blocked forms: B <c>[K,N]</c> broadcasts elements of A against vectors of
/// B rows (up to 4 rows × 2 vectors, or 1 row × 4 vectors, of accumulators); B <c>[N,K]</c>
/// (PyTorch's Linear) takes dot products of A rows with 4 B rows at once, two vectors deep.
/// </summary>
internal static class Gemm
{
    /// <summary>Runs one Gemm step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TShape, TW, TSimd, TVec>(ReadOnlySpan<float> a, ReadOnlySpan<byte> b, ReadOnlySpan<float> scales, ReadOnlySpan<float> c, Span<float> y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Check<TShape, TW>(a.Length, 1, b, 1, scales.Length, y.Length, 1);
        if (TShape.HasC) Guard.Length(c.Length, (long)(TShape.M - 1) * TShape.CRowStride + (long)(TShape.N - 1) * TShape.CColStride + 1, "Gemm C");
        Core<TShape, TW, TSimd, TVec>(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), ref MemoryMarshal.GetReference(scales),
            ref MemoryMarshal.GetReference(c), ref MemoryMarshal.GetReference(y));
    }

    /// <summary>Runs one MatMul step (batched; a shared operand has stride 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMul<TShape, TW, TSimd, TVec>(ReadOnlySpan<float> a, ReadOnlySpan<byte> b, ReadOnlySpan<float> scales, Span<float> y)
        where TShape : struct, IMatMulShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Check<TShape, TW>(a.Length, TShape.AStride == 0 ? 1 : TShape.Batch, b, TShape.BStride == 0 ? 1 : TShape.Batch, scales.Length, y.Length, TShape.Batch);
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref byte b0 = ref MemoryMarshal.GetReference(b);
        ref float s0 = ref MemoryMarshal.GetReference(scales);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int p = 0; p < TShape.Batch; p++)
        {
            Core<TShape, TW, TSimd, TVec>(ref Unsafe.Add(ref a0, (nint)p * TShape.AStride), ref Unsafe.Add(ref b0, (nint)p * TShape.BStride * TW.ElementBytes),
                ref s0, ref s0, ref Unsafe.Add(ref y0, (nint)p * TShape.M * TShape.N));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Check<TShape, TW>(int aLength, int aCount, ReadOnlySpan<byte> b, int bCount, int scalesLength, int yLength, int yCount)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat
    {
        Guard.Length(aLength, (long)TShape.M * TShape.K * aCount, "Gemm A");
        WeightReader.RequireBytes<TW>(b, (long)TShape.K * TShape.N * bCount, "Gemm B");
        if (TW.HasScales) Guard.Length(scalesLength, TShape.ScalePerColumn ? TShape.N : 1, "Gemm scales");
        Guard.Length(yLength, (long)TShape.M * TShape.N * yCount, "Gemm Y");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Core<TShape, TW, TSimd, TVec>(ref float a, ref byte b, ref float scales, ref float c, ref float y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (!TShape.TransB) BroadcastForm<TShape, TW, TSimd, TVec>(ref a, ref b, ref scales, ref c, ref y);
        else if (!TShape.TransA) DotForm<TShape, TW, TSimd, TVec>(ref a, ref b, ref scales, ref c, ref y);
        else Naive<TShape, TW>(ref a, ref b, ref scales, ref c, ref y);
    }

    // ---- B [K,N]: rows of B are vectors; elements of A are broadcast. ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BroadcastForm<TShape, TW, TSimd, TVec>(ref float a, ref byte b, ref float scales, ref float c, ref float y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int i = 0;
        for (; i <= TShape.M - 4; i += 4) Columns<TShape, TW, TSimd, TVec, Four, Two>(i, ref a, ref b, ref scales, ref c, ref y);
        for (; i < TShape.M; i++) Columns<TShape, TW, TSimd, TVec, One, Four>(i, ref a, ref b, ref scales, ref c, ref y);
    }

    /// <summary>All columns of <typeparamref name="TRows"/> rows from <paramref name="i"/>: tiles of <typeparamref name="TVecs"/> vectors, then single vectors, then scalars.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns<TShape, TW, TSimd, TVec, TRows, TVecs>(int i, ref float a, ref byte b, ref float scales, ref float c, ref float y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
        where TRows : struct, IConstant where TVecs : struct, IConstant
    {
        int n = 0;
        for (; n <= TShape.N - TVecs.Value * TSimd.Count; n += TVecs.Value * TSimd.Count)
            BTile<TShape, TW, TSimd, TVec, TRows, TVecs>(i, n, ref a, ref b, ref scales, ref c, ref y);
        for (; n <= TShape.N - TSimd.Count; n += TSimd.Count)
            BTile<TShape, TW, TSimd, TVec, TRows, One>(i, n, ref a, ref b, ref scales, ref c, ref y);
        for (; n < TShape.N; n++)
            BTile<TShape, TW, SimdScalar, float, TRows, One>(i, n, ref a, ref b, ref scales, ref c, ref y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float AAt<TShape>(ref float a, int i, int k) where TShape : struct, IGemmShape =>
        TShape.TransA ? Unsafe.Add(ref a, (nint)k * TShape.M + i) : Unsafe.Add(ref a, (nint)i * TShape.K + k);

    /// <summary>A tile of <typeparamref name="TRows"/> (1-4) rows × <typeparamref name="TVecs"/> (1, 2, or 4 with one row) vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BTile<TShape, TW, TSimd, TVec, TRows, TVecs>(int i, int n, ref float a, ref byte b, ref float scales, ref float c, ref float y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
        where TRows : struct, IConstant where TVecs : struct, IConstant
    {
        int rows = TRows.Value, vecs = TVecs.Value;
        int w = TSimd.Count;
        TVec c00 = TSimd.Zero, c01 = TSimd.Zero, c02 = TSimd.Zero, c03 = TSimd.Zero;
        TVec c10 = TSimd.Zero, c11 = TSimd.Zero, c20 = TSimd.Zero, c21 = TSimd.Zero, c30 = TSimd.Zero, c31 = TSimd.Zero;
        nint bRow = n;
        for (int k = 0; k < TShape.K; k++, bRow += TShape.N)
        {
            TVec b0 = TW.Load<TSimd, TVec>(ref b, bRow);
            TVec b1 = vecs > 1 ? TW.Load<TSimd, TVec>(ref b, bRow + w) : default;
            TVec a0 = TSimd.Splat(AAt<TShape>(ref a, i, k));
            c00 = TSimd.MultiplyAdd(a0, b0, c00);
            if (vecs > 1) c01 = TSimd.MultiplyAdd(a0, b1, c01);
            if (vecs > 2)
            {
                c02 = TSimd.MultiplyAdd(a0, TW.Load<TSimd, TVec>(ref b, bRow + 2 * w), c02);
                c03 = TSimd.MultiplyAdd(a0, TW.Load<TSimd, TVec>(ref b, bRow + 3 * w), c03);
            }
            if (rows > 1)
            {
                TVec a1 = TSimd.Splat(AAt<TShape>(ref a, i + 1, k));
                c10 = TSimd.MultiplyAdd(a1, b0, c10);
                if (vecs > 1) c11 = TSimd.MultiplyAdd(a1, b1, c11);
            }
            if (rows > 2)
            {
                TVec a2 = TSimd.Splat(AAt<TShape>(ref a, i + 2, k));
                c20 = TSimd.MultiplyAdd(a2, b0, c20);
                if (vecs > 1) c21 = TSimd.MultiplyAdd(a2, b1, c21);
            }
            if (rows > 3)
            {
                TVec a3 = TSimd.Splat(AAt<TShape>(ref a, i + 3, k));
                c30 = TSimd.MultiplyAdd(a3, b0, c30);
                if (vecs > 1) c31 = TSimd.MultiplyAdd(a3, b1, c31);
            }
        }
        StoreVec<TShape, TW, TSimd, TVec>(c00, i, n, ref scales, ref c, ref y);
        if (vecs > 1) StoreVec<TShape, TW, TSimd, TVec>(c01, i, n + w, ref scales, ref c, ref y);
        if (vecs > 2)
        {
            StoreVec<TShape, TW, TSimd, TVec>(c02, i, n + 2 * w, ref scales, ref c, ref y);
            StoreVec<TShape, TW, TSimd, TVec>(c03, i, n + 3 * w, ref scales, ref c, ref y);
        }
        if (rows > 1)
        {
            StoreVec<TShape, TW, TSimd, TVec>(c10, i + 1, n, ref scales, ref c, ref y);
            if (vecs > 1) StoreVec<TShape, TW, TSimd, TVec>(c11, i + 1, n + w, ref scales, ref c, ref y);
        }
        if (rows > 2)
        {
            StoreVec<TShape, TW, TSimd, TVec>(c20, i + 2, n, ref scales, ref c, ref y);
            if (vecs > 1) StoreVec<TShape, TW, TSimd, TVec>(c21, i + 2, n + w, ref scales, ref c, ref y);
        }
        if (rows > 3)
        {
            StoreVec<TShape, TW, TSimd, TVec>(c30, i + 3, n, ref scales, ref c, ref y);
            if (vecs > 1) StoreVec<TShape, TW, TSimd, TVec>(c31, i + 3, n + w, ref scales, ref c, ref y);
        }
    }

    /// <summary>Y[i, n..n+Count) = act(alpha · acc · scale + beta · C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVec<TShape, TW, TSimd, TVec>(TVec acc, int i, int n, ref float scales, ref float c, ref float y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (TW.HasScales) acc = TSimd.Multiply(acc, TShape.ScalePerColumn ? TSimd.Load(ref scales, n) : TSimd.Splat(scales));
        FinishVec<TShape, TSimd, TVec>(acc, i, n, ref c, ref y);
    }

    /// <summary>Y[i, n..n+Count) = act(alpha · acc + beta · C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishVec<TShape, TSimd, TVec>(TVec acc, int i, int n, ref float c, ref float y)
        where TShape : struct, IGemmShape where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (TShape.Alpha != 1f) acc = TSimd.Multiply(acc, TSimd.Splat(TShape.Alpha));
        if (TShape.HasC && TShape.Beta != 0f)
        {
            nint ci = (nint)i * TShape.CRowStride + (nint)n * TShape.CColStride;
            TVec cv = TShape.CColStride == 0 ? TSimd.Splat(Unsafe.Add(ref c, ci)) : TSimd.Load(ref c, ci);
            acc = TShape.Beta == 1f ? TSimd.Add(acc, cv) : TSimd.MultiplyAdd(cv, TSimd.Splat(TShape.Beta), acc);
        }
        if (TShape.Relu) acc = TSimd.Max(acc, TSimd.Zero);
        TSimd.Store(acc, ref y, (nint)i * TShape.N + n);
    }

    // ---- B [N,K]: rows of B are dot products with rows of A. ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotForm<TShape, TW, TSimd, TVec>(ref float a, ref byte b, ref float scales, ref float c, ref float y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        for (int i = 0; i < TShape.M; i++)
        {
            ref float aRow = ref Unsafe.Add(ref a, (nint)i * TShape.K);
            int n = 0;
            for (; n <= TShape.N - 4; n += 4) DTile<TShape, TW, TSimd, TVec, Four>(i, n, ref aRow, ref b, ref scales, ref c, ref y);
            for (; n < TShape.N; n++) DTile<TShape, TW, TSimd, TVec, One>(i, n, ref aRow, ref b, ref scales, ref c, ref y);
        }
    }

    /// <summary>Dot products of one A row with <typeparamref name="TCols"/> (1 or 4) B rows, two vectors deep.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DTile<TShape, TW, TSimd, TVec, TCols>(int i, int n, ref float aRow, ref byte b, ref float scales, ref float c, ref float y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct where TCols : struct, IConstant
    {
        int cols = TCols.Value;
        int w = TSimd.Count;
        nint r0 = (nint)n * TShape.K, r1 = r0 + TShape.K, r2 = r1 + TShape.K, r3 = r2 + TShape.K;
        TVec s00 = TSimd.Zero, s01 = TSimd.Zero, s10 = TSimd.Zero, s11 = TSimd.Zero;
        TVec s20 = TSimd.Zero, s21 = TSimd.Zero, s30 = TSimd.Zero, s31 = TSimd.Zero;
        int k = 0;
        for (; k <= TShape.K - 2 * w; k += 2 * w)
        {
            TVec x0 = TSimd.Load(ref aRow, k), x1 = TSimd.Load(ref aRow, k + w);
            s00 = TSimd.MultiplyAdd(x0, TW.Load<TSimd, TVec>(ref b, r0 + k), s00);
            s01 = TSimd.MultiplyAdd(x1, TW.Load<TSimd, TVec>(ref b, r0 + k + w), s01);
            if (cols > 1)
            {
                s10 = TSimd.MultiplyAdd(x0, TW.Load<TSimd, TVec>(ref b, r1 + k), s10);
                s11 = TSimd.MultiplyAdd(x1, TW.Load<TSimd, TVec>(ref b, r1 + k + w), s11);
                s20 = TSimd.MultiplyAdd(x0, TW.Load<TSimd, TVec>(ref b, r2 + k), s20);
                s21 = TSimd.MultiplyAdd(x1, TW.Load<TSimd, TVec>(ref b, r2 + k + w), s21);
                s30 = TSimd.MultiplyAdd(x0, TW.Load<TSimd, TVec>(ref b, r3 + k), s30);
                s31 = TSimd.MultiplyAdd(x1, TW.Load<TSimd, TVec>(ref b, r3 + k + w), s31);
            }
        }
        for (; k <= TShape.K - w; k += w)
        {
            TVec x0 = TSimd.Load(ref aRow, k);
            s00 = TSimd.MultiplyAdd(x0, TW.Load<TSimd, TVec>(ref b, r0 + k), s00);
            if (cols > 1)
            {
                s10 = TSimd.MultiplyAdd(x0, TW.Load<TSimd, TVec>(ref b, r1 + k), s10);
                s20 = TSimd.MultiplyAdd(x0, TW.Load<TSimd, TVec>(ref b, r2 + k), s20);
                s30 = TSimd.MultiplyAdd(x0, TW.Load<TSimd, TVec>(ref b, r3 + k), s30);
            }
        }
        float d0 = TSimd.Sum(TSimd.Add(s00, s01)), d1 = 0f, d2 = 0f, d3 = 0f;
        if (cols > 1)
        {
            d1 = TSimd.Sum(TSimd.Add(s10, s11));
            d2 = TSimd.Sum(TSimd.Add(s20, s21));
            d3 = TSimd.Sum(TSimd.Add(s30, s31));
        }
        for (; k < TShape.K; k++)
        {
            float x = Unsafe.Add(ref aRow, k);
            d0 += x * TW.Get(ref b, r0 + k);
            if (cols > 1)
            {
                d1 += x * TW.Get(ref b, r1 + k);
                d2 += x * TW.Get(ref b, r2 + k);
                d3 += x * TW.Get(ref b, r3 + k);
            }
        }
        StoreScalar<TShape, TW>(d0, i, n, ref scales, ref c, ref y);
        if (cols > 1)
        {
            StoreScalar<TShape, TW>(d1, i, n + 1, ref scales, ref c, ref y);
            StoreScalar<TShape, TW>(d2, i, n + 2, ref scales, ref c, ref y);
            StoreScalar<TShape, TW>(d3, i, n + 3, ref scales, ref c, ref y);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreScalar<TShape, TW>(float acc, int i, int n, ref float scales, ref float c, ref float y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat
    {
        if (TW.HasScales) acc *= TShape.ScalePerColumn ? Unsafe.Add(ref scales, n) : scales;
        Finish<TShape>(acc, i, n, ref c, ref y);
    }

    /// <summary>Y[i, n] = act(alpha · acc + beta · C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TShape>(float acc, int i, int n, ref float c, ref float y) where TShape : struct, IGemmShape
    {
        if (TShape.Alpha != 1f) acc *= TShape.Alpha;
        if (TShape.HasC && TShape.Beta != 0f) acc += TShape.Beta * Unsafe.Add(ref c, (nint)i * TShape.CRowStride + (nint)n * TShape.CColStride);
        if (TShape.Relu) acc = SimdScalar.Max(acc, 0f);
        Unsafe.Add(ref y, (nint)i * TShape.N + n) = acc;
    }

    // ---- A [K,M] and B [N,K]: neither operand is contiguous along K (rare; plain loops). ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Naive<TShape, TW>(ref float a, ref byte b, ref float scales, ref float c, ref float y)
        where TShape : struct, IGemmShape where TW : struct, IWeightFormat
    {
        for (int i = 0; i < TShape.M; i++)
            for (int n = 0; n < TShape.N; n++)
            {
                float acc = 0f;
                for (int k = 0; k < TShape.K; k++) acc += AAt<TShape>(ref a, i, k) * TW.Get(ref b, (nint)n * TShape.K + k);
                StoreScalar<TShape, TW>(acc, i, n, ref scales, ref c, ref y);
            }
    }

    // ---- Packed B (int4 / int2): values unpacked in registers, fp32 sums per scale block, then scaled. ----

    /// <summary>Runs one Gemm step with packed B and fp16 block scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunPacked<TShape, TP, TSimd, TVec>(ReadOnlySpan<float> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> scales, ReadOnlySpan<float> c, Span<float> y)
        where TShape : struct, IPackedGemmShape where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        CheckPacked<TShape, TP>(a.Length, 1, b, scales, y.Length, 1);
        if (TShape.HasC) Guard.Length(c.Length, (long)(TShape.M - 1) * TShape.CRowStride + (long)(TShape.N - 1) * TShape.CColStride + 1, "Gemm C");
        PackedCore<TShape, TP, TSimd, TVec>(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), ref MemoryMarshal.GetReference(scales),
            ref MemoryMarshal.GetReference(c), ref MemoryMarshal.GetReference(y));
    }

    /// <summary>Runs one MatMul step with a packed B shared by every batch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulPacked<TShape, TP, TSimd, TVec>(ReadOnlySpan<float> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> scales, Span<float> y)
        where TShape : struct, IPackedMatMulShape where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (TShape.BStride != 0) Guard.Fail("MatMul packed B (batch stride)", TShape.BStride, 0);
        CheckPacked<TShape, TP>(a.Length, TShape.AStride == 0 ? 1 : TShape.Batch, b, scales, y.Length, TShape.Batch);
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int p = 0; p < TShape.Batch; p++)
        {
            PackedCore<TShape, TP, TSimd, TVec>(ref Unsafe.Add(ref a0, (nint)p * TShape.AStride), ref MemoryMarshal.GetReference(b), ref MemoryMarshal.GetReference(scales),
                ref a0, ref Unsafe.Add(ref y0, (nint)p * TShape.M * TShape.N));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Blocks<TShape>() where TShape : struct, IPackedGemmShape => (TShape.K + TShape.Block - 1) / TShape.Block;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckPacked<TShape, TP>(int aLength, int aCount, ReadOnlySpan<byte> b, ReadOnlySpan<byte> scales, int yLength, int yCount)
        where TShape : struct, IPackedGemmShape where TP : struct, IPackedFormat
    {
        Guard.Length(aLength, (long)TShape.M * TShape.K * aCount, "Gemm A");
        Guard.Length(b.Length, Packed.Bytes<TP>((long)TShape.K * TShape.N), "Gemm B (packed bytes)");
        Guard.Length(scales.Length, 2L * Blocks<TShape>() * TShape.N, "Gemm scales (fp16 bytes)");
        Guard.Length(yLength, (long)TShape.M * TShape.N * yCount, "Gemm Y");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackedCore<TShape, TP, TSimd, TVec>(ref float a, ref byte b, ref byte scales, ref float c, ref float y)
        where TShape : struct, IPackedGemmShape where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        if (!TShape.TransB)
        {
            for (int i = 0; i < TShape.M; i++)
            {
                int n = 0;
                for (; n <= TShape.N - 2 * TSimd.Count; n += 2 * TSimd.Count) PackedColumns<TShape, TP, TSimd, TVec, Two>(i, n, ref a, ref b, ref scales, ref c, ref y);
                for (; n <= TShape.N - TSimd.Count; n += TSimd.Count) PackedColumns<TShape, TP, TSimd, TVec, One>(i, n, ref a, ref b, ref scales, ref c, ref y);
                for (; n < TShape.N; n++) PackedColumns<TShape, TP, SimdScalar, float, One>(i, n, ref a, ref b, ref scales, ref c, ref y);
            }
        }
        else if (TShape.TransA)
        {
            PackedNaive<TShape, TP>(ref a, ref b, ref scales, ref c, ref y);
        }
        else
        {
            for (int i = 0; i < TShape.M; i++)
            {
                int n = 0;
                for (; n <= TShape.N - 4; n += 4) PackedRows<TShape, TP, TSimd, TVec, Four>(i, n, ref a, ref b, ref scales, ref c, ref y);
                for (; n < TShape.N; n++) PackedRows<TShape, TP, TSimd, TVec, One>(i, n, ref a, ref b, ref scales, ref c, ref y);
            }
        }
    }

    /// <summary>B <c>[K,N]</c>: <typeparamref name="TVecs"/> (1-2) vectors of columns of row <paramref name="i"/>; A elements broadcast, block scales loaded per column.</summary>
    // Too many locals for the JIT to inline: compiled on its own, fully optimized from the first call.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackedColumns<TShape, TP, TSimd, TVec, TVecs>(int i, int n, ref float a, ref byte b, ref byte scales, ref float c, ref float y)
        where TShape : struct, IPackedGemmShape where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct where TVecs : struct, IConstant
    {
        int w = TSimd.Count;
        bool two = TVecs.Value > 1;
        // Rows of B start on whole bytes when N is a multiple of the values per byte (column tiles are whole vectors).
        bool aligned = TShape.N % Packed.PerByte<TP>() == 0;
        TVec y0 = TSimd.Zero, y1 = TSimd.Zero;
        for (int kb = 0, blk = 0; kb < TShape.K; kb += TShape.Block, blk++)
        {
            int ke = Math.Min(kb + TShape.Block, TShape.K);
            TVec s0 = TSimd.Zero, s1 = TSimd.Zero;
            for (int k = kb; k < ke; k++)
            {
                TVec x = TSimd.Splat(AAt<TShape>(ref a, i, k));
                nint row = (nint)k * TShape.N + n;
                s0 = TSimd.MultiplyAdd(x, Packed.Load<TP, TSimd, TVec>(ref b, row, aligned), s0);
                if (two) s1 = TSimd.MultiplyAdd(x, Packed.Load<TP, TSimd, TVec>(ref b, row + w, aligned), s1);
            }
            nint si = (nint)blk * TShape.N + n;
            y0 = TSimd.MultiplyAdd(s0, TSimd.LoadHalf(ref scales, si), y0);
            if (two) y1 = TSimd.MultiplyAdd(s1, TSimd.LoadHalf(ref scales, si + w), y1);
        }
        FinishVec<TShape, TSimd, TVec>(y0, i, n, ref c, ref y);
        if (two) FinishVec<TShape, TSimd, TVec>(y1, i, n + w, ref c, ref y);
    }

    /// <summary>B <c>[N,K]</c>, A <c>[M,K]</c>: dot products of row <paramref name="i"/> of A with <typeparamref name="TRows"/> (1 or 4) rows of B, block by block.</summary>
    // Too many locals for the JIT to inline: compiled on its own, fully optimized from the first call.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackedRows<TShape, TP, TSimd, TVec, TRows>(int i, int n, ref float a, ref byte b, ref byte scales, ref float c, ref float y)
        where TShape : struct, IPackedGemmShape where TP : struct, IPackedFormat where TSimd : struct, ISimd<TVec> where TVec : struct where TRows : struct, IConstant
    {
        bool four = TRows.Value > 1;
        int w = TSimd.Count, blocks = Blocks<TShape>();
        // Rows and scale blocks start on whole bytes when K and Block are multiples of the values per byte.
        bool aligned = TShape.K % Packed.PerByte<TP>() == 0 && TShape.Block % Packed.PerByte<TP>() == 0;
        nint r0 = (nint)n * TShape.K, r1 = r0 + TShape.K, r2 = r1 + TShape.K, r3 = r2 + TShape.K;
        nint s0 = (nint)n * blocks;
        TVec t0 = TSimd.Zero, t1 = TSimd.Zero, t2 = TSimd.Zero, t3 = TSimd.Zero;
        float d0 = 0f, d1 = 0f, d2 = 0f, d3 = 0f;
        for (int kb = 0, blk = 0; kb < TShape.K; kb += TShape.Block, blk++)
        {
            int ke = Math.Min(kb + TShape.Block, TShape.K);
            TVec p0 = TSimd.Zero, p1 = TSimd.Zero, p2 = TSimd.Zero, p3 = TSimd.Zero;
            int k = kb;
            for (; k <= ke - w; k += w)
            {
                TVec x = TSimd.Load(ref a, (nint)i * TShape.K + k);
                p0 = TSimd.MultiplyAdd(x, Packed.Load<TP, TSimd, TVec>(ref b, r0 + k, aligned), p0);
                if (four)
                {
                    p1 = TSimd.MultiplyAdd(x, Packed.Load<TP, TSimd, TVec>(ref b, r1 + k, aligned), p1);
                    p2 = TSimd.MultiplyAdd(x, Packed.Load<TP, TSimd, TVec>(ref b, r2 + k, aligned), p2);
                    p3 = TSimd.MultiplyAdd(x, Packed.Load<TP, TSimd, TVec>(ref b, r3 + k, aligned), p3);
                }
            }
            float e0 = 0f, e1 = 0f, e2 = 0f, e3 = 0f;
            for (; k < ke; k++)
            {
                float x = AAt<TShape>(ref a, i, k);
                e0 += x * TP.Get(ref b, r0 + k);
                if (four)
                {
                    e1 += x * TP.Get(ref b, r1 + k);
                    e2 += x * TP.Get(ref b, r2 + k);
                    e3 += x * TP.Get(ref b, r3 + k);
                }
            }
            float c0 = Packed.Scale(ref scales, s0 + blk);
            t0 = TSimd.MultiplyAdd(p0, TSimd.Splat(c0), t0);
            d0 += e0 * c0;
            if (four)
            {
                float c1 = Packed.Scale(ref scales, s0 + blocks + blk), c2 = Packed.Scale(ref scales, s0 + 2 * blocks + blk), c3 = Packed.Scale(ref scales, s0 + 3 * blocks + blk);
                t1 = TSimd.MultiplyAdd(p1, TSimd.Splat(c1), t1);
                t2 = TSimd.MultiplyAdd(p2, TSimd.Splat(c2), t2);
                t3 = TSimd.MultiplyAdd(p3, TSimd.Splat(c3), t3);
                d1 += e1 * c1;
                d2 += e2 * c2;
                d3 += e3 * c3;
            }
        }
        Finish<TShape>(TSimd.Sum(t0) + d0, i, n, ref c, ref y);
        if (four)
        {
            Finish<TShape>(TSimd.Sum(t1) + d1, i, n + 1, ref c, ref y);
            Finish<TShape>(TSimd.Sum(t2) + d2, i, n + 2, ref c, ref y);
            Finish<TShape>(TSimd.Sum(t3) + d3, i, n + 3, ref c, ref y);
        }
    }

    /// <summary>A <c>[K,M]</c> and B <c>[N,K]</c> (rare): plain loops.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackedNaive<TShape, TP>(ref float a, ref byte b, ref byte scales, ref float c, ref float y)
        where TShape : struct, IPackedGemmShape where TP : struct, IPackedFormat
    {
        int blocks = Blocks<TShape>();
        for (int i = 0; i < TShape.M; i++)
            for (int n = 0; n < TShape.N; n++)
            {
                float acc = 0f;
                for (int k = 0; k < TShape.K; k++)
                    acc += AAt<TShape>(ref a, i, k) * TP.Get(ref b, (nint)n * TShape.K + k) * Packed.Scale(ref scales, (nint)n * blocks + k / TShape.Block);
                Finish<TShape>(acc, i, n, ref c, ref y);
            }
    }
}

/// <summary>
/// Compile-time facts of a MatMul whose batch dims broadcast in general (or whose element type is
/// not float): the output batch is walked as [D0, D1, D2, D3] (product <see cref="Batch"/>), A's and
/// B's matrices found at element strides A0..A3 and B0..B3 (0 along a broadcast dim).
/// </summary>
internal interface IMatMulNdShape : IGemmShape
{
    /// <summary>Number of [M,N] products.</summary>
    static abstract int Batch { get; }

    /// <summary>Batch dim 0.</summary>
    static abstract int D0 { get; }

    /// <summary>Batch dim 1.</summary>
    static abstract int D1 { get; }

    /// <summary>Batch dim 2.</summary>
    static abstract int D2 { get; }

    /// <summary>Batch dim 3.</summary>
    static abstract int D3 { get; }

    /// <summary>A's stride along D0.</summary>
    static abstract int A0 { get; }

    /// <summary>A's stride along D1.</summary>
    static abstract int A1 { get; }

    /// <summary>A's stride along D2.</summary>
    static abstract int A2 { get; }

    /// <summary>A's stride along D3.</summary>
    static abstract int A3 { get; }

    /// <summary>B's stride along D0.</summary>
    static abstract int B0 { get; }

    /// <summary>B's stride along D1.</summary>
    static abstract int B1 { get; }

    /// <summary>B's stride along D2.</summary>
    static abstract int B2 { get; }

    /// <summary>B's stride along D3.</summary>
    static abstract int B3 { get; }
}

/// <summary>MatMul with broadcast batch dims (float, weights in any format) and for double and integer element types.</summary>
internal static class MatMulNd
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Span<TShape>(int a0, int a1, int a2, int a3) where TShape : struct, IMatMulNdShape =>
        (long)(TShape.D0 - 1) * a0 + (long)(TShape.D1 - 1) * a1 + (long)(TShape.D2 - 1) * a2 + (long)(TShape.D3 - 1) * a3;

    /// <summary>Float MatMul over broadcast batches; every [M,N] product runs the <see cref="Gemm"/> kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TShape, TW, TSimd, TVec>(ReadOnlySpan<float> a, ReadOnlySpan<byte> b, ReadOnlySpan<float> scales, Span<float> y)
        where TShape : struct, IMatMulNdShape where TW : struct, IWeightFormat where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        long mk = (long)TShape.M * TShape.K, kn = (long)TShape.K * TShape.N, mn = (long)TShape.M * TShape.N;
        Guard.Length(a.Length, Span<TShape>(TShape.A0, TShape.A1, TShape.A2, TShape.A3) + mk, "MatMul A");
        WeightReader.RequireBytes<TW>(b, Span<TShape>(TShape.B0, TShape.B1, TShape.B2, TShape.B3) + kn, "MatMul B");
        if (TW.HasScales) Guard.Length(scales.Length, TShape.ScalePerColumn ? TShape.N : 1, "MatMul scales");
        Guard.Length(y.Length, TShape.Batch * mn, "MatMul Y");
        int p = 0;
        for (int i0 = 0; i0 < TShape.D0; i0++)
            for (int i1 = 0; i1 < TShape.D1; i1++)
                for (int i2 = 0; i2 < TShape.D2; i2++)
                    for (int i3 = 0; i3 < TShape.D3; i3++, p++)
                    {
                        int ao = i0 * TShape.A0 + i1 * TShape.A1 + i2 * TShape.A2 + i3 * TShape.A3;
                        int bo = i0 * TShape.B0 + i1 * TShape.B1 + i2 * TShape.B2 + i3 * TShape.B3;
                        Gemm.Run<TShape, TW, TSimd, TVec>(a.Slice(ao, (int)mk), b.Slice(bo * TW.ElementBytes), scales, default, y.Slice(p * (int)mn, (int)mn));
                    }
    }

    /// <summary>MatMul for double and integer element types (integers wrap), plain loops as the engine's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Generic<TShape, T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
        where TShape : struct, IMatMulNdShape where T : unmanaged, INumber<T>
    {
        int m = TShape.M, n = TShape.N, k = TShape.K;
        Guard.Length(a.Length, Span<TShape>(TShape.A0, TShape.A1, TShape.A2, TShape.A3) + (long)m * k, "MatMul A");
        Guard.Length(b.Length, Span<TShape>(TShape.B0, TShape.B1, TShape.B2, TShape.B3) + (long)k * n, "MatMul B");
        Guard.Length(y.Length, (long)TShape.Batch * m * n, "MatMul Y");
        int p = 0;
        for (int i0 = 0; i0 < TShape.D0; i0++)
            for (int i1 = 0; i1 < TShape.D1; i1++)
                for (int i2 = 0; i2 < TShape.D2; i2++)
                    for (int i3 = 0; i3 < TShape.D3; i3++, p++)
                    {
                        int ao = i0 * TShape.A0 + i1 * TShape.A1 + i2 * TShape.A2 + i3 * TShape.A3;
                        int bo = i0 * TShape.B0 + i1 * TShape.B1 + i2 * TShape.B2 + i3 * TShape.B3;
                        var yp = y.Slice(p * m * n, m * n);
                        yp.Clear();
                        for (int r = 0; r < m; r++)
                        {
                            var row = yp.Slice(r * n, n);
                            for (int q = 0; q < k; q++)
                            {
                                T av = a[ao + r * k + q];
                                var bRow = b.Slice(bo + q * n, n);
                                for (int j = 0; j < n; j++) row[j] += av * bRow[j];
                            }
                        }
                    }
    }
}
