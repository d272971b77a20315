using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// Conv: Y = W ⋆ X + B, grouped (depthwise included) N-D convolution over 1 to 3 spatial axes with
/// auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID), pads, strides, dilations and kernel_shape
/// (inferred from W when absent); float32. Opsets 1 and 11 compute the same thing (11 only words
/// the SAME output size ceil(in / stride) precisely). Gradients for X, W and B.
/// </summary>
[OnnxOperator("Conv")]
internal sealed class Conv : OpKernel
{
    private readonly WindowAttributes _window;
    private readonly int _group;

    public Conv(NodeContext ctx) : base(ctx)
    {
        _window = WindowAttributes.Read(ctx);
        long group = ctx.Int("group", 1);
        if (group < 1 || group > int.MaxValue) throw ctx.Invalid($"group {group} must be positive");
        _group = (int)group;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        if (ctx.InputType(0) != DataType.Float) throw TypeError(ctx.InputType(0));
        if (ctx.InputType(1) != DataType.Float) throw TypeError(ctx.InputType(1), "W element type");
        if (x.Length < 3) throw ctx.Error($"X must be [N, C, spatial…], got {Dim.Format(x)}");
        if (w.Length != x.Length) throw ctx.Error($"W {Dim.Format(w)} must have the rank of X {Dim.Format(x)}");
        Dim m = w[0];
        if (m.IsKnown && m.Value % _group != 0) throw ctx.Error($"W has {m} filters, not a multiple of group {_group}");
        if (x[1].IsKnown && w[1].IsKnown && x[1].Value != w[1].Value * _group)
            throw ctx.Error($"X has {x[1]} channels but W {Dim.Format(w)} with group {_group} reads {w[1].Value * _group}");
        if (ctx.HasInput(2))
        {
            var b = ctx.InputShape(2);
            if (b.Length != 1 || (b[0].IsKnown && m.IsKnown && b[0] != m))
                throw ctx.Error($"B {Dim.Format(b)} must be a vector of the {m} filters");
        }
        var g = _window.Resolve(this, WindowAttributes.KnownSpatial(this, x, "X"), Kernel(WindowAttributes.KnownSpatial(this, w, "W")));
        ctx.SetOutput(0, DataType.Float, [x[0], m, .. Dim.FromShape(g.OutputDims)]);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var p = Problem(x.Shape, w.Shape);
        ConvKernels.Forward(p, x.Floats, w.Floats, ctx.OptionalInput(2)?.Floats, ctx.Output(0).Floats, ctx.Options.MaxDegreeOfParallelism);
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx) =>
        ConvGradients.Backward(ctx, Problem(ctx.Input(0).Shape, ctx.Input(1).Shape), transposed: false);

    // X is the big side, Y the small one; W is [M, C/group, k…].
    private ConvProblem Problem(int[] x, int[] w) =>
        new(_window.Resolve(this, x[2..], Kernel(w[2..])), x[0], _group, w[1], w[0] / _group);

    // kernel_shape, when given, must agree with W's spatial dims.
    private int[] Kernel(int[] wSpatial)
    {
        if (_window.KernelShape is { } k && !k.SequenceEqual(wSpatial.Select(d => (long)d)))
            throw ShapeError($"kernel_shape [{string.Join(",", k)}] differs from W's spatial dims [{string.Join(",", wSpatial)}]");
        return wSpatial;
    }
}
