using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CompressBuild.Core.Kernels;

/// <summary>
/// Single-precision matrix multiply, row-major: <c>C = alpha * op(A) * op(B) + beta * C</c> where
/// op(A) is M×K and op(B) is K×N. Blocked and packed (GotoBLAS layout) with a 6×16 register-tile
/// micro-kernel on AVX2/FMA; a portable blocked loop elsewhere.
/// </summary>
internal static unsafe class Sgemm
{
    private const int MR = 6;
    private const int NR = 16;
    private const int KC = 256;
    private const int MC = 96;   // multiple of MR
    private const int NC = 2048; // multiple of NR

    /// <summary>
    /// Computes <c>C = alpha * op(A) * op(B) + beta * C</c>. With beta = 0, C's old contents are
    /// ignored (NaNs included).
    /// </summary>
    /// <param name="transA">op(A) = Aᵀ (A stored K×M).</param>
    /// <param name="transB">op(B) = Bᵀ (B stored N×K).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="lda">Row stride of A as stored.</param>
    /// <param name="b">B's elements.</param>
    /// <param name="ldb">Row stride of B as stored.</param>
    /// <param name="beta">Scale of C's old contents.</param>
    /// <param name="c">C's elements.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <param name="maxDegree">Threads to split the rows of C over.</param>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int maxDegree = 1)
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0 || alpha == 0f)
        {
            ScaleC(c, m, n, ldc, beta);
            return;
        }
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            float* A = pa, B = pb, C = pc;
            long work = (long)m * n * k;
            int threads = work < 1_000_000 ? 1 : Math.Min(maxDegree, Math.Max(1, m / MR));
            if (threads <= 1)
            {
                Compute(transA, transB, 0, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
                return;
            }
            // Rows of C split into MR-aligned bands, one per thread; each packs its own panels.
            int bands = (m + MR - 1) / MR;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int r0 = (int)((long)bands * t / threads) * MR;
                int r1 = Math.Min(m, (int)((long)bands * (t + 1) / threads) * MR);
                if (r1 > r0) Compute(transA, transB, r0, r1, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
            });
        }
    }

    private static void ScaleC(Span<float> c, int m, int n, int ldc, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    private static void Compute(bool transA, bool transB, int rowStart, int rowEnd, int n, int k, float alpha,
        float* A, int lda, float* B, int ldb, float beta, float* C, int ldc)
    {
        if (!(Fma.IsSupported && Avx.IsSupported))
        {
            Portable(transA, transB, rowStart, rowEnd, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
            return;
        }
        int m = rowEnd - rowStart;
        int kcMax = Math.Min(KC, k);
        float[] bufB = ArrayPool<float>.Shared.Rent(kcMax * Math.Min(NC, RoundUp(n, NR)) + 16);
        float[] bufA = ArrayPool<float>.Shared.Rent(kcMax * Math.Min(MC, RoundUp(m, MR)) + 16);
        try
        {
            fixed (float* packB = bufB)
            fixed (float* packA = bufA)
            {
                for (int jc = 0; jc < n; jc += NC)
                {
                    int nc = Math.Min(NC, n - jc);
                    for (int pc = 0; pc < k; pc += KC)
                    {
                        int kc = Math.Min(KC, k - pc);
                        float betaBlock = pc == 0 ? beta : 1f;
                        PackB(transB, B, ldb, pc, kc, jc, nc, packB);
                        for (int ic = rowStart; ic < rowEnd; ic += MC)
                        {
                            int mc = Math.Min(MC, rowEnd - ic);
                            PackA(transA, A, lda, ic, mc, pc, kc, packA);
                            for (int jr = 0; jr < nc; jr += NR)
                            {
                                int nr = Math.Min(NR, nc - jr);
                                float* bp = packB + (long)jr * kc;
                                for (int ir = 0; ir < mc; ir += MR)
                                {
                                    int mr = Math.Min(MR, mc - ir);
                                    float* ap = packA + (long)ir * kc;
                                    float* cp = C + (long)(ic + ir) * ldc + jc + jr;
                                    if (mr == MR && nr == NR) Kernel6x16(kc, ap, bp, cp, ldc, alpha, betaBlock);
                                    else KernelEdge(kc, ap, bp, cp, ldc, alpha, betaBlock, mr, nr);
                                }
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bufA);
            ArrayPool<float>.Shared.Return(bufB);
        }
    }

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    // op(B)[p, j] for p in [pc, pc+kc), j in [jc, jc+nc) → panels of NR columns, [kc][NR] each, zero padded.
    private static void PackB(bool transB, float* B, int ldb, int pc, int kc, int jc, int nc, float* dst)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* d = dst + (long)jr * kc;
            if (!transB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = B + (long)(pc + p) * ldb + jc + jr;
                    if (nr == NR)
                    {
                        Vector256.Store(Vector256.Load(src), d);
                        Vector256.Store(Vector256.Load(src + 8), d + 8);
                    }
                    else
                    {
                        int j = 0;
                        for (; j < nr; j++) d[j] = src[j];
                        for (; j < NR; j++) d[j] = 0f;
                    }
                    d += NR;
                }
            }
            else
            {
                // B stored N×K: op(B)[p, j] = B[j, p].
                for (int p = 0; p < kc; p++)
                {
                    int j = 0;
                    for (; j < nr; j++) d[j] = B[(long)(jc + jr + j) * ldb + pc + p];
                    for (; j < NR; j++) d[j] = 0f;
                    d += NR;
                }
            }
        }
    }

    // op(A)[i, p] for i in [ic, ic+mc), p in [pc, pc+kc) → panels of MR rows, [kc][MR] each, zero padded.
    private static void PackA(bool transA, float* A, int lda, int ic, int mc, int pc, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* d = dst + (long)ir * kc;
            if (!transA)
            {
                for (int r = 0; r < mr; r++)
                {
                    float* src = A + (long)(ic + ir + r) * lda + pc;
                    for (int p = 0; p < kc; p++) d[p * MR + r] = src[p];
                }
                for (int r = mr; r < MR; r++)
                    for (int p = 0; p < kc; p++) d[p * MR + r] = 0f;
            }
            else
            {
                // A stored K×M: op(A)[i, p] = A[p, i].
                for (int p = 0; p < kc; p++)
                {
                    float* src = A + (long)(pc + p) * lda + ic + ir;
                    int r = 0;
                    for (; r < mr; r++) d[p * MR + r] = src[r];
                    for (; r < MR; r++) d[p * MR + r] = 0f;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(a0, b0, c00); c01 = Fma.MultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(a1, b0, c10); c11 = Fma.MultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(a2, b0, c20); c21 = Fma.MultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(a3, b0, c30); c31 = Fma.MultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(a4, b0, c40); c41 = Fma.MultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(a5, b0, c50); c51 = Fma.MultiplyAdd(a5, b1, c51);
            a += MR;
            b += NR;
        }
        Store(c, c00, c01, alpha, beta);
        Store(c + ldc, c10, c11, alpha, beta);
        Store(c + 2L * ldc, c20, c21, alpha, beta);
        Store(c + 3L * ldc, c30, c31, alpha, beta);
        Store(c + 4L * ldc, c40, c41, alpha, beta);
        Store(c + 5L * ldc, c50, c51, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> v0, Vector256<float> v1, float alpha, float beta)
    {
        var al = Vector256.Create(alpha);
        v0 *= al;
        v1 *= al;
        if (beta != 0f)
        {
            var be = Vector256.Create(beta);
            v0 = Fma.MultiplyAdd(Vector256.Load(c), be, v0);
            v1 = Fma.MultiplyAdd(Vector256.Load(c + 8), be, v1);
        }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }

    private static void KernelEdge(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta, int mr, int nr)
    {
        float* tile = stackalloc float[MR * NR];
        for (int i = 0; i < MR * NR; i++) tile[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            for (int r = 0; r < mr; r++)
            {
                var ar = Vector256.Create(a[r]);
                Vector256.Store(Fma.MultiplyAdd(ar, b0, Vector256.Load(tile + r * NR)), tile + r * NR);
                Vector256.Store(Fma.MultiplyAdd(ar, b1, Vector256.Load(tile + r * NR + 8)), tile + r * NR + 8);
            }
            a += MR;
            b += NR;
        }
        for (int r = 0; r < mr; r++)
        {
            float* crow = c + (long)r * ldc;
            for (int j = 0; j < nr; j++)
                crow[j] = beta == 0f ? alpha * tile[r * NR + j] : alpha * tile[r * NR + j] + beta * crow[j];
        }
    }

    private static void Portable(bool transA, bool transB, int rowStart, int rowEnd, int n, int k, float alpha,
        float* A, int lda, float* B, int ldb, float beta, float* C, int ldc)
    {
        var acc = new float[n];
        for (int i = rowStart; i < rowEnd; i++)
        {
            Array.Clear(acc);
            for (int p = 0; p < k; p++)
            {
                float av = transA ? A[(long)p * lda + i] : A[(long)i * lda + p];
                if (!transB)
                {
                    var brow = new ReadOnlySpan<float>(B + (long)p * ldb, n);
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(brow, av, acc, acc);
                }
                else
                {
                    for (int j = 0; j < n; j++) acc[j] += av * B[(long)j * ldb + p];
                }
            }
            float* crow = C + (long)i * ldc;
            for (int j = 0; j < n; j++)
                crow[j] = beta == 0f ? alpha * acc[j] : alpha * acc[j] + beta * crow[j];
        }
    }
}
