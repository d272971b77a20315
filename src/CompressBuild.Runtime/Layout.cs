namespace CompressBuild.Runtime;

using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

/// <summary>
/// A data-movement step: its shape struct holds the geometry of each copy as
/// <c>static ReadOnlySpan&lt;int&gt;</c> members (read from the assembly image, no allocation),
/// which the step passes to the <see cref="Layout"/> kernels.
/// </summary>
internal interface ILayoutStep
{
}

/// <summary>Compile-time facts of a Gather step: <see cref="Outer"/> × <see cref="Axis"/> × <see cref="Inner"/> data, <see cref="Count"/> indices.</summary>
internal interface IGatherShape
{
    /// <summary>Product of the data axes before the gathered axis.</summary>
    static abstract int Outer { get; }

    /// <summary>Size of the gathered axis.</summary>
    static abstract int Axis { get; }

    /// <summary>Product of the data axes after the gathered axis (elements copied per index).</summary>
    static abstract int Inner { get; }

    /// <summary>Number of indices.</summary>
    static abstract int Count { get; }
}

/// <summary>
/// Data movement for any element type (elements are moved as they are, bit for bit): strided copies
/// (Transpose, Slice, Concat, Split, Expand, Tile, constant Pad), index-mapped copies (edge and
/// reflect Pad) and Gather.
/// </summary>
/// <remarks>
/// A copy's geometry is <c>[xOffset, yOffset, tiled, (dim, xStride, yStride) per axis…]</c>, outermost
/// axis first, strides in elements (negative for reversed slices, 0 for broadcasts). The generator
/// drops unit axes and merges axes that stay contiguous; with <c>tiled = 1</c> the last two axes are
/// a transpose (the second-last contiguous in x, the last contiguous in y) and are copied in square
/// tiles so both sides stay in cache.
/// </remarks>
internal static class Layout
{
    /// <summary>Most axes a geometry may have.</summary>
    public const int MaxRank = 16;

    /// <summary>Side of the square tiles of a tiled transpose.</summary>
    private const int Tile = 8;

    /// <summary>y[yOffset + Σ i·yStride] = x[xOffset + Σ i·xStride] over every index of the geometry's axes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Copy<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<int> geometry) where T : unmanaged
    {
        int rank = (geometry.Length - 3) / 3;
        if (geometry.Length < 3 || geometry.Length != 3 + 3 * rank || rank > MaxRank) Guard.Fail("Layout.Copy geometry", geometry.Length, 3 + 3 * rank);
        if (!Reaches(geometry, rank, 1, x.Length, "Layout.Copy X") || !Reaches(geometry, rank, 2, y.Length, "Layout.Copy Y")) return;
        ref T x0 = ref MemoryMarshal.GetReference(x);
        ref T y0 = ref MemoryMarshal.GetReference(y);
        nint xo = geometry[0], yo = geometry[1];
        if (rank == 0)
        {
            Unsafe.Add(ref y0, yo) = Unsafe.Add(ref x0, xo);
            return;
        }
        bool tiled = geometry[2] != 0 && rank >= 2;
        int loops = rank - (tiled ? 2 : 1);
        int b = 3 + 3 * (rank - 1);
        int n = geometry[b], sx = geometry[b + 1], sy = geometry[b + 2];
        if (tiled && (geometry[b - 2] != 1 || sy != 1)) Guard.Fail("Layout.Copy tiled geometry (x stride of the second-last axis and y stride of the last must be 1)", geometry.Length, 0);
        Span<int> index = stackalloc int[MaxRank];
        index.Clear();
        while (true)
        {
            if (tiled) Transpose(ref Unsafe.Add(ref x0, xo), ref Unsafe.Add(ref y0, yo), geometry[b - 3], geometry[b - 1], n, sx);
            else Row(ref Unsafe.Add(ref x0, xo), ref Unsafe.Add(ref y0, yo), n, sx, sy);
            int k = loops - 1;
            for (; k >= 0; k--)
            {
                int a = 3 + 3 * k;
                xo += geometry[a + 1];
                yo += geometry[a + 2];
                if (++index[k] < geometry[a]) break;
                index[k] = 0;
                xo -= (nint)geometry[a] * geometry[a + 1];
                yo -= (nint)geometry[a] * geometry[a + 2];
            }
            if (k < 0) return;
        }
    }

    /// <summary>
    /// Checks that every element the geometry addresses on one side (<paramref name="side"/> 1: x, 2: y)
    /// lies inside a span of <paramref name="length"/>; false when the geometry addresses nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Reaches(ReadOnlySpan<int> geometry, int rank, int side, int length, string what)
    {
        long low = geometry[side - 1], high = low;
        for (int k = 0; k < rank; k++)
        {
            int a = 3 + 3 * k;
            long dim = geometry[a];
            if (dim <= 0) return false;
            long reach = (dim - 1) * geometry[a + side];
            if (reach < 0) low += reach;
            else high += reach;
        }
        if (low < 0) Guard.Fail(what + " (offset below 0)", length, high + 1);
        if (high >= length) Guard.Fail(what, length, high + 1);
        return true;
    }

