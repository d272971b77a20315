using System.Numerics;
using System.Numerics.Tensors;

namespace CompressBuild.Core.Kernels;

/// <summary>How <see cref="ReductionKernels.Reduce{T}"/> combines the elements it reduces.</summary>
internal enum ReduceOp
{
    /// <summary>Sum (0 over an empty set).</summary>
    Sum,
    /// <summary>Maximum (-inf, or the type's minimum, over an empty set).</summary>
    Max,
}

/// <summary>
/// Reductions of a row-major tensor over any set of axes. Adjacent axes of the same kind are merged
/// and every remaining reduced group becomes one pass over an [outer, r, inner] view, so the common
/// cases (last axes, [N,C,H,W] over H,W or over N,H,W) are one or two vectorised passes.
/// </summary>
internal static class ReductionKernels
{
    // Inner runs are split into tiles of this many elements so a reduction over a leading axis
    // (outer = 1) still spreads over cores.
    private const int InnerTile = 4096;

    /// <summary>
    /// Reduces <paramref name="x"/> (of <paramref name="shape"/>) over the axes flagged in
    /// <paramref name="reduced"/> into <paramref name="y"/>, whose length is the product of the kept dims.
    /// </summary>
    public static void Reduce<T>(T[] x, ReadOnlySpan<int> shape, ReadOnlySpan<bool> reduced, T[] y, ReduceOp op, int maxDegree)
        where T : unmanaged, INumber<T>
    {
        if (y.Length == 0) return;
        if (x.Length == 0)
        {
            // Only a reduced axis can be empty here: every output is the reduction of nothing.
            Array.Fill(y, Identity<T>(op));
            return;
        }
        var groups = MergeGroups(shape, reduced);
        int remaining = 0;
        foreach (var g in groups) if (g.Reduced) remaining++;
        if (remaining == 0)
        {
            x.AsSpan().CopyTo(y);
            return;
        }
        // Innermost group first: later passes then see the already reduced (size 1) groups as gone.
        T[] current = x;
        for (int gi = groups.Count - 1; gi >= 0; gi--)
        {
            if (!groups[gi].Reduced) continue;
            int outer = 1, inner = 1;
            for (int k = 0; k < gi; k++) outer *= groups[k].Size;
            for (int k = gi + 1; k < groups.Count; k++) inner *= groups[k].Size;
            int r = groups[gi].Size;
            var dst = --remaining == 0 ? y : new T[outer * inner];
            Pass(current, dst, outer, r, inner, op, maxDegree);
            groups[gi] = (1, false);
            current = dst;
        }
    }

    /// <summary>The value a reduction of an empty set yields.</summary>
    public static T Identity<T>(ReduceOp op) where T : INumber<T> =>
        op == ReduceOp.Sum ? T.Zero : T.CreateSaturating(double.NegativeInfinity);

    /// <summary>
    /// Splits a tensor into [outer, n, inner] around <paramref name="axis"/> (the layout of
    /// softmax, argmax and friends).
    /// </summary>
    public static (int Outer, int N, int Inner) AroundAxis(ReadOnlySpan<int> shape, int axis) =>
        (ShapeMath.Product(shape, 0, axis), shape[axis], ShapeMath.Product(shape, axis + 1, shape.Length));

    // Adjacent dims of the same kind merged; size-1 dims dropped (they change nothing).
    private static List<(int Size, bool Reduced)> MergeGroups(ReadOnlySpan<int> shape, ReadOnlySpan<bool> reduced)
    {
        var groups = new List<(int Size, bool Reduced)>(shape.Length);
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            if (groups.Count > 0 && groups[^1].Reduced == reduced[d])
                groups[^1] = (groups[^1].Size * shape[d], reduced[d]);
            else
                groups.Add((shape[d], reduced[d]));
        }
        return groups;
    }

    // dst[o, i] = op over j of src[o, j, i].
    private static void Pass<T>(T[] src, T[] dst, int outer, int r, int inner, ReduceOp op, int maxDegree)
        where T : unmanaged, INumber<T>
    {
        int tiles = (inner + InnerTile - 1) / InnerTile;
        int tileCost = r * Math.Min(inner, InnerTile);
        Parallelism.For(outer * tiles, maxDegree, tileCost, (start, end) =>
        {
            for (int w = start; w < end; w++)
            {
                int o = w / tiles;
                int i0 = (w % tiles) * InnerTile;
                int len = Math.Min(InnerTile, inner - i0);
                var block = src.AsSpan(o * r * inner);
                if (inner == 1)
                {
                    var row = block[..r];
                    dst[o] = op == ReduceOp.Sum ? TensorPrimitives.Sum<T>(row) : TensorPrimitives.Max<T>(row);
                    continue;
                }
                var acc = dst.AsSpan(o * inner + i0, len);
                block.Slice(i0, len).CopyTo(acc);
                for (int j = 1; j < r; j++)
                {
                    var part = block.Slice(j * inner + i0, len);
                    if (op == ReduceOp.Sum) TensorPrimitives.Add<T>(acc, part, acc);
                    else TensorPrimitives.Max<T>(acc, part, acc);
                }
            }
        });
    }
}
