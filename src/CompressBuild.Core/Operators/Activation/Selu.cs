using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>
/// Selu: y = gamma·x for x &gt; 0, gamma·alpha·(eˣ − 1) otherwise, with ONNX's defaults
/// alpha = 1.67326319217681884765625, gamma = 1.05070102214813232421875. Opsets 1–5
/// (consumed_inputs ignored) and 6+: float types. dx = gamma·dy above zero, dy·(y + gamma·alpha) below.
/// </summary>
[OnnxOperator("Selu")]
internal sealed class Selu : UnaryFloatKernel
{
    private readonly float _alpha;
    private readonly float _gamma;

    public Selu(NodeContext ctx) : base(ctx)
    {
        _alpha = ctx.Float("alpha", 1.67326319217681884765625f);
        _gamma = ctx.Float("gamma", 1.05070102214813232421875f);
    }

    protected override int Cost => 10;

    protected override void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        ElementwiseKernels.Map(x, y, new Elu.Function(_alpha));
        TensorPrimitives.Multiply(y, _gamma, y);
    }

    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = _gamma * (x[i] > 0 ? x[i] : _alpha * (Math.Exp(x[i]) - 1));
    }

    public override void Backward(BackwardContext ctx) => SetGrad(ctx, new Elu.Grad(_alpha, _gamma));
}
