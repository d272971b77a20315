using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Erf: the error function. Opset 9: every numeric type (integers computed in double and truncated
/// back); 13 adds bfloat16. Float uses a vectorized rational fit (relative error &lt; 2e-7), double a
/// series / continued fraction (≈1e-15). dx = dy · 2/√π · e^(−x²).
/// </summary>
[OnnxOperator("Erf", MinOpset = 9)]
internal sealed class Erf : UnaryFloatKernel
{
    public Erf(NodeContext ctx) : base(ctx)
    {
    }

    protected override int Cost => 24;

    protected override bool AcceptsIntegers => true;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => ElementwiseKernels.Map(x, y, default(Function));

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = ElementwiseKernels.Erf(x[i]);
    }

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Input(0), default(Grad));

    private readonly struct Function : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => ElementwiseKernels.Erf(x);
    }

    private readonly struct Grad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
            dy * Vector256.Create(1.1283791670955126f) * Vector256.Exp(-(x * x));
    }
}