    /// <summary>One row: <paramref name="n"/> elements at strides <paramref name="sx"/>, <paramref name="sy"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<T>(ref T x, ref T y, int n, int sx, int sy) where T : unmanaged
    {
        if (sx == 1 && sy == 1)
        {
            if (n * Unsafe.SizeOf<T>() <= 32)
            {
                for (int i = 0; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref x, i);
            }
            else
            {
                MemoryMarshal.CreateReadOnlySpan(ref x, n).CopyTo(MemoryMarshal.CreateSpan(ref y, n));
            }
        }
        else if (sx == 0)
        {
            T v = x;
            if (sy == 1) MemoryMarshal.CreateSpan(ref y, n).Fill(v);
            else for (int i = 0; i < n; i++) Unsafe.Add(ref y, (nint)i * sy) = v;
        }
        else
        {
            for (int i = 0; i < n; i++) Unsafe.Add(ref y, (nint)i * sy) = Unsafe.Add(ref x, (nint)i * sx);
        }
    }

    /// <summary>
    /// y[a·sy + c] = x[a + c·sx] for a &lt; <paramref name="na"/>, c &lt; <paramref name="nc"/> (x contiguous
    /// along a, y along c), in square tiles; 4-byte elements move as 4×4 blocks of vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose<T>(ref T x, ref T y, int na, int sy, int nc, int sx) where T : unmanaged
    {
        bool blocks = Unsafe.SizeOf<T>() == 4 && (Sse.IsSupported || AdvSimd.Arm64.IsSupported);
        for (int a0 = 0; a0 < na; a0 += Tile)
        {
            int a1 = Math.Min(a0 + Tile, na);
            for (int c0 = 0; c0 < nc; c0 += Tile)
            {
                int c1 = Math.Min(c0 + Tile, nc);
                int a = a0;
                if (blocks)
                {
                    for (; a <= a1 - 4; a += 4)
                    {
                        int c = c0;
                        for (; c <= c1 - 4; c += 4)
                            Block4(ref Unsafe.As<T, float>(ref Unsafe.Add(ref x, a + (nint)c * sx)), sx, ref Unsafe.As<T, float>(ref Unsafe.Add(ref y, (nint)a * sy + c)), sy);
                        for (; c < c1; c++)
                            for (int k = a; k < a + 4; k++) Unsafe.Add(ref y, (nint)k * sy + c) = Unsafe.Add(ref x, k + (nint)c * sx);
                    }
                }
                for (; a < a1; a++)
                {
                    ref T ys = ref Unsafe.Add(ref y, (nint)a * sy);
                    ref T xs = ref Unsafe.Add(ref x, a);
                    for (int c = c0; c < c1; c++) Unsafe.Add(ref ys, c) = Unsafe.Add(ref xs, (nint)c * sx);
                }
            }
        }
    }

    /// <summary>Transposes a 4×4 block of 4-byte elements (bits moved, never interpreted): rows of x at stride <paramref name="sx"/> become rows of y at stride <paramref name="sy"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4(ref float x, int sx, ref float y, int sy)
    {
        var r0 = Vector128.LoadUnsafe(ref x);
        var r1 = Vector128.LoadUnsafe(ref x, (nuint)sx);
        var r2 = Vector128.LoadUnsafe(ref x, (nuint)(2 * sx));
        var r3 = Vector128.LoadUnsafe(ref x, (nuint)(3 * sx));
        Vector128<float> c0, c1, c2, c3;
        if (Sse.IsSupported)
        {
            var t0 = Sse.UnpackLow(r0, r1);
            var t1 = Sse.UnpackLow(r2, r3);
            var t2 = Sse.UnpackHigh(r0, r1);
            var t3 = Sse.UnpackHigh(r2, r3);
            c0 = Sse.MoveLowToHigh(t0, t1);
            c1 = Sse.MoveHighToLow(t1, t0);
            c2 = Sse.MoveLowToHigh(t2, t3);
            c3 = Sse.MoveHighToLow(t3, t2);
        }
        else
        {
            var t0 = AdvSimd.Arm64.ZipLow(r0, r1).AsDouble();
            var t1 = AdvSimd.Arm64.ZipLow(r2, r3).AsDouble();
            var t2 = AdvSimd.Arm64.ZipHigh(r0, r1).AsDouble();
            var t3 = AdvSimd.Arm64.ZipHigh(r2, r3).AsDouble();
            c0 = AdvSimd.Arm64.ZipLow(t0, t1).AsSingle();
            c1 = AdvSimd.Arm64.ZipHigh(t0, t1).AsSingle();
            c2 = AdvSimd.Arm64.ZipLow(t2, t3).AsSingle();
            c3 = AdvSimd.Arm64.ZipHigh(t2, t3).AsSingle();
        }
        c0.StoreUnsafe(ref y);
        c1.StoreUnsafe(ref y, (nuint)sy);
        c2.StoreUnsafe(ref y, (nuint)(2 * sy));
        c3.StoreUnsafe(ref y, (nuint)(3 * sy));
    }

