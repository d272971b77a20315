using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>Sqrt: y = √x (NaN below 0). Opsets 1–5 (consumed_inputs), 6, 13 (bfloat16): float types. dx = dy / (2y).</summary>
[OnnxOperator("Sqrt")]
internal sealed class Sqrt : UnaryFloatKernel
{
    public Sqrt(NodeContext ctx) : base(ctx)
    {
    }

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sqrt(x, y);

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Sqrt(x, y);

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Output(0), default(Grad));

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * Vector256.Create(0.5f) / y;
    }
}
