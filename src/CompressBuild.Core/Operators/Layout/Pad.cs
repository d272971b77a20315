using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Pad: adds pads[i] elements before and pads[i+rank] after axis i (negative pads crop). Modes:
/// constant (fill with the constant value), reflect (mirror without repeating the edge) and edge
/// (repeat the edge). Opset 1: `paddings` and `value` attributes; 2–10: `pads` and `value` attributes;
/// 11+: `pads` and optional `constant_value` inputs (any element type from 13); 18: optional `axes`
/// input, pads then list begins and ends for those axes only. The `wrap` mode is opset 19, newer than
/// the engine supports.
/// </summary>
[OnnxOperator("Pad")]
internal sealed class Pad : OpKernel
{
    private enum Mode { Constant, Reflect, Edge }

    private readonly Mode _mode;
    private readonly long[]? _padsAttribute;
    private readonly float _valueAttribute;

    public Pad(NodeContext ctx) : base(ctx)
    {
        string mode = ctx.String("mode", "constant");
        _mode = mode switch
        {
            "constant" => Mode.Constant,
            "reflect" => Mode.Reflect,
            "edge" => Mode.Edge,
            "wrap" => throw ctx.Invalid("mode 'wrap' is part of opset 19, newer than CompressBuild supports. Use constant, reflect or edge."),
            _ => throw ctx.Invalid($"mode '{mode}' is not one of constant, reflect, edge"),
        };
        if (ctx.Opset < 11)
        {
            _padsAttribute = ctx.Ints(ctx.Opset < 2 ? "paddings" : "pads") ?? ctx.Ints("pads") ?? ctx.Ints("paddings")
                ?? throw ctx.Invalid("required attribute 'pads' is missing (opset < 11). Re-export the model.");
            _valueAttribute = ctx.Float("value", 0f);
        }
    }

