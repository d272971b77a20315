using CompressBuild.Core.Data;
using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Training;

/// <summary>
/// Trains a model's float initializers with the executor's gradients: forward on a batch, loss on
/// one output, backward, optimizer step. Parameters are updated in place in the model.
/// </summary>
public sealed class Trainer
{
    private readonly Executor _executor;
    private readonly string _inputName;
    private readonly string _outputName;

    /// <summary>Creates a trainer for a single-input model; <paramref name="parameters"/> defaults to every trainable initializer.</summary>
    public Trainer(Model model, IOptimizer optimizer, ILoss loss, IEnumerable<string>? parameters = null, int seed = 0)
    {
        Model = model;
        _executor = new Executor(model);
        Optimizer = optimizer;
        Loss = loss;
        _inputName = _executor.Inputs.Count == 1 ? _executor.Inputs[0].Name
            : throw new CompressBuildException(ErrorCodes.InputMismatch, $"{model.DisplayName} has {_executor.Inputs.Count} inputs; training supports single-input models.");
        _outputName = model.Graph.Outputs[0].Name;
        Parameters = (parameters ?? TrainableParameters(model)).ToList();
        Seed = seed;
    }

    /// <summary>The model being trained.</summary>
    public Model Model { get; }

    /// <summary>The optimizer.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The loss.</summary>
    public ILoss Loss { get; }

    /// <summary>Names of the initializers being trained.</summary>
    public IReadOnlyList<string> Parameters { get; }

    /// <summary>Seed of batch shuffling and training-mode randomness.</summary>
    public int Seed { get; }

    /// <summary>Threads the kernels may use.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Called after every optimizer step (e.g. to re-apply pruning masks).</summary>
    public Action<Model>? AfterStep { get; init; }

    /// <summary>
    /// Float initializers that feed a differentiable input of some node: weights and biases, not
    /// shapes, axes or BatchNorm running statistics.
    /// </summary>
    public static IEnumerable<string> TrainableParameters(Model model)
    {
        var graph = model.Graph;
        var kernels = OperatorRegistry.Bind(graph.Nodes, model.Opset, model.DisplayName);
        var result = new SortedSet<string>(StringComparer.Ordinal);
        for (int n = 0; n < graph.Nodes.Count; n++)
        {
            var node = graph.Nodes[n];
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                string name = node.Inputs[i];
                if (name.Length == 0 || !graph.Initializers.TryGetValue(name, out var t) || t.DataType != DataType.Float) continue;
                if (!kernels[n].IsDifferentiable || !kernels[n].IsDifferentiableInput(i)) continue;
                if (node.OpType == "BatchNormalization" && i >= 3) continue;
                result.Add(name);
            }
        }
        return result;
    }

    /// <summary>One optimizer step on a batch; returns the batch's loss.</summary>
    public float Step(Tensor inputs, LossTarget target)
    {
        var options = new RunOptions { Training = true, MaxDegreeOfParallelism = MaxDegreeOfParallelism, Seed = Seed };
        var record = _executor.Forward(new Dictionary<string, Tensor> { [_inputName] = inputs }, options);
        var output = record.Value(_outputName, _executor);
        float loss = Loss.Compute(output, target, out var grad);
        var grads = _executor.Backward(record, new Dictionary<string, Tensor> { [_outputName] = grad }, Parameters);
        foreach (var name in Parameters)
            Optimizer.Step(name, Model.Graph.Initializers[name].Floats, grads[name].Floats);
        UpdateRunningStatistics(record);
        AfterStep?.Invoke(Model);
        return loss;
    }

    // BatchNormalization trains on batch statistics; the running mean/var initializers the model
    // uses at inference follow them with the node's momentum (ONNX's formula), as in PyTorch.
    private void UpdateRunningStatistics(ForwardRecord record)
    {
        foreach (var (node, kernel, saved) in _executor.SavedStates(record))
        {
            if (kernel is not Operators.NN.BatchNormalization bn || saved is not Operators.NN.BatchNormalization.Statistics { BatchStatistics: true } stats) continue;
            if (node.Inputs.Count < 5 || !Model.Graph.Initializers.TryGetValue(node.Inputs[3], out var mean) || !Model.Graph.Initializers.TryGetValue(node.Inputs[4], out var variance)) continue;
            float m = bn.Momentum;
            var rm = mean.Floats;
            var rv = variance.Floats;
            for (int c = 0; c < rm.Length; c++)
            {
                rm[c] = rm[c] * m + stats.Mean[c] * (1 - m);
                rv[c] = rv[c] * m + stats.Variance[c] * (1 - m);
            }
        }
    }

    /// <summary>
    /// One pass over <paramref name="data"/> in shuffled mini-batches (deterministic for a seed and
    /// epoch); <paramref name="targets"/> supplies per-batch target outputs when the loss needs them
    /// (e.g. a teacher's logits for distillation). Returns the mean batch loss.
    /// </summary>
    public float TrainEpoch(DataSet data, int batchSize, int epoch = 0, Func<Tensor, Tensor>? targets = null)
    {
        var order = Enumerable.Range(0, data.Count).ToArray();
        new Random(HashCode.Combine(Seed, epoch)).Shuffle(order);
        double total = 0;
        int batches = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            var idx = order.AsSpan(start, count);
            var x = data.Gather(idx);
            long[]? labels = data.Labels is null ? null : idx.ToArray().Select(i => data.Labels[i]).ToArray();
            total += Step(x, new LossTarget(labels, targets?.Invoke(x)));
            batches++;
        }
        return (float)(total / Math.Max(batches, 1));
    }
}
