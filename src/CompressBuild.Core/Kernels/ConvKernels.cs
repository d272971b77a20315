using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace CompressBuild.Core.Kernels;

/// <summary>
/// A grouped convolution between a "big" tensor [N, G·Cb, In…] and a "small" tensor
/// [N, G·Cs, Out…] with weights [G·Cs, Cb, K…]: Conv maps big → small (<see cref="ConvKernels.Forward"/>),
/// ConvTranspose maps small → big (<see cref="ConvKernels.BackwardData"/>), and both share the
/// weight gradient (<see cref="ConvKernels.WeightGrad"/>).
/// </summary>
internal sealed class ConvProblem
{
    public ConvProblem(WindowGeometry geometry, int batch, int groups, int bigPerGroup, int smallPerGroup)
    {
        Geometry = geometry;
        Batch = batch;
        Groups = groups;
        BigPerGroup = bigPerGroup;
        SmallPerGroup = smallPerGroup;
    }

    /// <summary>Window from the big tensor's spatial axes (In) to the small tensor's (Out).</summary>
    public WindowGeometry Geometry { get; }

    /// <summary>N.</summary>
    public int Batch { get; }

    /// <summary>G.</summary>
    public int Groups { get; }

    /// <summary>Cb: channels of the big tensor per group (the weights' dim 1).</summary>
    public int BigPerGroup { get; }

    /// <summary>Cs: channels of the small tensor per group.</summary>
    public int SmallPerGroup { get; }

    /// <summary>Rows of one group's column matrix: Cb·K.</summary>
    public int ColRows => BigPerGroup * Geometry.KernelSize;

    /// <summary>Elements of one sample of the big tensor.</summary>
    public int BigSample => Groups * BigPerGroup * Geometry.InSize;

    /// <summary>Elements of one sample of the small tensor.</summary>
    public int SmallSample => Groups * SmallPerGroup * Geometry.OutSize;

    /// <summary>Elements of the weights.</summary>
    public int WeightCount => Groups * SmallPerGroup * ColRows;

    /// <summary>1×1 kernel, stride 1, no padding: the big tensor is its own column matrix.</summary>
    public bool Pointwise => Geometry.IsIdentityWindow;

    /// <summary>
    /// Depthwise-like (one big channel per group, at most two small ones): a matrix product with one
    /// or two rows wastes most of the 6-row micro-kernel, so taps are applied directly.
    /// </summary>
    public bool Direct => BigPerGroup == 1 && SmallPerGroup <= 2 && !Pointwise;

    /// <summary>Multiply-adds per sample, to size the parallel split.</summary>
    public long CostPerSample => (long)Groups * SmallPerGroup * ColRows * Geometry.OutSize;

    /// <summary>True when the generic path needs an im2col scratch buffer.</summary>
    public bool NeedsColumns => !Pointwise && !Direct;
}

/// <summary>
/// Float convolution kernels: im2col + <see cref="Sgemm"/>, parallel over the batch. Each chunk of
/// samples works through blocks of a few samples whose column matrices sit side by side, so one
/// matrix product per group covers the block (small images make narrow products otherwise, and the
/// weights are packed once per block instead of once per sample). Scratch buffers come from the
/// array pool, one set per chunk. Pointwise (1×1) convolutions multiply the input in place and
/// depthwise ones apply their taps directly.
/// </summary>
internal static class ConvKernels
{
    // Column matrices up to ~512 KB: big enough to amortise packing, small enough to stay in cache.
    private const int BlockElements = 128 * 1024;

    /// <summary>small = W ⋆ big (+ bias per small channel): Conv forward, ConvTranspose's input gradient.</summary>
    public static void Forward(ConvProblem p, float[] big, float[] w, float[]? bias, float[] small, int threads)
    {
        if (p.Direct)
        {
            DirectForward(p, big, w, bias, small, threads);
            return;
        }
        int cs = p.SmallPerGroup, rows = p.ColRows, size = p.Geometry.OutSize;
        ForEachBlock(p, threads, (n, count, s) =>
        {
            int width = count * size;
            for (int grp = 0; grp < p.Groups; grp++)
            {
                int wOff = grp * cs * rows;
                var (b, bOff) = Columns(p, big, n, count, grp, s.Columns);
                if (count == 1)
                {
                    // One sample: the product lands in the output directly, on top of the bias.
                    int smallOff = SmallOffset(p, n, grp);
                    float beta = 0f;
                    if (bias is not null)
                    {
                        for (int j = 0; j < cs; j++) small.AsSpan(smallOff + j * size, size).Fill(bias[grp * cs + j]);
                        beta = 1f;
                    }
                    Sgemm.Multiply(false, false, cs, size, rows, 1f, w.AsSpan(wOff), rows, b.AsSpan(bOff), size,
                        beta, small.AsSpan(smallOff), size, s.Inner);
                    continue;
                }
                Sgemm.Multiply(false, false, cs, width, rows, 1f, w.AsSpan(wOff), rows, b.AsSpan(bOff), width,
                    0f, s.Rows!, width, s.Inner);
                for (int i = 0; i < count; i++)
                {
                    int smallOff = SmallOffset(p, n + i, grp);
                    for (int j = 0; j < cs; j++)
                    {
                        var src = s.Rows!.AsSpan(j * width + i * size, size);
                        var dst = small.AsSpan(smallOff + j * size, size);
                        if (bias is null) src.CopyTo(dst);
                        else TensorPrimitives.Add(src, bias[grp * cs + j], dst);
                    }
                }
            }
        });
    }

