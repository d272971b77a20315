namespace CompressBuild.Core.Kernels;

/// <summary>
/// Numpy-style broadcasting helpers shared by operators: strides that repeat broadcast dimensions,
/// materialising a broadcast, and summing a gradient back to an input's shape.
/// </summary>
internal static class Broadcasting
{
    /// <summary>
    /// Element strides of <paramref name="inShape"/> laid over <paramref name="outShape"/> (right
    /// aligned); broadcast dimensions get stride 0.
    /// </summary>
    public static int[] Strides(ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape)
    {
        int rank = outShape.Length;
        var strides = new int[rank];
        int acc = 1;
        for (int i = inShape.Length - 1; i >= 0; i--)
        {
            int o = rank - inShape.Length + i;
            strides[o] = inShape[i] == 1 && outShape[o] != 1 ? 0 : acc;
            acc *= inShape[i];
        }
        return strides;
    }

    /// <summary>Copies <paramref name="src"/> broadcast from <paramref name="srcShape"/> to <paramref name="dstShape"/>.</summary>
    public static void Expand<T>(ReadOnlySpan<T> src, ReadOnlySpan<int> srcShape, Span<T> dst, ReadOnlySpan<int> dstShape)
    {
        int rank = dstShape.Length;
        if (dst.Length == 0) return;
        if (src.Length == dst.Length)
        {
            src.CopyTo(dst);
            return;
        }
        var strides = Strides(srcShape, dstShape);
        int inner = rank == 0 ? 1 : dstShape[rank - 1];
        int innerStride = rank == 0 ? 0 : strides[rank - 1];
        Span<int> index = stackalloc int[Math.Max(rank, 1)];
        index.Clear();
        int rows = dst.Length / Math.Max(inner, 1);
        int srcOffset = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = dst.Slice(r * inner, inner);
            if (innerStride == 0) row.Fill(src[srcOffset]);
            else src.Slice(srcOffset, inner).CopyTo(row);
            // Advance the multi-index over all but the last dimension.
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                srcOffset += strides[d];
                if (index[d] < dstShape[d]) break;
                srcOffset -= strides[d] * index[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>
    /// Sums <paramref name="grad"/> over the dimensions that
    /// were broadcast from <paramref name="targetShape"/>: the gradient of a broadcast input.
    /// </summary>
    public static Tensor SumToShape(Tensor grad, int[] targetShape)
    {
        if (ShapeMath.SameShape(grad.Shape, targetShape)) return grad;
        var result = Tensor.Zeros(DataType.Float, targetShape);
        var dst = result.Floats;
        var src = grad.Floats;
        var gradShape = grad.Shape;
        int rank = gradShape.Length;
        var strides = Strides(targetShape, gradShape);
        int inner = rank == 0 ? 1 : gradShape[rank - 1];
        int innerStride = rank == 0 ? 0 : strides[rank - 1];
        Span<int> index = stackalloc int[Math.Max(rank, 1)];
        index.Clear();
        int rows = src.Length / Math.Max(inner, 1);
        int dstOffset = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = src.AsSpan(r * inner, inner);
            if (innerStride == 0) dst[dstOffset] += System.Numerics.Tensors.TensorPrimitives.Sum(row);
            else System.Numerics.Tensors.TensorPrimitives.Add(dst.AsSpan(dstOffset, inner), row, dst.AsSpan(dstOffset, inner));
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                dstOffset += strides[d];
                if (index[d] < gradShape[d]) break;
                dstOffset -= strides[d] * index[d];
                index[d] = 0;
            }
        }
        return result;
    }
}
