using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>
/// Elu: y = x for x &gt; 0, alpha·(eˣ − 1) otherwise (alpha default 1). Opsets 1–5 (consumed_inputs
/// ignored) and 6+: float types. dx = dy for x &gt; 0, dy·(y + alpha) otherwise.
/// </summary>
[OnnxOperator("Elu")]
internal sealed class Elu : UnaryFloatKernel
{
    private readonly float _alpha;

    public Elu(NodeContext ctx) : base(ctx) => _alpha = ctx.Float("alpha", 1f);

    protected override int Cost => 10;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => ElementwiseKernels.Map(x, y, new Function(_alpha));

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : _alpha * (Math.Exp(x[i]) - 1);
    }

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, new Grad(_alpha, 1f));

    /// <summary>alpha·(eˣ − 1) below zero, x above (shared with Selu).</summary>
    internal readonly struct Function(float alpha) : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x,
                Vector256.Create(alpha) * ElementwiseKernels.ExpM1(x));
    }

    /// <summary>For y = scale·elu(x): dx = scale·dy above zero, dy·(y + scale·alpha) below (shared with Selu).</summary>
    internal readonly struct Grad(float alpha, float scale) : IVectorFunction3
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y, Vector256<float> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy * Vector256.Create(scale),
                dy * (y + Vector256.Create(scale * alpha)));
    }
}
