using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>Sigmoid: y = 1 / (1 + e^(−x)) (float evaluated in double and rounded once). Opsets 1–5 (consumed_inputs ignored), 6, 13 (bfloat16): float types. dx = dy·y·(1 − y).</summary>
[OnnxOperator("Sigmoid")]
internal sealed class Sigmoid : UnaryFloatKernel
{
    public Sigmoid(NodeContext ctx) : base(ctx)
    {
    }

    protected override int Cost => 12;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => ElementwiseKernels.Map(x, y, default(Function));

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Sigmoid(x, y);

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Output(0), default(Grad));

    private readonly struct Function : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => ElementwiseKernels.Sigmoid(x);
    }

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * y * (Vector256<float>.One - y);
    }
}