    /// <summary>big = Wᵀ ⋆ small (+ bias per big channel): Conv's input gradient, ConvTranspose forward.</summary>
    public static void BackwardData(ConvProblem p, float[] small, float[] w, float[]? bias, float[] big, int threads)
    {
        if (p.Direct)
        {
            DirectBackwardData(p, small, w, bias, big, threads);
            return;
        }
        var g = p.Geometry;
        int cs = p.SmallPerGroup, rows = p.ColRows, size = g.OutSize;
        ForEachBlock(p, threads, (n, count, s) =>
        {
            int width = count * size;
            for (int i = 0; i < count; i++) FillChannels(big.AsSpan((n + i) * p.BigSample, p.BigSample), bias, g.InSize);
            for (int grp = 0; grp < p.Groups; grp++)
            {
                int wOff = grp * cs * rows;
                var (a, aOff) = SmallRows(p, small, n, count, grp, s.Rows);
                if (p.Pointwise)
                {
                    Sgemm.Multiply(true, false, rows, size, cs, 1f, w.AsSpan(wOff), rows, a.AsSpan(aOff), size,
                        1f, big.AsSpan(BigOffset(p, n, grp)), size, s.Inner);
                    continue;
                }
                Sgemm.Multiply(true, false, rows, width, cs, 1f, w.AsSpan(wOff), rows, a.AsSpan(aOff), width,
                    0f, s.Columns!, width, s.Inner);
                for (int i = 0; i < count; i++)
                    Im2Col.UnpackAdd(s.Columns!, i * size, width, big, BigOffset(p, n + i, grp), p.BigPerGroup, g);
            }
        });
    }

    /// <summary>
    /// dW = Σₙ small ⋅ im2col(big)ᵀ over the batch: Conv's weight gradient (big = X, small = dY) and
    /// ConvTranspose's (big = dY, small = X). Chunks of samples sum into private buffers, which are
    /// added in chunk order so results do not depend on thread timing.
    /// </summary>
    public static float[] WeightGrad(ConvProblem p, float[] big, float[] small, int threads)
    {
        if (p.Direct) return DirectWeightGrad(p, big, small, threads);
        int cs = p.SmallPerGroup, rows = p.ColRows, size = p.Geometry.OutSize;
        var sums = new ChunkSums(p.WeightCount);
        ForEachChunk(p, threads, (n0, n1, s) =>
        {
            var acc = sums.Start(n0);
            for (int n = n0; n < n1; n += s.Block)
            {
                int count = Math.Min(s.Block, n1 - n), width = count * size;
                for (int grp = 0; grp < p.Groups; grp++)
                {
                    var (b, bOff) = Columns(p, big, n, count, grp, s.Columns);
                    var (a, aOff) = SmallRows(p, small, n, count, grp, s.Rows);
                    RowProducts.AddABt(cs, rows, width, a.AsSpan(aOff), width, b.AsSpan(bOff), width, acc.AsSpan(grp * cs * rows), rows);
                }
            }
        });
        return sums.Total();
    }

    // Depthwise-like convolutions go over (sample, group) pairs, so a single image still uses every thread.
    private static void DirectForward(ConvProblem p, float[] big, float[] w, float[]? bias, float[] small, int threads)
    {
        var g = p.Geometry;
        int cs = p.SmallPerGroup, taps = g.KernelSize, size = g.OutSize;
        Parallelism.For(p.Batch * p.Groups, threads, (long)cs * taps * size, (i0, i1) =>
        {
            for (int item = i0; item < i1; item++)
            {
                int n = item / p.Groups, grp = item % p.Groups;
                int bigOff = BigOffset(p, n, grp);
                for (int j = 0; j < cs; j++)
                {
                    int c = grp * cs + j, smallOff = SmallOffset(p, n, grp) + j * size;
                    small.AsSpan(smallOff, size).Fill(bias is null ? 0f : bias[c]);
                    for (int tap = 0; tap < taps; tap++)
                    {
                        var axpy = new GatherAxpy(big, small, w[c * taps + tap]);
                        Im2Col.Walk(g, g.Taps[tap], bigOff, smallOff, ref axpy);
                    }
                }
            }
        });
    }

