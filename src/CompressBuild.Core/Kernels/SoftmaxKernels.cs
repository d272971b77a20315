using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace CompressBuild.Core.Kernels;

/// <summary>
/// Softmax and log-softmax over the middle axis of an [outer, n, inner] view, and their gradients.
/// The maximum is subtracted first so large inputs do not overflow. Rows (inner = 1) are whole
/// vector operations; with inner &gt; 1 the n slices of length inner are combined element-wise.
/// </summary>
internal static class SoftmaxKernels
{
    /// <summary>y = softmax(x) (or log-softmax) along n, for each of the outer × inner positions.</summary>
    public static void Forward<T>(T[] x, T[] y, int outer, int n, int inner, bool log, int maxDegree)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length == 0) return;
        Parallelism.For(outer, maxDegree, (long)n * inner * 8, (start, end) =>
        {
            T[] buf = ArrayPool<T>.Shared.Rent(inner == 1 ? n : 3 * inner);
            try
            {
                for (int o = start; o < end; o++)
                {
                    var xs = x.AsSpan(o * n * inner, n * inner);
                    var ys = y.AsSpan(o * n * inner, n * inner);
                    if (inner == 1) Row(xs, ys, buf.AsSpan(0, n), log);
                    else Strided(xs, ys, n, inner, buf.AsSpan(0, 3 * inner), log);
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(buf);
            }
        });
    }

    /// <summary>
    /// dx from dy and the forward output y: softmax dx = y ⊙ (dy − Σ dy⊙y); log-softmax
    /// dx = dy − exp(y) ⊙ Σ dy (sums along n).
    /// </summary>
    public static void Backward<T>(T[] y, T[] dy, T[] dx, int outer, int n, int inner, bool log, int maxDegree)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Length == 0) return;
        Parallelism.For(outer, maxDegree, (long)n * inner * 4, (start, end) =>
        {
            T[] buf = ArrayPool<T>.Shared.Rent(inner);
            try
            {
                var s = buf.AsSpan(0, inner);
                for (int o = start; o < end; o++)
                {
                    int at = o * n * inner;
                    if (inner == 1)
                    {
                        var yr = y.AsSpan(at, n);
                        var dyr = dy.AsSpan(at, n);
                        var dxr = dx.AsSpan(at, n);
                        if (log)
                        {
                            T total = TensorPrimitives.Sum<T>(dyr);
                            TensorPrimitives.Exp<T>(yr, dxr);
                            TensorPrimitives.MultiplyAdd<T>(dxr, -total, dyr, dxr);
                        }
                        else
                        {
                            T dot = TensorPrimitives.Dot<T>(dyr, yr);
                            TensorPrimitives.Subtract<T>(dyr, dot, dxr);
                            TensorPrimitives.Multiply<T>(dxr, yr, dxr);
                        }
                        continue;
                    }
                    s.Clear();
                    for (int j = 0; j < n; j++)
                    {
                        var dyj = dy.AsSpan(at + j * inner, inner);
                        if (log) TensorPrimitives.Add<T>(s, dyj, s);
                        else TensorPrimitives.MultiplyAdd<T>(dyj, y.AsSpan(at + j * inner, inner), s, s);
                    }
                    for (int j = 0; j < n; j++)
                    {
                        var yj = y.AsSpan(at + j * inner, inner);
                        var dyj = dy.AsSpan(at + j * inner, inner);
                        var dxj = dx.AsSpan(at + j * inner, inner);
                        if (log)
                        {
                            TensorPrimitives.Exp<T>(yj, dxj);
                            TensorPrimitives.Multiply<T>(dxj, s, dxj);
                            TensorPrimitives.Subtract<T>(dyj, dxj, dxj);
                        }
                        else
                        {
                            TensorPrimitives.Subtract<T>(dyj, s, dxj);
                            TensorPrimitives.Multiply<T>(dxj, yj, dxj);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(buf);
            }
        });
    }

    private static void Row<T>(ReadOnlySpan<T> x, Span<T> y, Span<T> tmp, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max<T>(x);
        TensorPrimitives.Subtract<T>(x, max, y);
        if (log)
        {
            TensorPrimitives.Exp<T>(y, tmp);
            TensorPrimitives.Subtract<T>(y, T.Log(TensorPrimitives.Sum<T>(tmp)), y);
        }
        else
        {
            TensorPrimitives.Exp<T>(y, y);
            TensorPrimitives.Divide<T>(y, TensorPrimitives.Sum<T>(y), y);
        }
    }

    private static void Strided<T>(ReadOnlySpan<T> x, Span<T> y, int n, int inner, Span<T> buf, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var max = buf[..inner];
        var sum = buf.Slice(inner, inner);
        var tmp = buf.Slice(2 * inner, inner);
        x[..inner].CopyTo(max);
        for (int j = 1; j < n; j++) TensorPrimitives.Max<T>(max, x.Slice(j * inner, inner), max);
        sum.Clear();
        for (int j = 0; j < n; j++)
        {
            var yj = y.Slice(j * inner, inner);
            TensorPrimitives.Subtract<T>(x.Slice(j * inner, inner), max, yj);
            if (log)
            {
                TensorPrimitives.Exp<T>(yj, tmp);
                TensorPrimitives.Add<T>(sum, tmp, sum);
            }
            else
            {
                TensorPrimitives.Exp<T>(yj, yj);
                TensorPrimitives.Add<T>(sum, yj, sum);
            }
        }
        if (log) TensorPrimitives.Log<T>(sum, sum);
        for (int j = 0; j < n; j++)
        {
            var yj = y.Slice(j * inner, inner);
            if (log) TensorPrimitives.Subtract<T>(yj, sum, yj);
            else TensorPrimitives.Divide<T>(yj, sum, yj);
        }
    }
}
