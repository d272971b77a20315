using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// ConvTranspose: the transpose (input gradient) of a grouped convolution, Y = Wᵀ ⋆ X + B, with W
/// [C, M/group, k…], over 1 to 3 spatial axes; float32. Y's size is
/// stride·(in-1) + output_padding + dilated kernel - pads, or output_shape (the total padding split
/// so that SAME_UPPER puts an odd element at the end and other modes at the beginning; a size
/// beyond the full result is zero-extended at the end), or in·stride for SAME_UPPER/SAME_LOWER.
/// Opsets 1 and 11 differ only in how precisely the spec words these rules. Gradients for X, W and B.
/// </summary>
[OnnxOperator("ConvTranspose")]
internal sealed class ConvTranspose : OpKernel
{
    private readonly WindowAttributes _window;
    private readonly int _group;
    private readonly long[]? _outputPadding;
    private readonly long[]? _outputShape;

    public ConvTranspose(NodeContext ctx) : base(ctx)
    {
        _window = WindowAttributes.Read(ctx);
        long group = ctx.Int("group", 1);
        if (group < 1 || group > int.MaxValue) throw ctx.Invalid($"group {group} must be positive");
        _group = (int)group;
        _outputShape = ctx.Ints("output_shape");
        if (_outputShape is not null && _outputShape.Any(s => s < 1 || s > int.MaxValue))
            throw ctx.Invalid($"output_shape [{string.Join(",", _outputShape)}] must be positive");
        _outputPadding = ctx.Ints("output_padding");
        if (_outputPadding is not null)
        {
            for (int i = 0; i < _outputPadding.Length; i++)
            {
                long stride = _window.Strides is { } s && i < s.Length ? s[i] : 1;
                long dilation = _window.Dilations is { } d && i < d.Length ? d[i] : 1;
                if (_outputPadding[i] < 0 || _outputPadding[i] >= Math.Max(stride, dilation))
                    throw ctx.Invalid($"output_padding [{string.Join(",", _outputPadding)}] must be non-negative and below the stride or dilation of its axis");
            }
        }
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        if (ctx.InputType(0) != DataType.Float) throw TypeError(ctx.InputType(0));
        if (ctx.InputType(1) != DataType.Float) throw TypeError(ctx.InputType(1), "W element type");
        if (x.Length < 3) throw ctx.Error($"X must be [N, C, spatial…], got {Dim.Format(x)}");
        if (w.Length != x.Length) throw ctx.Error($"W {Dim.Format(w)} must have the rank of X {Dim.Format(x)}");
        if (x[1].IsKnown && w[0].IsKnown && x[1] != w[0])
            throw ctx.Error($"X has {x[1]} channels but W {Dim.Format(w)} expects {w[0]}");
        if (w[0].IsKnown && w[0].Value % _group != 0) throw ctx.Error($"W's {w[0]} input channels are not a multiple of group {_group}");
        Dim m = w[1] * _group;
        if (ctx.HasInput(2))
        {
            var b = ctx.InputShape(2);
            if (b.Length != 1 || (b[0].IsKnown && m.IsKnown && b[0] != m))
                throw ctx.Error($"B {Dim.Format(b)} must be a vector of the {m} output channels");
        }
        var g = Geometry(WindowAttributes.KnownSpatial(this, x, "X"), WindowAttributes.KnownSpatial(this, w, "W"));
        // Y is the big side of the transposed convolution.
        ctx.SetOutput(0, DataType.Float, [x[0], m, .. Dim.FromShape(g.InputDims)]);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var p = Problem(x.Shape, w.Shape);
        ConvKernels.BackwardData(p, x.Floats, w.Floats, ctx.OptionalInput(2)?.Floats, ctx.Output(0).Floats, ctx.Options.MaxDegreeOfParallelism);
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx) =>
        ConvGradients.Backward(ctx, Problem(ctx.Input(0).Shape, ctx.Input(1).Shape), transposed: true);

    private WindowGeometry Geometry(int[] xSpatial, int[] wSpatial)
    {
        if (_window.KernelShape is { } k && !k.SequenceEqual(wSpatial.Select(d => (long)d)))
            throw ShapeError($"kernel_shape [{string.Join(",", k)}] differs from W's spatial dims [{string.Join(",", wSpatial)}]");
        return _window.ResolveTranspose(this, xSpatial, wSpatial, _outputPadding, _outputShape);
    }

    // Y is the big side, X the small one; W is [C, M/group, k…] = [group·Cs, Cb, k…].
    private ConvProblem Problem(int[] x, int[] w) =>
        new(Geometry(x[2..], w[2..]), x[0], _group, w[1], w[0] / _group);
}