    private static void DirectBackwardData(ConvProblem p, float[] small, float[] w, float[]? bias, float[] big, int threads)
    {
        var g = p.Geometry;
        int cs = p.SmallPerGroup, taps = g.KernelSize, size = g.OutSize;
        Parallelism.For(p.Batch * p.Groups, threads, (long)cs * taps * size, (i0, i1) =>
        {
            for (int item = i0; item < i1; item++)
            {
                int n = item / p.Groups, grp = item % p.Groups;
                int bigOff = BigOffset(p, n, grp);
                big.AsSpan(bigOff, g.InSize).Fill(bias is null ? 0f : bias[grp]);
                for (int j = 0; j < cs; j++)
                {
                    int c = grp * cs + j, smallOff = SmallOffset(p, n, grp) + j * size;
                    for (int tap = 0; tap < taps; tap++)
                    {
                        var axpy = new ScatterAxpy(small, big, w[c * taps + tap]);
                        Im2Col.Walk(g, g.Taps[tap], bigOff, smallOff, ref axpy);
                    }
                }
            }
        });
    }

    private static float[] DirectWeightGrad(ConvProblem p, float[] big, float[] small, int threads)
    {
        var g = p.Geometry;
        int cs = p.SmallPerGroup, taps = g.KernelSize, size = g.OutSize;
        var sums = new ChunkSums(p.WeightCount);
        Parallelism.For(p.Batch * p.Groups, threads, (long)cs * taps * size, (i0, i1) =>
        {
            var acc = sums.Start(i0);
            for (int item = i0; item < i1; item++)
            {
                int n = item / p.Groups, grp = item % p.Groups;
                int bigOff = BigOffset(p, n, grp);
                for (int j = 0; j < cs; j++)
                {
                    int c = grp * cs + j;
                    for (int tap = 0; tap < taps; tap++)
                    {
                        var dot = new GatherDot(big, small);
                        Im2Col.Walk(g, g.Taps[tap], bigOff, SmallOffset(p, n, grp) + j * size, ref dot);
                        acc[c * taps + tap] += dot.Sum;
                    }
                }
            }
        });
        return sums.Total();
    }

    /// <summary>
    /// Per-chunk partial sums of a parallel reduction, added in chunk order at the end so the result
    /// does not depend on which thread finished first.
    /// </summary>
    private sealed class ChunkSums(int length)
    {
        private readonly List<(int Start, float[] Sum)> _parts = new();

        /// <summary>A zeroed buffer for the chunk starting at <paramref name="start"/>.</summary>
        public float[] Start(int start)
        {
            var sum = new float[length];
            lock (_parts) _parts.Add((start, sum));
            return sum;
        }

        /// <summary>The sum of all chunks' buffers.</summary>
        public float[] Total()
        {
            if (_parts.Count == 0) return new float[length];
            _parts.Sort((a, b) => a.Start.CompareTo(b.Start));
            var total = _parts[0].Sum;
            for (int i = 1; i < _parts.Count; i++) TensorPrimitives.Add(total, _parts[i].Sum, total);
            return total;
        }
    }

    /// <summary>Sum of <paramref name="dy"/> ([N, C, size]) per channel: the bias gradient.</summary>
    public static float[] ChannelSums(float[] dy, int batch, int channels, int size)
    {
        var sums = new float[channels];
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                sums[c] += TensorPrimitives.Sum(dy.AsSpan((n * channels + c) * size, size));
        return sums;
    }

    private static int BigOffset(ConvProblem p, int n, int grp) => n * p.BigSample + grp * p.BigPerGroup * p.Geometry.InSize;

    private static int SmallOffset(ConvProblem p, int n, int grp) => n * p.SmallSample + grp * p.SmallPerGroup * p.Geometry.OutSize;

    // The column matrix [Cb·K, count·P] of a block: the input itself for a pointwise single sample.
    private static (float[] Data, int Offset) Columns(ConvProblem p, float[] big, int n, int count, int grp, float[]? col)
    {
        if (p.Pointwise && count == 1) return (big, BigOffset(p, n, grp));
        int width = count * p.Geometry.OutSize;
        for (int i = 0; i < count; i++)
            Im2Col.Pack(big, BigOffset(p, n + i, grp), p.BigPerGroup, p.Geometry, col!, i * p.Geometry.OutSize, width);
        return (col!, 0);
    }

