using CompressBuild.Onnx;

namespace CompressBuild.Core.Operators;

/// <summary>Inputs, output allocation and run options for one <see cref="OpKernel.Forward"/> call.</summary>
internal sealed class ForwardContext
{
    private readonly OpKernel _kernel;
    private readonly Tensor?[] _inputs;
    private readonly ValueFacts?[] _outputFacts;
    private readonly Tensor?[] _outputs;

    public ForwardContext(OpKernel kernel, Tensor?[] inputs, ValueFacts?[] outputFacts, RunOptions options, bool recording)
    {
        _kernel = kernel;
        _inputs = inputs;
        _outputFacts = outputFacts;
        _outputs = new Tensor?[outputFacts.Length];
        Options = options;
        Recording = recording;
    }

    /// <summary>Run options: training mode, parallelism, random seed.</summary>
    public RunOptions Options { get; }

    /// <summary>True in training mode (Dropout drops, BatchNormalization uses batch statistics).</summary>
    public bool Training => Options.Training;

    /// <summary>True when <see cref="OpKernel.Backward"/> will be called: keep what it needs in <see cref="Saved"/>.</summary>
    public bool Recording { get; }

    /// <summary>State the kernel keeps for its backward pass (e.g. max-pool argmax indices).</summary>
    public object? Saved { get; set; }

    /// <summary>Number of input slots.</summary>
    public int InputCount => _inputs.Length;

    /// <summary>True when input <paramref name="i"/> is present.</summary>
    public bool HasInput(int i) => i < _inputs.Length && _inputs[i] is not null;

    /// <summary>A present input.</summary>
    public Tensor Input(int i) => HasInput(i) ? _inputs[i]! : throw _kernel.ShapeError($"input {i} is required but missing");

    /// <summary>An optional input, or null.</summary>
    public Tensor? OptionalInput(int i) => HasInput(i) ? _inputs[i] : null;

    /// <summary>True when output <paramref name="i"/> is wanted.</summary>
    public bool HasOutput(int i) => i < _outputFacts.Length && _outputFacts[i] is not null;

    /// <summary>The inferred concrete shape of output <paramref name="i"/>.</summary>
    public int[] OutputShape(int i) => Dim.ToShape(Facts(i).Shape ?? throw _kernel.ShapeError($"output {i} has no inferred shape"));

    /// <summary>
    /// Output <paramref name="i"/>, allocated on first use with its inferred type and shape.
    /// Its elements are NOT initialised: the kernel must write every one.
    /// </summary>
    public Tensor Output(int i)
    {
        if (_outputs[i] is { } t) return t;
        var f = Facts(i);
        t = Tensor.Allocate(f.Type, OutputShape(i));
        _outputs[i] = t;
        return t;
    }

    /// <summary>Output <paramref name="i"/> allocated and zero-filled.</summary>
    public Tensor OutputZeros(int i)
    {
        var t = Output(i);
        if (t.DataType != DataType.String) Array.Clear(t.Data);
        return t;
    }

    /// <summary>Sets output <paramref name="i"/> to an existing tensor (e.g. a reshaped view of an input).</summary>
    public void SetOutput(int i, Tensor tensor) => _outputs[i] = tensor;

    /// <summary>The produced outputs (null where not produced).</summary>
    public Tensor?[] Outputs => _outputs;

    private ValueFacts Facts(int i) => _outputFacts[i] ?? throw _kernel.ShapeError($"output {i} was not inferred");
}
