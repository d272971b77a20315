using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>Reciprocal: y = 1/x. Opsets 1–5 (consumed_inputs), 6, 13 (bfloat16): float types. dx = −dy · y².</summary>
[OnnxOperator("Reciprocal")]
internal sealed class Reciprocal : UnaryFloatKernel
{
    public Reciprocal(NodeContext ctx) : base(ctx)
    {
    }

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Divide(1f, x, y);

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Divide(1d, x, y);

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Output(0), default(Grad));

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => -(dy * y * y);
    }
}
