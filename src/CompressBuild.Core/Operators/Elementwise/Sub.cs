namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Sub: y = a − b. Opsets 1–6: legacy broadcast/axis attributes; 7+: numpy broadcasting; 13 adds
/// bfloat16, 14 the 8- and 16-bit integers (every numeric type is accepted at every opset). Integer
/// overflow wraps, as in ONNX Runtime. Integer shape vectors are subtracted symbolically.
/// </summary>
[OnnxOperator("Sub")]
internal sealed class Sub : BroadcastBinaryKernel
{
    public Sub(NodeContext ctx) : base(ctx)
    {
    }

    protected override bool HasShapeArithmetic => true;

    protected override Dim Combine(Dim a, Dim b) => a - b;

    protected override void Compute(ForwardContext ctx, Tensor a, int[] aShape, Tensor b, int[] bShape) =>
        NumericBinary.Run<SubOp>(a, aShape, b, bShape, ctx.Output(0), ctx.Options.MaxDegreeOfParallelism);

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var dy = ctx.OutputGrad(0)!;
        if (ctx.NeedsInputGrad(0))
        {
            RequireFloatGradient(ctx.Input(0));
            ctx.SetInputGrad(0, ReduceToInput(ctx, 0, dy));
        }
        if (ctx.NeedsInputGrad(1))
        {
            RequireFloatGradient(ctx.Input(1));
            ctx.SetInputGrad(1, NegatedReduceToInput(ctx, 1, dy));
        }
    }
}
