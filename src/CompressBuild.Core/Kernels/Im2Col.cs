using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CompressBuild.Core.Kernels;

/// <summary>
/// What <see cref="Im2Col.Walk"/> does with the output rows of one kernel tap: outputs
/// [output, output + count) read inputs input, input + stride, … (absolute array offsets).
/// </summary>
internal interface ITapRows
{
    /// <summary>One run of outputs whose tap lies inside the input.</summary>
    void Run(int output, int input, int count, int stride);
}

/// <summary>
/// im2col and col2im over a <see cref="WindowGeometry"/>: the column matrix of C channels is
/// [C·K, P] (K kernel taps, P output positions) with row c·K + tap holding, for every output
/// position, the input element that tap reads (0 in the padding). Convolution then is one matrix
/// product per group.
/// </summary>
internal static class Im2Col
{
    /// <summary>
    /// Calls <paramref name="rows"/> for the outputs of one kernel tap that read inside the input, in
    /// output order, as runs along the innermost axis (contiguous inputs when the stride is 1). Output
    /// and input offsets start at <paramref name="outputBase"/> and <paramref name="inputBase"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Walk<T>(WindowGeometry g, in TapRuns t, int inputBase, int outputBase, ref T rows) where T : struct, ITapRows
    {
        if (t.IsEmpty) return;
        int outW = g.Out[2], plane = g.Out[1] * outW;
        int sw = g.Stride[2], run = t.W1 - t.W0;
        int stepH = g.Stride[1] * g.In[2], stepD = g.Stride[0] * g.In[1] * g.In[2];
        for (int od = t.D0, inputD = inputBase + t.Input; od < t.D1; od++, inputD += stepD)
        {
            int o = outputBase + od * plane + t.H0 * outW + t.W0;
            for (int oh = t.H0, input = inputD; oh < t.H1; oh++, o += outW, input += stepH) rows.Run(o, input, run, sw);
        }
    }

    /// <summary>
    /// im2col: writes the column matrix of <paramref name="channels"/> channels of
    /// <paramref name="x"/> (from <paramref name="xOffset"/>) into <paramref name="col"/> at column
    /// <paramref name="colOffset"/>, rows <paramref name="colStride"/> apart (several samples side by
    /// side make one wide matrix).
    /// </summary>
    public static void Pack(float[] x, int xOffset, int channels, WindowGeometry g, float[] col, int colOffset, int colStride)
    {
        var rows = new PackRows(x, col);
        for (int c = 0, row = 0; c < channels; c++)
            for (int tap = 0; tap < g.KernelSize; tap++, row++)
            {
                ref readonly var t = ref g.Taps[tap];
                int colBase = row * colStride + colOffset;
                // A tap reaching into the padding reads zeros somewhere: clear its row, then copy the inside.
                if (!t.Complete) col.AsSpan(colBase, g.OutSize).Clear();
                Walk(g, t, xOffset + c * g.InSize, colBase, ref rows);
            }
    }

    /// <summary>
    /// col2im: adds every element of the column matrix in <paramref name="col"/> (laid out as
    /// <see cref="Pack"/> writes it) to the input element its tap reads, in the channels of
    /// <paramref name="x"/> from <paramref name="xOffset"/>.
    /// </summary>
    public static void UnpackAdd(float[] col, int colOffset, int colStride, float[] x, int xOffset, int channels, WindowGeometry g)
    {
        var rows = new UnpackRows(col, x);
        for (int c = 0, row = 0; c < channels; c++)
            for (int tap = 0; tap < g.KernelSize; tap++, row++)
                Walk(g, g.Taps[tap], xOffset + c * g.InSize, row * colStride + colOffset, ref rows);
    }

    private readonly struct PackRows(float[] x, float[] col) : ITapRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Run(int output, int input, int count, int stride)
        {
            ref float src = ref x[input];
            ref float dst = ref col[output];
            if (stride == 1) CopyShort(ref src, ref dst, count);
            else
                for (int j = 0; j < count; j++) Unsafe.Add(ref dst, j) = Unsafe.Add(ref src, j * stride);
        }
    }

    private readonly struct UnpackRows(float[] col, float[] x) : ITapRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Run(int output, int input, int count, int stride)
        {
            ref float src = ref col[output];
            ref float dst = ref x[input];
            if (stride == 1) AddShort(ref src, ref dst, count);
            else
                for (int j = 0; j < count; j++) Unsafe.Add(ref dst, j * stride) += Unsafe.Add(ref src, j);
        }
    }

    // dst[0..n) += src[0..n) for short rows, without a call per row.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddShort(ref float src, ref float dst, int n)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= n; j += 8)
                (Vector256.LoadUnsafe(ref dst, (nuint)j) + Vector256.LoadUnsafe(ref src, (nuint)j)).StoreUnsafe(ref dst, (nuint)j);
        if (Vector128.IsHardwareAccelerated && j + 4 <= n)
        {
            (Vector128.LoadUnsafe(ref dst, (nuint)j) + Vector128.LoadUnsafe(ref src, (nuint)j)).StoreUnsafe(ref dst, (nuint)j);
            j += 4;
        }
        for (; j < n; j++) Unsafe.Add(ref dst, j) += Unsafe.Add(ref src, j);
    }

    // Rows of convolutions are short (5–30 elements): overlapping vector moves beat a memmove call.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyShort(ref float src, ref float dst, int n)
    {
        if (Vector256.IsHardwareAccelerated && n is >= 8 and <= 32)
        {
            Vector256.LoadUnsafe(ref src).StoreUnsafe(ref dst);
            if (n > 16)
            {
                Vector256.LoadUnsafe(ref src, 8).StoreUnsafe(ref dst, 8);
                Vector256.LoadUnsafe(ref src, (nuint)(n - 16)).StoreUnsafe(ref dst, (nuint)(n - 16));
            }
            Vector256.LoadUnsafe(ref src, (nuint)(n - 8)).StoreUnsafe(ref dst, (nuint)(n - 8));
        }
        else if (Vector128.IsHardwareAccelerated && n is >= 4 and < 8)
        {
            Vector128.LoadUnsafe(ref src).StoreUnsafe(ref dst);
            Vector128.LoadUnsafe(ref src, (nuint)(n - 4)).StoreUnsafe(ref dst, (nuint)(n - 4));
        }
        else
        {
            MemoryMarshal.CreateReadOnlySpan(ref src, n).CopyTo(MemoryMarshal.CreateSpan(ref dst, n));
        }
    }
}
