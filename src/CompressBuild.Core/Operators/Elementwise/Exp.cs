using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>Exp: y = eˣ (float evaluated in double and rounded once). Opsets 1–5 (consumed_inputs ignored), 6, 13 (bfloat16): float types. dx = dy · y.</summary>
[OnnxOperator("Exp")]
internal sealed class Exp : UnaryFloatKernel
{
    public Exp(NodeContext ctx) : base(ctx)
    {
    }

    protected override int Cost => 10;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => ElementwiseKernels.Map(x, y, default(Function));

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Exp(x, y);

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Output(0), default(TimesGrad));

    private readonly struct Function : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => ElementwiseKernels.Exp(x);
    }
}
