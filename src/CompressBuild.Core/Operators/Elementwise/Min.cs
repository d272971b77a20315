namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Min: element-wise minimum of 1..N inputs with broadcasting (opset 8+; 6–7 same shapes; 12 adds
/// the integer types, 13 bfloat16; all numeric types accepted). NaN propagates. Gradient to the
/// input holding the minimum (first on ties).
/// </summary>
[OnnxOperator("Min")]
internal sealed class Min : VariadicKernel
{
    public Min(NodeContext ctx) : base(ctx)
    {
    }

    protected override void Combine(Tensor a, Tensor b, Tensor dst, int maxDegree) =>
        NumericBinary.Run<MinOp>(a, a.Shape, b, b.Shape, dst, maxDegree);

    public override void Backward(BackwardContext ctx) => SetSelectedGrads(ctx);
}
