namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// ConvInteger (opset 10): Conv of uint8/int8 x and w minus their optional zero points, exact in
/// int32 (y is int32), with all Conv attributes (auto_pad, pads, strides, dilations, group,
/// kernel_shape). x_zero_point is per tensor; w_zero_point per tensor or per output channel (an
/// M-vector). Padding reads x's zero point, i.e. contributes 0. Not differentiable.
/// </summary>
[OnnxOperator("ConvInteger", MinOpset = 10)]
internal sealed class ConvInteger : OpKernel
{
    private readonly IntegerConv _conv;

    public ConvInteger(NodeContext ctx) : base(ctx) => _conv = new IntegerConv(this, ctx);

    public override void InferShapes(ShapeContext ctx)
    {
        var shape = _conv.InferShape(ctx, 0, 1);
        Quantized.RequireSameType(ctx, this, 2, 0, "x_zero_point");
        Quantized.RequireSameType(ctx, this, 3, 1, "w_zero_point");
        Quantized.RequireSingle(ctx, 2, "x_zero_point");
        IntegerConv.RequirePerChannel(ctx, 3, 1, "w_zero_point");
        ctx.SetOutput(0, DataType.Int32, shape);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        int xZero = Quantized.SingleZeroPoint(this, ctx.OptionalInput(2), "x_zero_point");
        var wZero = ctx.OptionalInput(3) is { } z ? Quantized.ZeroPoints(this, z, z.Length == 1 ? 1 : w.Shape[0], "w_zero_point") : [0];
        _conv.Compute(x, xZero, w, wZero, ctx.Output(0).ArrayOf<int>(), ctx.Options.MaxDegreeOfParallelism);
    }
}
