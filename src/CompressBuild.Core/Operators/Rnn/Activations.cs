using System.Numerics.Tensors;

namespace CompressBuild.Core.Operators.Rnn;

/// <summary>The activation functions the ONNX recurrent operators accept.</summary>
internal enum RnnActivationKind
{
    Sigmoid,
    Tanh,
    Relu,
    Affine,
    LeakyRelu,
    ThresholdedRelu,
    ScaledTanh,
    HardSigmoid,
    Elu,
    Softsign,
    Softplus,
}

/// <summary>
/// One activation of an RNN/GRU/LSTM node with its alpha and beta, applied in place to a span.
/// The derivative is expressed through the activation's output, so backward needs only the saved
/// gate values; parameter choices where the output does not determine the slope are rejected.
/// </summary>
internal readonly record struct RnnActivation(RnnActivationKind Kind, float Alpha, float Beta)
{
    /// <summary>The ONNX spelling, for messages.</summary>
    public string Name => Kind.ToString();

    /// <summary>
    /// Parses the `activations`, `activation_alpha` and `activation_beta` attributes. Alphas and
    /// betas are consumed in order by the functions that take them (as ONNX Runtime does); a
    /// function whose value is not listed gets the default of the ONNX operator of that name.
    /// </summary>
    public static RnnActivation[] Parse(NodeContext ctx, string[] names)
    {
        var alphas = ctx.Floats("activation_alpha") ?? Array.Empty<float>();
        var betas = ctx.Floats("activation_beta") ?? Array.Empty<float>();
        int ia = 0, ib = 0;
        var result = new RnnActivation[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            var kind = Kinds.FirstOrDefault(k => string.Equals(k.ToString(), names[i], StringComparison.OrdinalIgnoreCase), (RnnActivationKind)(-1));
            if (!Enum.IsDefined(kind))
                throw ctx.Invalid($"activation '{names[i]}' is not one of {string.Join(", ", Kinds)}");
            var (defaultAlpha, defaultBeta, usesAlpha, usesBeta) = Defaults(kind);
            float alpha = usesAlpha && ia < alphas.Length ? alphas[ia++] : defaultAlpha;
            float beta = usesBeta && ib < betas.Length ? betas[ib++] : defaultBeta;
            result[i] = new RnnActivation(kind, alpha, beta);
        }
        return result;
    }

    private static readonly RnnActivationKind[] Kinds = Enum.GetValues<RnnActivationKind>();

    private static (float Alpha, float Beta, bool UsesAlpha, bool UsesBeta) Defaults(RnnActivationKind kind) => kind switch
    {
        RnnActivationKind.Affine => (1f, 0f, true, true),
        RnnActivationKind.LeakyRelu => (0.01f, 0f, true, false),
        RnnActivationKind.ThresholdedRelu => (1f, 0f, true, false),
        RnnActivationKind.ScaledTanh => (1f, 1f, true, true),
        RnnActivationKind.HardSigmoid => (0.2f, 0.5f, true, true),
        RnnActivationKind.Elu => (1f, 0f, true, false),
        _ => (0f, 0f, false, false),
    };

    /// <summary>x ← f(x).</summary>
    public void Apply(Span<float> x)
    {
        switch (Kind)
        {
            case RnnActivationKind.Sigmoid: TensorPrimitives.Sigmoid(x, x); break;
            case RnnActivationKind.Tanh: TensorPrimitives.Tanh(x, x); break;
            case RnnActivationKind.Relu: TensorPrimitives.Max(x, 0f, x); break;
            case RnnActivationKind.Affine:
                TensorPrimitives.Multiply(x, Alpha, x);
                TensorPrimitives.Add(x, Beta, x);
                break;
            case RnnActivationKind.ScaledTanh:
                TensorPrimitives.Multiply(x, Beta, x);
                TensorPrimitives.Tanh(x, x);
                TensorPrimitives.Multiply(x, Alpha, x);
                break;
            case RnnActivationKind.HardSigmoid:
                TensorPrimitives.Multiply(x, Alpha, x);
                TensorPrimitives.Add(x, Beta, x);
                TensorPrimitives.Clamp(x, 0f, 1f, x);
                break;
            case RnnActivationKind.LeakyRelu:
                foreach (ref float v in x) v = v >= 0f ? v : Alpha * v;
                break;
            case RnnActivationKind.ThresholdedRelu:
                foreach (ref float v in x) v = v > Alpha ? v : 0f;
                break;
            case RnnActivationKind.Elu:
                foreach (ref float v in x) v = v >= 0f ? v : Alpha * (MathF.Exp(v) - 1f);
                break;
            case RnnActivationKind.Softsign:
                foreach (ref float v in x) v /= 1f + MathF.Abs(v);
                break;
            case RnnActivationKind.Softplus:
                // log(1 + e^x) without overflow for large x.
                foreach (ref float v in x) v = v > 0f ? v + MathF.Log(1f + MathF.Exp(-v)) : MathF.Log(1f + MathF.Exp(v));
                break;
        }
    }

    /// <summary>
    /// Why backward cannot recover f'(x) from f(x) for these parameters, or null when it can.
    /// </summary>
    public string? NotDifferentiableReason => Kind switch
    {
        RnnActivationKind.LeakyRelu when !(Alpha > 0f) => "LeakyRelu with alpha <= 0",
        RnnActivationKind.ThresholdedRelu when !(Alpha > 0f) => "ThresholdedRelu with alpha <= 0",
        RnnActivationKind.ScaledTanh when Alpha == 0f => "ScaledTanh with alpha = 0",
        RnnActivationKind.Elu when !(Alpha > 0f) => "Elu with alpha <= 0",
        _ => null,
    };

    /// <summary>grad ← grad ⊙ f'(x), with f'(x) computed from y = f(x).</summary>
    public void MultiplyByDerivative(ReadOnlySpan<float> y, Span<float> grad)
    {
        switch (Kind)
        {
            case RnnActivationKind.Sigmoid:
                for (int j = 0; j < grad.Length; j++) grad[j] *= y[j] * (1f - y[j]);
                break;
            case RnnActivationKind.Tanh:
                for (int j = 0; j < grad.Length; j++) grad[j] *= 1f - y[j] * y[j];
                break;
            case RnnActivationKind.Relu:
                for (int j = 0; j < grad.Length; j++) if (!(y[j] > 0f)) grad[j] = 0f;
                break;
            case RnnActivationKind.Affine:
                TensorPrimitives.Multiply(grad, Alpha, grad);
                break;
            case RnnActivationKind.LeakyRelu:
                for (int j = 0; j < grad.Length; j++) if (y[j] < 0f) grad[j] *= Alpha;
                break;
            case RnnActivationKind.ThresholdedRelu:
                for (int j = 0; j < grad.Length; j++) if (y[j] == 0f) grad[j] = 0f;
                break;
            case RnnActivationKind.ScaledTanh:
                for (int j = 0; j < grad.Length; j++)
                {
                    float t = y[j] / Alpha;
                    grad[j] *= Alpha * Beta * (1f - t * t);
                }
                break;
            case RnnActivationKind.HardSigmoid:
                for (int j = 0; j < grad.Length; j++) grad[j] = y[j] > 0f && y[j] < 1f ? grad[j] * Alpha : 0f;
                break;
            case RnnActivationKind.Elu:
                for (int j = 0; j < grad.Length; j++) if (y[j] < 0f) grad[j] *= y[j] + Alpha;
                break;
            case RnnActivationKind.Softsign:
                for (int j = 0; j < grad.Length; j++)
                {
                    float s = 1f - MathF.Abs(y[j]);
                    grad[j] *= s * s;
                }
                break;
            case RnnActivationKind.Softplus:
                for (int j = 0; j < grad.Length; j++) grad[j] *= -float.ExpM1(-y[j]);
                break;
        }
    }
}
