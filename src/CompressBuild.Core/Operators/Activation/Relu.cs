using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>
/// Relu: y = max(0, x). Opsets 1–5 (consumed_inputs ignored), 6, 13 (bfloat16), 14 (signed integer
/// types) share the same semantics. dx = dy where y &gt; 0 (0 at the kink, as in PyTorch).
/// </summary>
[OnnxOperator("Relu")]
internal sealed class Relu : OpKernel
{
    public Relu(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var t = ctx.InputType(0);
        if (!(DataTypes.IsFloatingPoint(t) || t is DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64)) throw TypeError(t);
        ctx.SetOutput(0, t, ctx.InputShape(0));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0);
        // By declared type: a uint8 array would also match sbyte[].
        switch (x.DataType)
        {
            case DataType.Float: TensorPrimitives.Max(x.Floats, 0f, y.Floats); break;
            case DataType.Double: TensorPrimitives.Max(x.ArrayOf<double>(), 0d, y.ArrayOf<double>()); break;
            case DataType.Float16: TensorPrimitives.Max(x.ArrayOf<Half>(), Half.Zero, y.ArrayOf<Half>()); break;
            case DataType.Int32: TensorPrimitives.Max(x.ArrayOf<int>(), 0, y.ArrayOf<int>()); break;
            case DataType.Int64: TensorPrimitives.Max(x.ArrayOf<long>(), 0L, y.ArrayOf<long>()); break;
            case DataType.Int8: TensorPrimitives.Max(x.ArrayOf<sbyte>(), (sbyte)0, y.ArrayOf<sbyte>()); break;
            case DataType.Int16: TensorPrimitives.Max(x.ArrayOf<short>(), (short)0, y.ArrayOf<short>()); break;
            case DataType.BFloat16:
            {
                var f = Elementwise.ElementConversion.ToFloats(x);
                TensorPrimitives.Max(f, 0f, f);
                Elementwise.ElementConversion.StoreFloats(f, y);
                break;
            }
            default: throw TypeError(x.DataType);
        }
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        // dx = dy where y > 0 (the subgradient at 0 is 0, as in PyTorch).
        var dx = Tensor.Allocate(DataType.Float, ctx.Input(0).Shape);
        ElementwiseKernels.Map(ctx.Output(0).Floats, ctx.OutputGrad(0)!.Floats, dx.Floats, default(Grad), ctx.Options.MaxDegreeOfParallelism, 1);
        ctx.SetInputGrad(0, dx);
    }

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy & Vector256.GreaterThan(y, Vector256<float>.Zero);
    }
}
