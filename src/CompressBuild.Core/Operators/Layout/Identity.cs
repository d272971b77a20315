namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Identity: the output is the input (shared, no copy). All opsets (1, 13, 14, 16) agree for tensors;
/// the sequence and optional inputs that 14 and 16 allow are not tensors and are not supported.
/// Constants and shape vectors pass through as such, so static inference sees through Identity.
/// </summary>
[OnnxOperator("Identity")]
internal sealed class Identity : OpKernel
{
    public Identity(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.Input(0);
        if (x.Value is { } v) ctx.SetOutputValue(0, v);
        else if (x.Shape is { } shape) LayoutFacts.SetView(ctx, 0, 0, shape);
        else ctx.SetOutput(0, x.Type, null);
    }

    public override void Forward(ForwardContext ctx) => ctx.SetOutput(0, ctx.Input(0));

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx) => ctx.SetInputGrad(0, ctx.OutputGrad(0)!);
}
