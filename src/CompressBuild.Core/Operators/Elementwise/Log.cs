using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>Log: y = ln x (−inf at 0, NaN below). Opsets 1–5 (consumed_inputs), 6, 13 (bfloat16): float types. dx = dy / x.</summary>
[OnnxOperator("Log")]
internal sealed class Log : UnaryFloatKernel
{
    public Log(NodeContext ctx) : base(ctx)
    {
    }

    protected override int Cost => 10;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Log(x, y);

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Log(x, y);

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Input(0), default(Grad));

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) => dy / x;
    }
}
