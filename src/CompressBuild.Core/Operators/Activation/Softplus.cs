using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>
/// Softplus: y = ln(eˣ + 1), computed as max(x, 0) + ln(1 + e^(−|x|)) so it neither overflows nor
/// loses small values (evaluated in double and rounded once). Opset 1+: float types. dx = dy · sigmoid(x).
/// </summary>
[OnnxOperator("Softplus")]
internal sealed class Softplus : UnaryFloatKernel
{
    public Softplus(NodeContext ctx) : base(ctx)
    {
    }

    protected override int Cost => 20;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => ElementwiseKernels.Map(x, y, default(Function));

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double z = Math.Exp(-Math.Abs(x[i])), u = 1 + z;
            // ln(1 + z) without losing z when 1 + z rounds (Goldberg's log1p).
            y[i] = Math.Max(x[i], 0) + (u == 1 ? z : Math.Log(u) * z / (u - 1));
        }
    }

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Input(0), default(Grad));

    private readonly struct Function : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => ElementwiseKernels.Softplus(x);
    }

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) => dy / (Vector256<float>.One + Vector256.Exp(-x));
    }
}
