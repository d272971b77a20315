using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>
/// LeakyRelu: y = x for x ≥ 0, alpha·x otherwise (alpha default 0.01). Opsets 1–5 (consumed_inputs
/// ignored), 6, 16 (bfloat16): float types. dx = dy for x &gt; 0, alpha·dy otherwise (PyTorch's
/// choice at 0).
/// </summary>
[OnnxOperator("LeakyRelu")]
internal sealed class LeakyRelu : UnaryFloatKernel
{
    private readonly float _alpha;

    public LeakyRelu(NodeContext ctx) : base(ctx) => _alpha = ctx.Float("alpha", 0.01f);

    protected override int Cost => 2;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => ElementwiseKernels.Map(x, y, new Function(_alpha));

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] < 0 ? _alpha * x[i] : x[i];
    }

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Input(0), new Grad(_alpha));

    private readonly struct Function(float alpha) : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) =>
            Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), x * Vector256.Create(alpha), x);
    }

    private readonly struct Grad(float alpha) : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, dy * Vector256.Create(alpha));
    }
}
