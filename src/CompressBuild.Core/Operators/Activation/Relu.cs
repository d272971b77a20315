using System.Numerics.Tensors;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>
/// Relu: y = max(0, x). Opsets 1–5 (consumed_inputs), 6, 13, 14 (adds integer types) share the
/// same semantics for float.
/// </summary>
[OnnxOperator("Relu")]
internal sealed class Relu : OpKernel
{
    public Relu(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx) => ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0);
        switch (x.Data)
        {
            case float[] xf: TensorPrimitives.Max(xf, 0f, y.Floats); break;
            case double[] xd: TensorPrimitives.Max(xd, 0d, y.ArrayOf<double>()); break;
            case int[] xi: TensorPrimitives.Max(xi, 0, y.ArrayOf<int>()); break;
            case long[] xl: TensorPrimitives.Max(xl, 0L, y.ArrayOf<long>()); break;
            case sbyte[] xs: TensorPrimitives.Max(xs, (sbyte)0, y.ArrayOf<sbyte>()); break;
            case short[] xh: TensorPrimitives.Max(xh, (short)0, y.ArrayOf<short>()); break;
            default: throw TypeError(x.DataType);
        }
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        // dx = dy where y > 0 (the subgradient at 0 is 0, as in PyTorch).
        var y = ctx.Output(0).Floats;
        var dy = ctx.OutputGrad(0)!.Floats;
        var dx = Tensor.Allocate(DataType.Float, ctx.Input(0).Shape);
        var d = dx.Floats;
        for (int i = 0; i < d.Length; i++) d[i] = y[i] > 0f ? dy[i] : 0f;
        ctx.SetInputGrad(0, dx);
    }
}
