using System.Numerics.Tensors;

namespace CompressBuild.Core.Training;

/// <summary>Updates parameters in place from their gradients.</summary>
public interface IOptimizer
{
    /// <summary>Applies one step to <paramref name="parameter"/> (named, so state is kept per parameter).</summary>
    void Step(string name, Span<float> parameter, ReadOnlySpan<float> gradient);
}

/// <summary>Stochastic gradient descent with optional momentum and L2 weight decay.</summary>
public sealed class Sgd : IOptimizer
{
    private readonly Dictionary<string, float[]> _velocity = new(StringComparer.Ordinal);

    /// <summary>Creates the optimizer.</summary>
    public Sgd(float learningRate, float momentum = 0f, float weightDecay = 0f)
    {
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    /// <summary>Step size.</summary>
    public float LearningRate { get; set; }

    /// <summary>Momentum factor (0 = plain SGD).</summary>
    public float Momentum { get; }

    /// <summary>L2 penalty factor.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    public void Step(string name, Span<float> parameter, ReadOnlySpan<float> gradient)
    {
        Span<float> g = gradient.Length <= 0 ? Span<float>.Empty : new float[gradient.Length];
        gradient.CopyTo(g);
        if (WeightDecay != 0f) TensorPrimitives.MultiplyAdd(parameter, WeightDecay, g, g);
        if (Momentum != 0f)
        {
            if (!_velocity.TryGetValue(name, out var v)) _velocity[name] = v = new float[parameter.Length];
            TensorPrimitives.MultiplyAdd(v, Momentum, g, v);
            g = v;
        }
        TensorPrimitives.MultiplyAdd(g, -LearningRate, parameter, parameter);
    }
}

/// <summary>Adam (Kingma &amp; Ba) with optional decoupled weight decay (AdamW).</summary>
public sealed class Adam : IOptimizer
{
    private readonly Dictionary<string, (float[] M, float[] V, int T)> _state = new(StringComparer.Ordinal);

    /// <summary>Creates the optimizer (PyTorch's defaults).</summary>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
    {
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>Step size.</summary>
    public float LearningRate { get; set; }

    /// <summary>First-moment decay.</summary>
    public float Beta1 { get; }

    /// <summary>Second-moment decay.</summary>
    public float Beta2 { get; }

    /// <summary>Denominator guard.</summary>
    public float Epsilon { get; }

    /// <summary>Decoupled weight decay factor.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    public void Step(string name, Span<float> parameter, ReadOnlySpan<float> gradient)
    {
        if (!_state.TryGetValue(name, out var s)) s = (new float[parameter.Length], new float[parameter.Length], 0);
        int t = s.T + 1;
        _state[name] = (s.M, s.V, t);
        var m = s.M;
        var v = s.V;
        float b1 = Beta1, b2 = Beta2;
        float c1 = 1f / (1f - MathF.Pow(b1, t));
        float c2 = 1f / (1f - MathF.Pow(b2, t));
        float lr = LearningRate;
        float decay = 1f - lr * WeightDecay;
        for (int i = 0; i < parameter.Length; i++)
        {
            float g = gradient[i];
            m[i] = b1 * m[i] + (1f - b1) * g;
            v[i] = b2 * v[i] + (1f - b2) * g * g;
            float mh = m[i] * c1;
            float vh = v[i] * c2;
            parameter[i] = parameter[i] * decay - lr * mh / (MathF.Sqrt(vh) + Epsilon);
        }
    }
}
