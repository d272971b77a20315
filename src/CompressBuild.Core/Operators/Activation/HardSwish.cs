using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>
/// HardSwish (opset 14+): y = x · max(0, min(1, x/6 + 1/2)), float types. dx = 0 below −3, dy above
/// 3, dy·(x/3 + 1/2) between.
/// </summary>
[OnnxOperator("HardSwish", MinOpset = 14)]
internal sealed class HardSwish : UnaryFloatKernel
{
    private const float Alpha = 1f / 6f;
    private const float Beta = 0.5f;

    public HardSwish(NodeContext ctx) : base(ctx)
    {
    }

    protected override int Cost => 2;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => ElementwiseKernels.Map(x, y, default(Function));

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * Math.Max(0, Math.Min(1, Alpha * x[i] + Beta));
    }

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Input(0), default(Grad));

    private readonly struct Function : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => x * new HardSigmoid.Function(Alpha, Beta).Invoke(x);
    }

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var z = x * Vector256.Create(Alpha) + Vector256.Create(Beta);
            var inside = dy * (x * Vector256.Create(2 * Alpha) + Vector256.Create(Beta));
            var g = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.One), dy, inside);
            return g & Vector256.GreaterThan(z, Vector256<float>.Zero);
        }
    }
}
