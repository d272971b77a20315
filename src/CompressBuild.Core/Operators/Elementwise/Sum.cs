namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Sum: element-wise sum of 1..N inputs with broadcasting (opset 8+; 6–7 same shapes; 13 adds
/// bfloat16). Float types per the spec.
/// </summary>
[OnnxOperator("Sum")]
internal sealed class Sum : VariadicKernel
{
    public Sum(NodeContext ctx) : base(ctx)
    {
    }

    protected override bool FloatOnly => true;

    protected override void Combine(Tensor a, Tensor b, Tensor dst, int maxDegree) =>
        NumericBinary.Run<AddOp>(a, a.Shape, b, b.Shape, dst, maxDegree);

    public override void Backward(BackwardContext ctx) => SetReducedGrads(ctx, ctx.OutputGrad(0)!);
}
