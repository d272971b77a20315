namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Flatten: reshapes to 2-D [prod(dims[..axis]), prod(dims[axis..])]. Opset 1–8: axis in [0, rank];
/// opset 11+: negative axis allowed. Output shares the input's elements.
/// </summary>
[OnnxOperator("Flatten")]
internal sealed class Flatten : OpKernel
{
    private readonly long _axis;

    public Flatten(NodeContext ctx) : base(ctx)
    {
        _axis = ctx.Int("axis", 1);
        if (_axis < 0 && ctx.Opset < 11) throw ctx.Invalid($"axis {_axis} must be >= 0 before opset 11");
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        long axis = _axis < 0 ? _axis + x.Length : _axis;
        if (axis < 0 || axis > x.Length) throw ctx.Error($"axis {_axis} is out of range for rank {x.Length}");
        ctx.SetOutput(0, ctx.InputType(0), new[] { Dim.Product(x.AsSpan(0, (int)axis)), Dim.Product(x.AsSpan((int)axis)) });
    }

    public override void Forward(ForwardContext ctx) => ctx.SetOutput(0, ctx.Input(0).Reshape(ctx.OutputShape(0)));

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx) =>
        ctx.SetInputGrad(0, ctx.OutputGrad(0)!.Reshape(ctx.Input(0).Shape));
}
