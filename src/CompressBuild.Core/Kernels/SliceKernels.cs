namespace CompressBuild.Core.Kernels;

/// <summary>
/// Strided box copies between tensors of any element type: the data movement behind Slice, Split,
/// Concat, Pad's interior and the inner-axis-preserving transposes. Dimensions that are contiguous
/// in both tensors are merged, so most copies become a few long <see cref="Span{T}.CopyTo"/> runs.
/// </summary>
internal static class SliceKernels
{
    /// <summary>
    /// For every index i of the box <paramref name="extents"/>:
    /// <c>dst[dstOffset + Σ i_k·dstStrides[k]] = src[srcOffset + Σ i_k·srcStrides[k]]</c>.
    /// Strides are in elements and may be negative (reversed slices).
    /// </summary>
    public static void Copy(Array src, int srcOffset, ReadOnlySpan<int> srcStrides, Array dst, int dstOffset, ReadOnlySpan<int> dstStrides,
        ReadOnlySpan<int> extents, int maxDegree)
    {
        var plan = Plan.Create(srcOffset, srcStrides, dstOffset, dstStrides, extents);
        if (plan is null) return;
        LayoutElements.Dispatch(src, new CopyJob(src, dst, plan, maxDegree));
    }

    /// <summary>Copies a box of a dense tensor of shape <paramref name="srcShape"/> into a dense tensor of
    /// shape <paramref name="dstShape"/> with unit steps (concat, split, pad, crop).</summary>
    public static void CopyRegion(Array src, ReadOnlySpan<int> srcShape, ReadOnlySpan<int> srcStart, Array dst, ReadOnlySpan<int> dstShape,
        ReadOnlySpan<int> dstStart, ReadOnlySpan<int> extents, int maxDegree)
    {
        var ss = ShapeMath.Strides(srcShape);
        var ds = ShapeMath.Strides(dstShape);
        int so = 0, dO = 0;
        for (int k = 0; k < extents.Length; k++)
        {
            so += srcStart[k] * ss[k];
            dO += dstStart[k] * ds[k];
        }
        Copy(src, so, ss, dst, dO, ds, extents, maxDegree);
    }

    /// <summary>A copy with unit-extent dimensions dropped and contiguous neighbours merged.</summary>
    private sealed class Plan
    {
        public int SrcOffset, DstOffset, Rows, Inner, SrcInner, DstInner;
        public int[] Extents = Array.Empty<int>(), SrcStrides = Array.Empty<int>(), DstStrides = Array.Empty<int>(); // outer dims only

        public static Plan? Create(int srcOffset, ReadOnlySpan<int> srcStrides, int dstOffset, ReadOnlySpan<int> dstStrides, ReadOnlySpan<int> extents)
        {
            var e = new List<int>();
            var s = new List<int>();
            var d = new List<int>();
            for (int k = 0; k < extents.Length; k++)
            {
                if (extents[k] == 0) return null;
                if (extents[k] == 1) continue;
                int last = e.Count - 1;
                // The previous (outer) dim steps over exactly this dim's span in both tensors: merge.
                if (last >= 0 && s[last] == srcStrides[k] * extents[k] && d[last] == dstStrides[k] * extents[k])
                {
                    e[last] *= extents[k];
                    s[last] = srcStrides[k];
                    d[last] = dstStrides[k];
                    continue;
                }
                e.Add(extents[k]);
                s.Add(srcStrides[k]);
                d.Add(dstStrides[k]);
            }
            if (e.Count == 0)
            {
                e.Add(1);
                s.Add(1);
                d.Add(1);
            }
            int n = e.Count - 1;
            int rows = 1;
            for (int k = 0; k < n; k++) rows *= e[k];
            return new Plan
            {
                SrcOffset = srcOffset,
                DstOffset = dstOffset,
                Rows = rows,
                Inner = e[n],
                SrcInner = s[n],
                DstInner = d[n],
                Extents = e.GetRange(0, n).ToArray(),
                SrcStrides = s.GetRange(0, n).ToArray(),
                DstStrides = d.GetRange(0, n).ToArray(),
            };
        }
    }

    private readonly struct CopyJob(Array src, Array dst, Plan plan, int maxDegree) : IElementJob
    {
        public void Run<T>()
        {
            Array s = src, d = dst;
            Plan p = plan;
            Parallelism.For(p.Rows, maxDegree, p.Inner, (r0, r1) => CopyRows(LayoutElements.Of<T>(s), LayoutElements.Of<T>(d), p, r0, r1));
        }
    }

    private static void CopyRows<T>(Span<T> src, Span<T> dst, Plan p, int r0, int r1)
    {
        int n = p.Extents.Length;
        Span<int> index = stackalloc int[Math.Max(n, 1)];
        int so = p.SrcOffset, dO = p.DstOffset;
        // Odometer position of row r0.
        int rem = r0;
        for (int k = n - 1; k >= 0; k--)
        {
            index[k] = rem % p.Extents[k];
            rem /= p.Extents[k];
            so += index[k] * p.SrcStrides[k];
            dO += index[k] * p.DstStrides[k];
        }
        int inner = p.Inner, si = p.SrcInner, di = p.DstInner;
        bool contiguous = si == 1 && di == 1;
        for (int r = r0; r < r1; r++)
        {
            if (contiguous) src.Slice(so, inner).CopyTo(dst.Slice(dO, inner));
            else
            {
                for (int i = 0, a = so, b = dO; i < inner; i++, a += si, b += di) dst[b] = src[a];
            }
            for (int k = n - 1; k >= 0; k--)
            {
                so += p.SrcStrides[k];
                dO += p.DstStrides[k];
                if (++index[k] < p.Extents[k]) break;
                so -= p.SrcStrides[k] * index[k];
                dO -= p.DstStrides[k] * index[k];
                index[k] = 0;
            }
        }
    }
}
