using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CompressBuild.Core.Kernels;

/// <summary>
/// Exact integer matrix product for the quantized operators: <c>C = A · B</c> with A [M, K] and
/// B [K, N] holding zero-point-shifted 8-bit values as int16 (|v| ≤ 255) and C int32. Two such
/// products and their sum fit int32 exactly, so AVX2's vpmaddwd (multiply int16 pairs, add
/// adjacent) is exact; longer sums wrap in int32 as the ONNX spec allows. B is packed once per
/// call into panels of 16 columns whose rows come in interleaved pairs (the vpmaddwd layout); a
/// 4×16 register tile then walks K two steps at a time.
/// </summary>
internal static unsafe class IntegerGemm
{
    private const int NR = 16;
    private const int MR = 4;

    /// <summary>Elements (int16) of B [K, N] packed by <see cref="PackB"/>.</summary>
    public static int PackedLength(int k, int n) => (k + 1) / 2 * 2 * RoundUp(n, NR);

    /// <summary>
    /// Packs B [K, N] (rows <paramref name="ldb"/> apart from <paramref name="offset"/>) for
    /// <see cref="Multiply"/>: per panel of 16 columns, per row pair (2q, 2q+1), the 16 pairs
    /// (B[2q, j], B[2q+1, j]) side by side, zero padded past K and N.
    /// </summary>
    public static void PackB(short[] b, int offset, int ldb, int k, int n, short[] packed, int packedOffset)
    {
        int pairs = (k + 1) / 2;
        fixed (short* pb = b)
        fixed (short* pp = packed)
        {
            short* dst = pp + packedOffset;
            for (int j0 = 0; j0 < n; j0 += NR)
            {
                int nr = Math.Min(NR, n - j0);
                for (int q = 0; q < pairs; q++, dst += 2 * NR)
                {
                    short* r0 = pb + offset + (long)2 * q * ldb + j0;
                    short* r1 = 2 * q + 1 < k ? r0 + ldb : null;
                    if (nr == NR && r1 is not null && Avx2.IsSupported)
                    {
                        // unpack interleaves within 128-bit lanes: lo = columns 0-3 | 8-11, hi = 4-7 | 12-15.
                        var v0 = Vector256.Load(r0);
                        var v1 = Vector256.Load(r1);
                        var lo = Avx2.UnpackLow(v0, v1);
                        var hi = Avx2.UnpackHigh(v0, v1);
                        Vector256.Store(Avx2.Permute2x128(lo, hi, 0x20), dst);
                        Vector256.Store(Avx2.Permute2x128(lo, hi, 0x31), dst + NR);
                        continue;
                    }
                    int j = 0;
                    for (; j < nr; j++)
                    {
                        dst[2 * j] = r0[j];
                        dst[2 * j + 1] = r1 is null ? (short)0 : r1[j];
                    }
                    for (; j < NR; j++) dst[2 * j] = dst[2 * j + 1] = 0;
                }
            }
        }
    }

    /// <summary>
    /// C [M, N] = A [M, K] · B (packed by <see cref="PackB"/>); C's old contents are overwritten.
    /// A's rows are <paramref name="lda"/> apart and read in pairs: when K is odd each row needs a
    /// readable element K (any value: it meets B's zero padding). Column panels are split over up
    /// to <paramref name="maxDegree"/> threads.
    /// </summary>
    public static void Multiply(int m, int n, int k, short[] a, int aOffset, int lda, short[] packedB, int packedOffset,
        int[] c, int cOffset, int ldc, int maxDegree)
    {
        if (m <= 0 || n <= 0) return;
        int panels = (n + NR - 1) / NR;
        Parallelism.For(panels, maxDegree, (long)m * k * NR, (p0, p1) =>
        {
            fixed (short* pa = a)
            fixed (short* pb = packedB)
            fixed (int* pc = c)
            {
                for (int p = p0; p < p1; p++)
                {
                    int j0 = p * NR, nr = Math.Min(NR, n - j0);
                    short* bp = pb + packedOffset + (long)p * ((k + 1) / 2) * 2 * NR;
                    int i = 0;
                    for (; i + MR <= m; i += MR)
                        Tile(k, pa + aOffset + (long)i * lda, lda, bp, pc + cOffset + (long)i * ldc + j0, ldc, MR, nr);
                    for (; i < m; i++)
                        Tile(k, pa + aOffset + (long)i * lda, lda, bp, pc + cOffset + (long)i * ldc + j0, ldc, 1, nr);
                }
            }
        });
    }

