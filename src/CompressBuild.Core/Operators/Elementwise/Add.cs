namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Add: y = a + b. Opsets 1–6: legacy broadcast/axis attributes; 7+: numpy broadcasting; 13 adds
/// bfloat16, 14 the 8- and 16-bit integers (every numeric type is accepted at every opset). Integer
/// overflow wraps, as in ONNX Runtime. Integer shape vectors are added symbolically.
/// </summary>
[OnnxOperator("Add")]
internal sealed class Add : BroadcastBinaryKernel
{
    public Add(NodeContext ctx) : base(ctx)
    {
    }

    protected override bool HasShapeArithmetic => true;

    protected override Dim Combine(Dim a, Dim b) => a + b;

    protected override void Compute(ForwardContext ctx, Tensor a, int[] aShape, Tensor b, int[] bShape) =>
        NumericBinary.Run<AddOp>(a, aShape, b, bShape, ctx.Output(0), ctx.Options.MaxDegreeOfParallelism);

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var dy = ctx.OutputGrad(0)!;
        for (int i = 0; i < 2; i++)
            if (ctx.NeedsInputGrad(i))
            {
                RequireFloatGradient(ctx.Input(i));
                ctx.SetInputGrad(i, ReduceToInput(ctx, i, dy));
            }
    }
}
