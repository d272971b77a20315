using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>Tanh: y = tanh x (float evaluated in double and rounded once). Opsets 1–5 (consumed_inputs ignored), 6, 13 (bfloat16): float types. dx = dy·(1 − y²).</summary>
[OnnxOperator("Tanh")]
internal sealed class Tanh : UnaryFloatKernel
{
    public Tanh(NodeContext ctx) : base(ctx)
    {
    }

    protected override int Cost => 12;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => ElementwiseKernels.Map(x, y, default(Function));

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = Math.Tanh(x[i]);
    }

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Output(0), default(Grad));

    private readonly struct Function : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => ElementwiseKernels.Tanh(x);
    }

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - y * y);
    }
}
