namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Max: element-wise maximum of 1..N inputs with broadcasting (opset 8+; 6–7 same shapes; 12 adds
/// the integer types, 13 bfloat16; all numeric types accepted). NaN propagates. Gradient to the
/// input holding the maximum (first on ties).
/// </summary>
[OnnxOperator("Max")]
internal sealed class Max : VariadicKernel
{
    public Max(NodeContext ctx) : base(ctx)
    {
    }

    protected override void Combine(Tensor a, Tensor b, Tensor dst, int maxDegree) =>
        NumericBinary.Run<MaxOp>(a, a.Shape, b, b.Shape, dst, maxDegree);

    public override void Backward(BackwardContext ctx) => SetSelectedGrads(ctx);
}
