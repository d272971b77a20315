using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>
/// HardSigmoid: y = max(0, min(1, alpha·x + beta)), alpha default 0.2, beta 0.5. Opsets 1–5
/// (consumed_inputs ignored) and 6+: float types. dx = alpha·dy where 0 &lt; alpha·x + beta &lt; 1.
/// </summary>
[OnnxOperator("HardSigmoid")]
internal sealed class HardSigmoid : UnaryFloatKernel
{
    private readonly float _alpha;
    private readonly float _beta;

    public HardSigmoid(NodeContext ctx) : base(ctx)
    {
        _alpha = ctx.Float("alpha", 0.2f);
        _beta = ctx.Float("beta", 0.5f);
    }

    protected override int Cost => 2;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => ElementwiseKernels.Map(x, y, new Function(_alpha, _beta));

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = Math.Max(0, Math.Min(1, _alpha * x[i] + _beta));
    }

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, ctx.Input(0), new Grad(_alpha, _beta));

    /// <summary>max(0, min(1, alpha·x + beta)) (shared with HardSwish).</summary>
    internal readonly struct Function(float alpha, float beta) : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) =>
            Vector256.Max(Vector256<float>.Zero, Vector256.Min(Vector256<float>.One, x * Vector256.Create(alpha) + Vector256.Create(beta)));
    }

    private readonly struct Grad(float alpha, float beta) : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var z = x * Vector256.Create(alpha) + Vector256.Create(beta);
            return dy * Vector256.Create(alpha) & Vector256.GreaterThan(z, Vector256<float>.Zero) & Vector256.LessThan(z, Vector256<float>.One);
        }
    }
}
