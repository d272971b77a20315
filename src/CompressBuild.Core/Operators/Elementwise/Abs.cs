using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Abs: y = |x|. Opsets 1–5 (consumed_inputs), 6 (all numeric types), 13 (bfloat16). Signed integer
/// MinValue wraps to itself, as in ONNX Runtime. dx = sign(x) · dy (0 at 0).
/// </summary>
[OnnxOperator("Abs")]
internal sealed class Abs : ElementwiseKernel
{
    public Abs(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var t = ctx.InputType(0);
        if (!IsNumeric(t)) throw TypeError(t);
        ctx.SetOutput(0, t, ctx.InputShape(0));
    }

    public override void Forward(ForwardContext ctx) => NumericUnary.Run<Function>(ctx.Input(0), ctx.Output(0));

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        RequireFloatGradient(x);
        var dx = Tensor.Allocate(DataType.Float, x.Shape);
        ElementwiseKernels.Map(x.Floats, ctx.OutputGrad(0)!.Floats, dx.Floats, default(Grad), ctx.Options.MaxDegreeOfParallelism, 2);
        ctx.SetInputGrad(0, dx);
    }

    private readonly struct Function : INumericFunction
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, INumber<T>
        {
            if (NumericUnary.IsFloat<T>()) TensorPrimitives.Abs(x, y);
            else for (int i = 0; i < y.Length; i++) y[i] = T.IsNegative(x[i]) ? T.Zero - x[i] : x[i];
        }
    }

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy,
                Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -dy, Vector256<float>.Zero));
    }
}