    /// <summary>
    /// Edge or reflect padding (negative pads crop): y[o…] = x[map(o)…] with, per axis, the source index
    /// o − begin clamped to the axis (edge) or mirrored about its first and last elements (reflect).
    /// Geometry: <c>[reflect, (outDim, inDim, begin) per axis…]</c>; x and y are row-major.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PadMapped<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<int> geometry) where T : unmanaged
    {
        int rank = (geometry.Length - 1) / 3;
        if (geometry.Length != 1 + 3 * rank || rank > MaxRank || rank == 0) Guard.Fail("Layout.PadMapped geometry", geometry.Length, 1 + 3 * rank);
        bool reflect = geometry[0] != 0;
        long inCount = 1, outCount = 1;
        for (int k = 0; k < rank; k++)
        {
            outCount *= geometry[1 + 3 * k];
            inCount *= geometry[2 + 3 * k];
        }
        Guard.Length(y.Length, outCount, "Layout.PadMapped Y");
        if (outCount == 0) return;
        Guard.Length(x.Length, inCount, "Layout.PadMapped X");
        if (inCount == 0) Guard.Fail("Layout.PadMapped X (an axis to pad is empty)", x.Length, 1);
        Span<int> strides = stackalloc int[MaxRank];
        int stride = 1;
        for (int k = rank - 1; k >= 0; k--)
        {
            strides[k] = stride;
            stride *= geometry[2 + 3 * k];
        }
        ref T x0 = ref MemoryMarshal.GetReference(x);
        ref T y0 = ref MemoryMarshal.GetReference(y);
        int b = 1 + 3 * (rank - 1);
        int on = geometry[b], inn = geometry[b + 1], begin = geometry[b + 2];
        int lo = Math.Clamp(begin, 0, on), hi = (int)Math.Clamp((long)begin + inn, lo, on);
        Span<int> index = stackalloc int[MaxRank];
        index.Clear();
        nint yo = 0;
        while (true)
        {
            nint xo = 0;
            for (int k = 0; k < rank - 1; k++)
            {
                int a = 1 + 3 * k;
                xo += (nint)Map(index[k], geometry[a + 2], geometry[a + 1], reflect) * strides[k];
            }
            ref T xs = ref Unsafe.Add(ref x0, xo);
            ref T ys = ref Unsafe.Add(ref y0, yo);
            for (int o = 0; o < lo; o++) Unsafe.Add(ref ys, o) = Unsafe.Add(ref xs, Map(o, begin, inn, reflect));
            if (hi > lo) MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref xs, lo - begin), hi - lo).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref ys, lo), hi - lo));
            for (int o = hi; o < on; o++) Unsafe.Add(ref ys, o) = Unsafe.Add(ref xs, Map(o, begin, inn, reflect));
            yo += on;
            int k2 = rank - 2;
            for (; k2 >= 0; k2--)
            {
                if (++index[k2] < geometry[1 + 3 * k2]) break;
                index[k2] = 0;
            }
            if (k2 < 0) return;
        }
    }

    /// <summary>The source index output index <paramref name="o"/> reads along an axis of <paramref name="n"/> elements padded by <paramref name="begin"/> in front.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Map(int o, int begin, int n, bool reflect)
    {
        long i = (long)o - begin;
        if (!reflect || n == 1) return (int)Math.Clamp(i, 0, n - 1);
        long period = 2L * (n - 1);
        i %= period;
        if (i < 0) i += period;
        return (int)(i >= n ? period - i : i);
    }

    /// <summary>
    /// Gather: y[o, k, :] = data[o, indices[k], :] with negative indices counting from the end of the
    /// axis. An index outside the axis throws <see cref="IndexOutOfRangeException"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather<TShape, T, TIndex>(ReadOnlySpan<T> data, ReadOnlySpan<TIndex> indices, Span<T> y)
        where TShape : struct, IGatherShape where T : unmanaged where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        int inner = TShape.Inner, axis = TShape.Axis, count = TShape.Count;
        Guard.Length(data.Length, (long)TShape.Outer * axis * inner, "Gather data");
        Guard.Length(indices.Length, count, "Gather indices");
        Guard.Length(y.Length, (long)TShape.Outer * count * inner, "Gather Y");
        ref T d0 = ref MemoryMarshal.GetReference(data);
        ref T y0 = ref MemoryMarshal.GetReference(y);
        for (int o = 0; o < TShape.Outer; o++)
        {
            for (int k = 0; k < count; k++)
            {
                long i = long.CreateTruncating(indices[k]);
                if (i < 0) i += axis;
                if ((ulong)i >= (ulong)axis) ThrowIndex(long.CreateTruncating(indices[k]), axis);
                ref T src = ref Unsafe.Add(ref d0, ((nint)o * axis + (nint)i) * inner);
                ref T dst = ref Unsafe.Add(ref y0, ((nint)o * count + k) * inner);
                if (inner == 1) dst = src;
                else Row(ref src, ref dst, inner, 1, 1);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowIndex(long index, int axis) =>
        throw new IndexOutOfRangeException($"CompressBuild runtime: Gather index {index} is outside an axis of {axis} elements.");
}
