using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CompressBuild.Core.Kernels;

/// <summary>
/// Axis permutation of a dense tensor of any element type. Unit dims are dropped and axes that stay
/// neighbours are merged, so NCHW↔NHWC becomes a batched 2-D transpose and [0,2,1,3] a copy of
/// contiguous rows. When the innermost axis moves, the copy runs in cache-sized tiles that read
/// rows of the input and write rows of the output; 4-byte elements use 8×8 AVX register transposes.
/// </summary>
internal static class TransposeKernels
{
    // A band of 16 rows fills whole 64-byte output lines for 4-byte elements; 8×8 blocks match AVX.
    private const int TileRows = 16;
    private const int Block = 8;

    /// <summary><c>dst = transpose(src, perm)</c> where <paramref name="shape"/> is the input shape.</summary>
    public static void Transpose(Array src, ReadOnlySpan<int> shape, ReadOnlySpan<int> perm, Array dst, int maxDegree)
    {
        if (dst.Length == 0) return;
        var (s, p) = Simplify(shape, perm);
        int n = s.Length;
        var inStrides = ShapeMath.Strides(s);
        var outShape = new int[n];
        for (int k = 0; k < n; k++) outShape[k] = s[p[k]];
        var outStrides = ShapeMath.Strides(outShape);
        var srcStrides = new int[n];
        for (int k = 0; k < n; k++) srcStrides[k] = inStrides[p[k]];
        if (n <= 1 || p[n - 1] == n - 1)
        {
            // The innermost axis stays innermost: whole rows move.
            SliceKernels.Copy(src, 0, srcStrides, dst, 0, outStrides, outShape, maxDegree);
            return;
        }

        // A 2-D tile between the input's inner axis a (columns) and the output's inner axis b (rows),
        // repeated over every combination of the other axes.
        int a = n - 1, b = p[n - 1];
        var pos = new int[n];
        for (int k = 0; k < n; k++) pos[p[k]] = k;
        var job = new TileJob
        {
            Src = src,
            Dst = dst,
            Rows = s[b],
            Cols = s[a],
            Lds = inStrides[b],
            Ldd = outStrides[pos[a]],
            MaxDegree = maxDegree,
        };
        var ext = new List<int>();
        var ss = new List<int>();
        var ds = new List<int>();
        for (int j = 0; j < n; j++)
        {
            if (j == a || j == b) continue;
            ext.Add(s[j]);
            ss.Add(inStrides[j]);
            ds.Add(outStrides[pos[j]]);
        }
        job.OuterExtents = ext.ToArray();
        job.OuterSrc = ss.ToArray();
        job.OuterDst = ds.ToArray();
        LayoutElements.Dispatch(src, job);
    }

    /// <summary>Drops unit dims and merges input axes that remain adjacent and in order in the output.</summary>
    private static (int[] Shape, int[] Perm) Simplify(ReadOnlySpan<int> shape, ReadOnlySpan<int> perm)
    {
        // Kept (non-unit) input axes, numbered in input order, listed in output order.
        var compact = new int[shape.Length];
        int count = 0;
        for (int j = 0; j < shape.Length; j++) compact[j] = shape[j] == 1 ? -1 : count++;
        var kept = new List<int>();
        foreach (int j in perm)
            if (compact[j] >= 0) kept.Add(j);
        // Runs of axes that are neighbours in both input and output become one axis.
        var groups = new List<(int First, int Size)>();
        for (int k = 0; k < kept.Count; k++)
        {
            if (k > 0 && compact[kept[k - 1]] + 1 == compact[kept[k]])
                groups[^1] = (groups[^1].First, groups[^1].Size * shape[kept[k]]);
            else
                groups.Add((kept[k], shape[kept[k]]));
        }
        // Number the groups by input order.
        var order = Enumerable.Range(0, groups.Count).OrderBy(g => groups[g].First).ToArray();
        var newShape = new int[groups.Count];
        var rank = new int[groups.Count];
        for (int r = 0; r < order.Length; r++)
        {
            newShape[r] = groups[order[r]].Size;
            rank[order[r]] = r;
        }
        return (newShape, rank);
    }

