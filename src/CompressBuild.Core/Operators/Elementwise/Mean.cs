using System.Numerics.Tensors;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Mean: element-wise mean of 1..N inputs with broadcasting (opset 8+; 6–7 same shapes; 13 adds
/// bfloat16). Float types per the spec. Each input's gradient is dy/N summed to its shape.
/// </summary>
[OnnxOperator("Mean")]
internal sealed class Mean : VariadicKernel
{
    public Mean(NodeContext ctx) : base(ctx)
    {
    }

    protected override bool FloatOnly => true;

    protected override void Combine(Tensor a, Tensor b, Tensor dst, int maxDegree) =>
        NumericBinary.Run<AddOp>(a, a.Shape, b, b.Shape, dst, maxDegree);

    protected override void Finish(Tensor y, int count, int maxDegree)
    {
        var n = ElementConversion.Convert(Tensor.Scalar((double)count), y.DataType);
        NumericBinary.Run<DivOp>(y, y.Shape, n, n.Shape, y, maxDegree);
    }

    public override void Backward(BackwardContext ctx)
    {
        var dy = ctx.OutputGrad(0)!;
        var g = Tensor.Allocate(DataType.Float, dy.Shape);
        TensorPrimitives.Multiply(dy.Floats, 1f / Present(Node.Inputs.Count, ctx.HasInput).Length, g.Floats);
        SetReducedGrads(ctx, g);
    }
}
