using CompressBuild.Core.Operators;
using CompressBuild.Onnx;

namespace CompressBuild.Core.Execution;

/// <summary>What a recorded forward pass keeps for <see cref="Executor.Backward"/>.</summary>
public sealed class ForwardRecord
{
    internal ForwardRecord(int nodes, RunOptions options)
    {
        Inputs = new Tensor?[nodes][];
        Outputs = new Tensor?[nodes][];
        Saved = new object?[nodes];
        Options = options;
    }

    internal Tensor?[]?[] Inputs { get; }
    internal Tensor?[]?[] Outputs { get; }
    internal object?[] Saved { get; }
    internal Tensor?[]? Values { get; set; }

    /// <summary>A value computed by the forward pass (an output or any intermediate).</summary>
    public Tensor Value(string name, Executor executor) => Values![executor.SlotOf(name)]
        ?? throw new ArgumentException($"'{name}' was not computed", nameof(name));

    /// <summary>The options the forward pass ran with.</summary>
    public RunOptions Options { get; }
}