    /// <summary>Begin and end pads of every axis ([b0,b1,..,e0,e1,..]), expanded from the opset-18 axes form.</summary>
    private long[] Pads(int rank, Func<int, bool> has, Func<int, long[]> ints, Func<string, Exception> error)
    {
        var pads = _padsAttribute ?? ints(1);
        if (Opset >= 18 && has(3))
        {
            var axes = ints(3);
            if (pads.Length != 2 * axes.Length) throw error($"pads has {pads.Length} entries for {axes.Length} axes; it needs 2 per axis");
            var full = new long[2 * rank];
            var seen = new bool[rank];
            for (int i = 0; i < axes.Length; i++)
            {
                long a = axes[i] < 0 ? axes[i] + rank : axes[i];
                if (a < 0 || a >= rank || seen[a]) throw error($"axes [{string.Join(",", axes)}] are out of range or repeated for rank {rank}");
                seen[a] = true;
                full[a] = pads[i];
                full[a + rank] = pads[i + axes.Length];
            }
            return full;
        }
        if (pads.Length != 2 * rank) throw error($"pads has {pads.Length} entries for an input of rank {rank}; it needs {2 * rank}");
        return pads;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        var pads = Pads(x.Length, ctx.HasInput, ctx.RequireConstantInts, ctx.Error);
        var shape = new Dim[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            shape[i] = x[i] + pads[i] + pads[i + x.Length];
            if (shape[i].IsKnown && shape[i].Value < 0) throw ctx.Error($"pads crop axis {i} of {Dim.Format(x)} below size 0");
            if (_mode != Mode.Constant && x[i] == Dim.Of(0) && shape[i] != Dim.Of(0))
                throw ctx.Error($"{_mode.ToString().ToLowerInvariant()} padding cannot pad axis {i}, which is empty");
        }
        if (Opset >= 11 && ctx.HasInput(2) && ctx.InputType(2) != ctx.InputType(0))
            throw ctx.Error($"constant_value is {DataTypes.OnnxName(ctx.InputType(2))}, the data {DataTypes.OnnxName(ctx.InputType(0))}");
        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    private long[] Pads(int rank, Func<int, bool> has, Func<int, Tensor> input) =>
        Pads(rank, has, i => input(i).ToInt64Array(), ShapeError);

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0);
        var pads = Pads(x.Rank, ctx.HasInput, ctx.Input);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        if (_mode == Mode.Constant)
        {
            var value = Opset >= 11 ? ctx.OptionalInput(2) : ScalarOf(x.DataType, _valueAttribute);
            LayoutElements.Dispatch(y.Data, new FillJob(y.Data, value?.Data));
            var (srcStart, dstStart, extents) = Interior(x.Shape, pads);
            SliceKernels.CopyRegion(x.Data, x.Shape, srcStart, y.Data, y.Shape, dstStart, extents, threads);
        }
        else
        {
            LayoutElements.Dispatch(x.Data, new MapJob(x.Data, x.Shape, y.Data, y.Shape, SourceMaps(x.Shape, y.Shape, pads), threads));
        }
    }

    /// <summary>The part of the input that survives cropping, and where it lands in the output.</summary>
    private static (int[] SrcStart, int[] DstStart, int[] Extents) Interior(int[] shape, long[] pads)
    {
        int rank = shape.Length;
        var src = new int[rank];
        var dst = new int[rank];
        var ext = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            long begin = pads[i], end = pads[i + rank];
            src[i] = (int)Math.Max(0, -begin);
            dst[i] = (int)Math.Max(0, begin);
            ext[i] = (int)Math.Max(0, shape[i] + Math.Min(0, begin) + Math.Min(0, end));
        }
        return (src, dst, ext);
    }

    /// <summary>For every axis, the input index each output index reads (reflect and edge modes).</summary>
    private int[][] SourceMaps(int[] input, int[] output, long[] pads)
    {
        var maps = new int[input.Length][];
        for (int a = 0; a < input.Length; a++)
        {
            int n = input[a];
            var map = maps[a] = new int[output[a]];
            for (int o = 0; o < map.Length; o++)
            {
                long i = o - pads[a];
                if (_mode == Mode.Edge || n == 1) i = Math.Clamp(i, 0, n - 1);
                else
                {
                    // Mirror about the first and last elements; the pattern repeats every 2(n-1).
                    long period = 2L * (n - 1);
                    i = ((i % period) + period) % period;
                    if (i >= n) i = period - i;
                }
                map[o] = (int)i;
            }
        }
        return maps;
    }

    /// <summary>A one-element tensor of <paramref name="type"/> holding <paramref name="value"/> (opset &lt; 11 `value`).</summary>
    private Tensor ScalarOf(DataType type, float value) => type switch
    {
        DataType.Float => Tensor.Scalar(value),
        DataType.Double => Tensor.Scalar((double)value),
        DataType.Float16 => Tensor.Scalar((Half)value),
        DataType.BFloat16 => Tensor.Scalar((BFloat16)value),
        _ => throw TypeError(type, "data type (before opset 11 Pad takes float types)"),
    };

    /// <summary>Fills an array with the first element of <paramref name="value"/>, or with zeros.</summary>
    private readonly struct FillJob(Array dst, Array? value) : IElementJob
    {
        public void Run<T>()
        {
            var d = LayoutElements.Of<T>(dst);
            if (value is null || value.Length == 0)
            {
                if (dst is string[] s) Array.Fill(s, string.Empty);
                else d.Clear();
            }
            else d.Fill(LayoutElements.Of<T>(value)[0]);
        }
    }

    /// <summary>y[o0,o1,..] = x[map0[o0], map1[o1], ..].</summary>
    private readonly struct MapJob(Array src, int[] srcShape, Array dst, int[] dstShape, int[][] maps, int maxDegree) : IElementJob
    {
        public void Run<T>()
        {
            Array s = src, d = dst;
            int[][] m = maps;
            var srcStrides = ShapeMath.Strides(srcShape);
            int[] shape = dstShape;
            int rank = shape.Length;
            if (rank == 0)
            {
                LayoutElements.Of<T>(d)[0] = LayoutElements.Of<T>(s)[0];
                return;
            }
            int inner = shape[rank - 1];
            int rows = ShapeMath.Product(shape, 0, rank - 1);
            Parallelism.For(rows, maxDegree, inner, (r0, r1) =>
            {
                var x = LayoutElements.Of<T>(s);
                var y = LayoutElements.Of<T>(d);
                var last = m[rank - 1];
                for (int r = r0; r < r1; r++)
                {
                    int offset = 0;
                    for (int k = rank - 2, rem = r; k >= 0; k--)
                    {
                        offset += m[k][rem % shape[k]] * srcStrides[k];
                        rem /= shape[k];
                    }
                    var row = y.Slice(r * inner, inner);
                    for (int j = 0; j < inner; j++) row[j] = x[offset + last[j]];
                }
            });
        }
    }

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        var dy = ctx.OutputGrad(0)!;
        var pads = Pads(x.Rank, ctx.HasInput, ctx.Input);
        var dx = Tensor.Zeros(DataType.Float, x.Shape);
        if (_mode == Mode.Constant)
        {
            // Only the interior came from x; padding and cropped elements get no gradient.
            var (srcStart, dstStart, extents) = Interior(x.Shape, pads);
            SliceKernels.CopyRegion(dy.Data, dy.Shape, dstStart, dx.Data, dx.Shape, srcStart, extents, ctx.Options.MaxDegreeOfParallelism);
        }
        else
        {
            // Reflected and repeated elements send their gradient back to the element they copy.
            var maps = SourceMaps(x.Shape, dy.Shape, pads);
            var strides = ShapeMath.Strides(x.Shape);
            var g = dx.Floats;
            var d = dy.Floats;
            int rank = x.Rank;
            for (int o = 0; o < d.Length; o++)
            {
                int offset = 0;
                for (int k = rank - 1, rem = o; k >= 0; k--)
                {
                    offset += maps[k][rem % dy.Shape[k]] * strides[k];
                    rem /= dy.Shape[k];
                }
                g[offset] += d[o];
            }
        }
        ctx.SetInputGrad(0, dx);
    }
}
