using CompressBuild.Onnx;

namespace CompressBuild.Core.Operators;

/// <summary>
/// Everything <see cref="OpKernel.Backward"/> needs: the forward inputs and outputs, saved state,
/// the gradients arriving at the outputs, and where to put input gradients.
/// </summary>
internal sealed class BackwardContext
{
    private readonly Tensor?[] _inputs;
    private readonly Tensor?[] _outputs;
    private readonly Tensor?[] _outputGrads;
    private readonly bool[] _needs;
    private readonly Tensor?[] _inputGrads;

    public BackwardContext(Tensor?[] inputs, Tensor?[] outputs, object? saved, Tensor?[] outputGrads, bool[] needsInputGrad, RunOptions options)
    {
        _inputs = inputs;
        _outputs = outputs;
        Saved = saved;
        _outputGrads = outputGrads;
        _needs = needsInputGrad;
        _inputGrads = new Tensor?[inputs.Length];
        Options = options;
    }

    /// <summary>Run options of the forward pass.</summary>
    public RunOptions Options { get; }

    /// <summary>State kept by the forward pass.</summary>
    public object? Saved { get; }

    /// <summary>A forward input.</summary>
    public Tensor Input(int i) => _inputs[i] ?? throw new InvalidOperationException($"input {i} is missing");

    /// <summary>True when input <paramref name="i"/> was present.</summary>
    public bool HasInput(int i) => i < _inputs.Length && _inputs[i] is not null;

    /// <summary>A forward output.</summary>
    public Tensor Output(int i) => _outputs[i] ?? throw new InvalidOperationException($"output {i} was not produced");

    /// <summary>The gradient arriving at output <paramref name="i"/>, or null when none flows there (zero).</summary>
    public Tensor? OutputGrad(int i) => i < _outputGrads.Length ? _outputGrads[i] : null;

    /// <summary>The gradient at output <paramref name="i"/>, or zeros of the output's shape.</summary>
    public Tensor OutputGradOrZeros(int i) => OutputGrad(i) ?? Tensor.Zeros(DataType.Float, Output(i).Shape);

    /// <summary>True when the gradient of input <paramref name="i"/> is wanted.</summary>
    public bool NeedsInputGrad(int i) => i < _needs.Length && _needs[i];

    /// <summary>Sets the gradient of input <paramref name="i"/> (same shape as the input).</summary>
    public void SetInputGrad(int i, Tensor grad)
    {
        if (!NeedsInputGrad(i)) return;
        if (!ShapeMath.SameShape(grad.Shape, Input(i).Shape))
            throw new InvalidOperationException($"gradient of input {i} has shape [{ShapeMath.Format(grad.Shape)}], the input [{ShapeMath.Format(Input(i).Shape)}]");
        _inputGrads[i] = grad;
    }

    /// <summary>The gradients set by the kernel.</summary>
    public Tensor?[] InputGrads => _inputGrads;
}
