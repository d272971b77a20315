using System.Numerics;
using System.Numerics.Tensors;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Neg: y = −x. Opsets 1–5 (consumed_inputs), 6 (float and signed integer types), 13 (bfloat16);
/// unsigned types are rejected as in the spec. Signed integer MinValue wraps to itself. dx = −dy.
/// </summary>
[OnnxOperator("Neg")]
internal sealed class Neg : ElementwiseKernel
{
    public Neg(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var t = ctx.InputType(0);
        if (!IsNumeric(t) || t is DataType.UInt8 or DataType.UInt16 or DataType.UInt32 or DataType.UInt64) throw TypeError(t);
        ctx.SetOutput(0, t, ctx.InputShape(0));
    }

    public override void Forward(ForwardContext ctx) => NumericUnary.Run<Function>(ctx.Input(0), ctx.Output(0));

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        RequireFloatGradient(ctx.Input(0));
        var dy = ctx.OutputGrad(0)!;
        var dx = Tensor.Allocate(DataType.Float, dy.Shape);
        TensorPrimitives.Negate(dy.Floats, dx.Floats);
        ctx.SetInputGrad(0, dx);
    }

    private readonly struct Function : INumericFunction
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, INumber<T>
        {
            if (NumericUnary.IsFloat<T>()) TensorPrimitives.Negate(x, y);
            else for (int i = 0; i < y.Length; i++) y[i] = T.Zero - x[i];
        }
    }
}