    // One 4×16 (or 1×16) tile of C; edge columns go through a stack tile.
    private static void Tile(int k, short* a, int lda, short* b, int* c, int ldc, int rows, int nr)
    {
        int* tile = stackalloc int[MR * NR];
        bool direct = nr == NR;
        int* dst = direct ? c : tile;
        int ld = direct ? ldc : NR;
        if (Avx2.IsSupported)
        {
            if (rows == MR) Kernel4x16(k, a, lda, b, dst, ld);
            else Kernel1x16(k, a, b, dst);
        }
        else
        {
            Portable(k, a, lda, b, dst, ld, rows);
        }
        if (!direct)
            for (int r = 0; r < rows; r++)
                new ReadOnlySpan<int>(tile + r * NR, nr).CopyTo(new Span<int>(c + (long)r * ldc, nr));
    }

    // A's (a[2q], a[2q+1]) as one int32, broadcast to every lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Pair(short* a, int q) => Vector256.Create(Unsafe.ReadUnaligned<int>(a + 2 * q)).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x16(int k, short* a, int lda, short* b, int* c, int ldc)
    {
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<int> c20 = default, c21 = default, c30 = default, c31 = default;
        short* a0 = a, a1 = a + lda, a2 = a + 2L * lda, a3 = a + 3L * lda;
        int pairs = (k + 1) / 2;
        for (int q = 0; q < pairs; q++, b += 2 * NR)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + NR);
            var x = Pair(a0, q);
            c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(x, b0));
            c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(x, b1));
            x = Pair(a1, q);
            c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(x, b0));
            c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(x, b1));
            x = Pair(a2, q);
            c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(x, b0));
            c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(x, b1));
            x = Pair(a3, q);
            c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(x, b0));
            c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(x, b1));
        }
        Vector256.Store(c00, c); Vector256.Store(c01, c + 8);
        Vector256.Store(c10, c + ldc); Vector256.Store(c11, c + ldc + 8);
        Vector256.Store(c20, c + 2L * ldc); Vector256.Store(c21, c + 2L * ldc + 8);
        Vector256.Store(c30, c + 3L * ldc); Vector256.Store(c31, c + 3L * ldc + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel1x16(int k, short* a, short* b, int* c)
    {
        Vector256<int> c0 = default, c1 = default;
        int pairs = (k + 1) / 2;
        for (int q = 0; q < pairs; q++, b += 2 * NR)
        {
            var x = Pair(a, q);
            c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(x, Vector256.Load(b)));
            c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(x, Vector256.Load(b + NR)));
        }
        Vector256.Store(c0, c);
        Vector256.Store(c1, c + 8);
    }

    private static void Portable(int k, short* a, int lda, short* b, int* c, int ldc, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            short* ar = a + (long)r * lda;
            int* cr = c + (long)r * ldc;
            for (int j = 0; j < NR; j++) cr[j] = 0;
            short* bp = b;
            for (int q = 0; 2 * q < k; q++, bp += 2 * NR)
            {
                int x0 = ar[2 * q], x1 = ar[2 * q + 1];
                for (int j = 0; j < NR; j++) cr[j] = unchecked(cr[j] + x0 * bp[2 * j] + x1 * bp[2 * j + 1]);
            }
        }
    }

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;
}
