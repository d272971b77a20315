using System.Buffers;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.NN;

namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// The exact integer convolution under ConvInteger and QLinearConv: (x - x_zero_point) ⋆
/// (w - w_zero_point[m]) accumulated in int32, with every Conv attribute (auto_pad, pads, strides,
/// dilations, group, kernel_shape) and the engine's Conv geometry. The padding reads x's zero point
/// (0 after the shift). Per sample and group: im2col of the shifted int16 input, then one
/// <see cref="IntegerGemm"/> product with the shifted weights.
/// </summary>
internal sealed class IntegerConv
{
    private readonly OpKernel _op;
    private readonly WindowAttributes _window;
    private readonly int _group;

    public IntegerConv(OpKernel op, NodeContext ctx)
    {
        _op = op;
        _window = WindowAttributes.Read(ctx);
        long group = ctx.Int("group", 1);
        if (group < 1 || group > int.MaxValue) throw ctx.Invalid($"group {group} must be positive");
        _group = (int)group;
    }

    /// <summary>Y's shape [N, M, spatial…] from x (input <paramref name="x"/>) and w (input <paramref name="w"/>).</summary>
    public Dim[] InferShape(ShapeContext ctx, int x, int w)
    {
        Quantized.RequireEightBit(_op, ctx.InputType(x), "x element type");
        Quantized.RequireEightBit(_op, ctx.InputType(w), "w element type");
        var xs = ctx.InputShape(x);
        var ws = ctx.InputShape(w);
        if (xs.Length < 3) throw ctx.Error($"x must be [N, C, spatial…], got {Dim.Format(xs)}");
        if (ws.Length != xs.Length) throw ctx.Error($"w {Dim.Format(ws)} must have the rank of x {Dim.Format(xs)}");
        Dim m = ws[0];
        if (m.IsKnown && m.Value % _group != 0) throw ctx.Error($"w has {m} filters, not a multiple of group {_group}");
        if (xs[1].IsKnown && ws[1].IsKnown && xs[1].Value != ws[1].Value * _group)
            throw ctx.Error($"x has {xs[1]} channels but w {Dim.Format(ws)} with group {_group} reads {ws[1].Value * _group}");
        var g = _window.Resolve(_op, WindowAttributes.KnownSpatial(_op, xs, "x"), Kernel(WindowAttributes.KnownSpatial(_op, ws, "w")));
        return [xs[0], m, .. Dim.FromShape(g.OutputDims)];
    }

    /// <summary>
    /// Checks that a per-output-channel parameter (w's scale or zero point, the bias) holds one
    /// value or M values, where known.
    /// </summary>
    public static void RequirePerChannel(ShapeContext ctx, int i, int w, string name, bool allowSingle = true)
    {
        if (!ctx.HasInput(i)) return;
        var s = ctx.InputShape(i);
        Dim m = ctx.InputShape(w)[0];
        bool single = s.All(d => d == Dim.Of(1));
        bool perChannel = s.Length == 1 && (!s[0].IsKnown || !m.IsKnown || s[0] == m);
        if (!(perChannel || (allowSingle && single)))
            throw ctx.Error($"{name} must be {(allowSingle ? "a scalar or " : "")}a vector of the {m} output channels, got shape {Dim.Format(s)}");
    }

    /// <summary>
    /// acc [N, M, output positions] = (x - xZero) ⋆ (w - wZero[m]) (one zero point, or one per
    /// output channel); acc's old contents are overwritten.
    /// </summary>
    public void Compute(Tensor x, int xZero, Tensor w, int[] wZero, int[] acc, int threads)
    {
        int batch = x.Shape[0], m = w.Shape[0], cg = w.Shape[1];
        if (m % _group != 0 || x.Shape[1] != cg * _group)
            throw _op.ShapeError($"x [{ShapeMath.Format(x.Shape)}] and w [{ShapeMath.Format(w.Shape)}] do not match with group {_group}");
        var g = _window.Resolve(_op, x.Shape[2..], Kernel(w.Shape[2..]));
        int cs = m / _group, rows = cg * g.KernelSize, size = g.OutSize, channels = x.Shape[1];
        // Weight rows padded to an even length: the kernel reads them in pairs.
        int lda = rows + (rows & 1);
        var ws = new short[m * lda];
        for (int f = 0; f < m; f++) Quantized.Shift(w, f * rows, rows, wZero.Length == 1 ? wZero[0] : wZero[f], ws.AsSpan(f * lda));
        var xs = new short[x.Length];
        Quantized.Shift(x, 0, x.Length, xZero, xs);
        long cost = (long)m * rows * size;
        bool parallelSamples = Parallelism.ChunkCount(batch, cost) > 1;
        int packedLength = IntegerGemm.PackedLength(rows, size);
        Parallelism.For(batch, parallelSamples ? threads : 1, cost, (n0, n1) =>
        {
            var col = g.IsIdentityWindow ? null : ArrayPool<short>.Shared.Rent(rows * size);
            var packed = ArrayPool<short>.Shared.Rent(packedLength);
            try
            {
                for (int n = n0; n < n1; n++)
                    for (int grp = 0; grp < _group; grp++)
                    {
                        int xOffset = (n * channels + grp * cg) * g.InSize;
                        // A 1×1, stride-1, unpadded window reads the input as its own column matrix.
                        if (col is null) IntegerGemm.PackB(xs, xOffset, size, rows, size, packed, 0);
                        else
                        {
                            Pack(xs, xOffset, cg, g, col);
                            IntegerGemm.PackB(col, 0, size, rows, size, packed, 0);
                        }
                        IntegerGemm.Multiply(cs, size, rows, ws, grp * cs * lda, lda, packed, 0,
                            acc, (n * m + grp * cs) * size, size, parallelSamples ? 1 : threads);
                    }
            }
            finally
            {
                if (col is not null) ArrayPool<short>.Shared.Return(col);
                ArrayPool<short>.Shared.Return(packed);
            }
        });
    }

    // im2col of int16 channels: row c·K + tap holds, per output position, the element that tap reads (0 in the padding).
    private static void Pack(short[] x, int xOffset, int channels, WindowGeometry g, short[] col)
    {
        var rows = new ShortRows(x, col);
        for (int c = 0, row = 0; c < channels; c++)
            for (int tap = 0; tap < g.KernelSize; tap++, row++)
            {
                ref readonly var t = ref g.Taps[tap];
                int colBase = row * g.OutSize;
                if (!t.Complete) col.AsSpan(colBase, g.OutSize).Clear();
                Im2Col.Walk(g, t, xOffset + c * g.InSize, colBase, ref rows);
            }
    }

    private readonly struct ShortRows(short[] x, short[] col) : ITapRows
    {
        public void Run(int output, int input, int count, int stride)
        {
            if (stride == 1) x.AsSpan(input, count).CopyTo(col.AsSpan(output, count));
            else
                for (int j = 0; j < count; j++) col[output + j] = x[input + j * stride];
        }
    }

    // kernel_shape, when given, must agree with w's spatial dims.
    private int[] Kernel(int[] wSpatial)
    {
        if (_window.KernelShape is { } k && !k.SequenceEqual(wSpatial.Select(d => (long)d)))
            throw _op.ShapeError($"kernel_shape [{string.Join(",", k)}] differs from w's spatial dims [{string.Join(",", wSpatial)}]");
        return wSpatial;
    }
}