    // A group's small channels of a block as [Cs, count·P]: in place for a single sample, else gathered.
    private static (float[] Data, int Offset) SmallRows(ConvProblem p, float[] small, int n, int count, int grp, float[]? rows)
    {
        if (count == 1) return (small, SmallOffset(p, n, grp));
        int size = p.Geometry.OutSize, width = count * size;
        for (int i = 0; i < count; i++)
        {
            int off = SmallOffset(p, n + i, grp);
            for (int j = 0; j < p.SmallPerGroup; j++)
                small.AsSpan(off + j * size, size).CopyTo(rows.AsSpan(j * width + i * size, size));
        }
        return (rows!, 0);
    }

    // Sets every channel plane of one sample to its bias (or zero).
    private static void FillChannels(Span<float> sample, float[]? bias, int size)
    {
        if (bias is null)
        {
            sample.Clear();
            return;
        }
        for (int c = 0; c < bias.Length; c++) sample.Slice(c * size, size).Fill(bias[c]);
    }

    /// <summary>Per-chunk scratch: block size, threads left for the GEMMs, column and row buffers.</summary>
    private sealed record Scratch(int Block, int Inner, float[]? Columns, float[]? Rows);

    // Splits the batch into Parallelism's chunks (fixed by the work, not the thread count, so sums
    // per chunk are reproducible); a chunk gets the threads left over for its GEMMs.
    private static void ForEachChunk(ConvProblem p, int threads, Action<int, int, Scratch> chunk)
    {
        int chunks = Math.Max(1, Parallelism.ChunkCount(p.Batch, p.CostPerSample));
        int inner = Math.Max(1, threads / Math.Min(chunks, Math.Max(threads, 1)));
        int size = p.Geometry.OutSize;
        int block = p.Pointwise ? 1 : Math.Clamp(BlockElements / Math.Max(1, p.ColRows * size), 1, (p.Batch + chunks - 1) / chunks);
        Parallelism.For(p.Batch, threads, p.CostPerSample, (n0, n1) =>
        {
            var pool = ArrayPool<float>.Shared;
            float[]? col = p.NeedsColumns ? pool.Rent(p.ColRows * size * block) : null;
            float[]? rows = block > 1 ? pool.Rent(p.SmallPerGroup * size * block) : null;
            try
            {
                chunk(n0, n1, new Scratch(block, inner, col, rows));
            }
            finally
            {
                if (col is not null) pool.Return(col);
                if (rows is not null) pool.Return(rows);
            }
        });
    }

    // Visits blocks of at most Scratch.Block samples: (first sample, count, scratch).
    private static void ForEachBlock(ConvProblem p, int threads, Action<int, int, Scratch> block) =>
        ForEachChunk(p, threads, (n0, n1, s) =>
        {
            for (int n = n0; n < n1; n += s.Block) block(n, Math.Min(s.Block, n1 - n), s);
        });

    // small[o] += w · big[tap(o)]
    private readonly struct GatherAxpy(float[] big, float[] small, float w) : ITapRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Run(int output, int input, int count, int stride)
        {
            var y = small.AsSpan(output, count);
            if (stride == 1)
            {
                TensorPrimitives.MultiplyAdd(big.AsSpan(input, count), w, y, y);
                return;
            }
            for (int j = 0; j < y.Length; j++, input += stride) y[j] += w * big[input];
        }
    }

    // big[tap(o)] += w · small[o]
    private readonly struct ScatterAxpy(float[] small, float[] big, float w) : ITapRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Run(int output, int input, int count, int stride)
        {
            var y = small.AsSpan(output, count);
            if (stride == 1)
            {
                var x = big.AsSpan(input, count);
                TensorPrimitives.MultiplyAdd(y, w, x, x);
                return;
            }
            for (int j = 0; j < y.Length; j++, input += stride) big[input] += w * y[j];
        }
    }

    // Σₒ small[o] · big[tap(o)]
    private struct GatherDot(float[] big, float[] small) : ITapRows
    {
        public float Sum;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Run(int output, int input, int count, int stride)
        {
            var y = small.AsSpan(output, count);
            if (stride == 1)
            {
                Sum += TensorPrimitives.Dot(big.AsSpan(input, count), y);
                return;
            }
            float s = 0f;
            for (int j = 0; j < y.Length; j++, input += stride) s += big[input] * y[j];
            Sum += s;
        }
    }
}