    private struct TileJob : IElementJob
    {
        public Array Src, Dst;
        public int Rows, Cols, Lds, Ldd, MaxDegree;
        public int[] OuterExtents, OuterSrc, OuterDst;

        public readonly void Run<T>()
        {
            var job = this;
            int bands = (Rows + TileRows - 1) / TileRows;
            int outer = 1;
            foreach (int e in OuterExtents) outer *= e;
            Parallelism.For(outer * bands, MaxDegree, (long)TileRows * Cols, (i0, i1) =>
            {
                var src = LayoutElements.Of<T>(job.Src);
                var dst = LayoutElements.Of<T>(job.Dst);
                for (int item = i0; item < i1; item++)
                {
                    int o = item / bands, band = item % bands;
                    int so = 0, dO = 0;
                    for (int k = job.OuterExtents.Length - 1; k >= 0; k--)
                    {
                        int idx = o % job.OuterExtents[k];
                        o /= job.OuterExtents[k];
                        so += idx * job.OuterSrc[k];
                        dO += idx * job.OuterDst[k];
                    }
                    int r0 = band * TileRows, r1 = Math.Min(job.Rows, r0 + TileRows);
                    Tile(ref src[so], job.Lds, ref dst[dO], job.Ldd, r0, r1, job.Cols);
                }
            });
        }
    }

    /// <summary>dst[c·ldd + r] = src[r·lds + c] for rows [r0, r1) and all columns, a block at a time.</summary>
    private static void Tile<T>(ref T src, int lds, ref T dst, int ldd, int r0, int r1, int cols)
    {
        // Bounds were established by the caller's shape arithmetic; raw refs keep the loop tight.
        bool avx = Avx.IsSupported && Unsafe.SizeOf<T>() == 4 && !RuntimeHelpers.IsReferenceOrContainsReferences<T>();
        for (int c0 = 0; c0 < cols; c0 += Block)
        {
            int c1 = Math.Min(cols, c0 + Block);
            for (int b0 = r0; b0 < r1; b0 += Block)
            {
                int b1 = Math.Min(r1, b0 + Block);
                if (avx && c1 - c0 == Block && b1 - b0 == Block)
                {
                    Transpose8x8(ref Unsafe.As<T, float>(ref Unsafe.Add(ref src, (nint)b0 * lds + c0)), lds,
                        ref Unsafe.As<T, float>(ref Unsafe.Add(ref dst, (nint)c0 * ldd + b0)), ldd);
                    continue;
                }
                for (int r = b0; r < b1; r++)
                {
                    ref T row = ref Unsafe.Add(ref src, (nint)r * lds);
                    for (int c = c0; c < c1; c++)
                        Unsafe.Add(ref dst, (nint)c * ldd + r) = Unsafe.Add(ref row, c);
                }
            }
        }
    }

    /// <summary>Transposes one 8×8 block of 4-byte elements in registers (bits are moved, not interpreted).</summary>
    private static void Transpose8x8(ref float src, int lds, ref float dst, int ldd)
    {
        static Vector256<float> Load(ref float p, nint i, int ld) => Vector256.LoadUnsafe(ref p, (nuint)(i * ld));
        var r0 = Load(ref src, 0, lds);
        var r1 = Load(ref src, 1, lds);
        var r2 = Load(ref src, 2, lds);
        var r3 = Load(ref src, 3, lds);
        var r4 = Load(ref src, 4, lds);
        var r5 = Load(ref src, 5, lds);
        var r6 = Load(ref src, 6, lds);
        var r7 = Load(ref src, 7, lds);
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref dst, 0);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref dst, (nuint)ldd);
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref dst, (nuint)(2 * ldd));
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref dst, (nuint)(3 * ldd));
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref dst, (nuint)(4 * ldd));
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref dst, (nuint)(5 * ldd));
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref dst, (nuint)(6 * ldd));
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref dst, (nuint)(7 * ldd));
    }
}
