using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CompressBuild.Core.Kernels;

/// <summary>
/// C += A ⋅ Bᵀ where A (m×k) and B (n×k) are both stored with k contiguous and k is long while m and n
/// are small: a convolution's weight gradient (filters × filter taps, summed over every output
/// position of a block of samples). Sgemm would pack Bᵀ element by element and run mostly edge tiles
/// here; dot products of rows, two rows of A against four of B at a time, keep eight vector
/// accumulators in registers and read each loaded vector two or four times.
/// </summary>
internal static class RowProducts
{
    // k is processed in slices so the rows being combined stay in the L1/L2 caches.
    private const int KSlice = 512;

    /// <summary>C[i, j] += Σₚ A[i, p] ⋅ B[j, p] for i &lt; m, j &lt; n, p &lt; k.</summary>
    public static void AddABt(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
    {
        if (m <= 0 || n <= 0 || k <= 0) return;
        if (a.Length < (long)(m - 1) * lda + k || b.Length < (long)(n - 1) * ldb + k || c.Length < (long)(m - 1) * ldc + n)
            throw new ArgumentException("a matrix is shorter than its dimensions and strides say");
        ref float ra = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref float rb = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
        for (int p0 = 0; p0 < k; p0 += KSlice)
        {
            int len = Math.Min(KSlice, k - p0);
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 2 <= m; i += 2)
                {
                    int j = 0;
                    for (; j + 4 <= n; j += 4)
                        Dot2x4(ref Unsafe.Add(ref ra, i * lda + p0), lda, ref Unsafe.Add(ref rb, j * ldb + p0), ldb, len, c.Slice(i * ldc + j), ldc);
                    for (; j < n; j++)
                    {
                        var bj = b.Slice(j * ldb + p0, len);
                        c[i * ldc + j] += TensorPrimitives.Dot(a.Slice(i * lda + p0, len), bj);
                        c[(i + 1) * ldc + j] += TensorPrimitives.Dot(a.Slice((i + 1) * lda + p0, len), bj);
                    }
                }
            }
            for (; i < m; i++)
                for (int j = 0; j < n; j++)
                    c[i * ldc + j] += TensorPrimitives.Dot(a.Slice(i * lda + p0, len), b.Slice(j * ldb + p0, len));
        }
    }

    // Eight dot products of length len: rows a0, a1 against rows b0..b3.
    private static void Dot2x4(ref float a, int lda, ref float b, int ldb, int len, Span<float> c, int ldc)
    {
        ref float a1 = ref Unsafe.Add(ref a, lda);
        ref float b1 = ref Unsafe.Add(ref b, ldb);
        ref float b2 = ref Unsafe.Add(ref b, 2 * ldb);
        ref float b3 = ref Unsafe.Add(ref b, 3 * ldb);
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        int p = 0;
        for (; p + 8 <= len; p += 8)
        {
            nuint at = (nuint)p;
            var x0 = Vector256.LoadUnsafe(ref a, at);
            var x1 = Vector256.LoadUnsafe(ref a1, at);
            var y = Vector256.LoadUnsafe(ref b, at);
            c00 = Vector256.MultiplyAddEstimate(x0, y, c00);
            c10 = Vector256.MultiplyAddEstimate(x1, y, c10);
            y = Vector256.LoadUnsafe(ref b1, at);
            c01 = Vector256.MultiplyAddEstimate(x0, y, c01);
            c11 = Vector256.MultiplyAddEstimate(x1, y, c11);
            y = Vector256.LoadUnsafe(ref b2, at);
            c02 = Vector256.MultiplyAddEstimate(x0, y, c02);
            c12 = Vector256.MultiplyAddEstimate(x1, y, c12);
            y = Vector256.LoadUnsafe(ref b3, at);
            c03 = Vector256.MultiplyAddEstimate(x0, y, c03);
            c13 = Vector256.MultiplyAddEstimate(x1, y, c13);
        }
        float s00 = Vector256.Sum(c00), s01 = Vector256.Sum(c01), s02 = Vector256.Sum(c02), s03 = Vector256.Sum(c03);
        float s10 = Vector256.Sum(c10), s11 = Vector256.Sum(c11), s12 = Vector256.Sum(c12), s13 = Vector256.Sum(c13);
        for (; p < len; p++)
        {
            float x0 = Unsafe.Add(ref a, p), x1 = Unsafe.Add(ref a1, p);
            float y0 = Unsafe.Add(ref b, p), y1 = Unsafe.Add(ref b1, p), y2 = Unsafe.Add(ref b2, p), y3 = Unsafe.Add(ref b3, p);
            s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
            s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        }
        c[0] += s00; c[1] += s01; c[2] += s02; c[3] += s03;
        c[ldc] += s10; c[ldc + 1] += s11; c[ldc + 2] += s12; c[ldc + 3] += s13;
    }
}
