using System.Numerics.Tensors;
using CompressBuild.Core.Operators;
using CompressBuild.Onnx;

namespace CompressBuild.Core.Execution;

/// <summary>
/// The reference executor: runs a model's graph with exact ONNX semantics, and (after a recorded
/// forward pass) computes gradients of chosen values with respect to inputs and initializers.
/// </summary>
/// <remarks>
/// Construction validates the graph and binds a kernel to every node; every unsupported node is
/// reported at once (CB3001). Initializer tensors are shared with the model, so a trainer that
/// updates them in place changes what the next run computes.
/// </remarks>
public sealed class Executor
{
    private readonly Model _model;
    private readonly Node[] _nodes;
    private readonly OpKernel[] _kernels;
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly string[] _slotNames;
    private readonly int[][] _nodeInputs;
    private readonly int[][] _nodeOutputs;
    private readonly int[] _lastUse;
    private readonly int[] _graphOutputs;
    private readonly ValueInfo[] _runtimeInputs;

    /// <summary>Binds the model; throws <see cref="CompressBuildException"/> for invalid or unsupported models.</summary>
    public Executor(Model model)
    {
        _model = model;
        var graph = model.Graph;
        _nodes = graph.TopologicalOrder(model.DisplayName).ToArray();
        _kernels = OperatorRegistry.Bind(_nodes, model.Opset, model.DisplayName);

        int Slot(string name)
        {
            if (!_slots.TryGetValue(name, out int s))
            {
                s = _slots.Count;
                _slots[name] = s;
            }
            return s;
        }
        foreach (var i in graph.Inputs) Slot(i.Name);
        foreach (var k in graph.Initializers.Keys) Slot(k);
        _nodeInputs = new int[_nodes.Length][];
        _nodeOutputs = new int[_nodes.Length][];
        for (int n = 0; n < _nodes.Length; n++)
        {
            _nodeInputs[n] = _nodes[n].Inputs.Select(x => x.Length == 0 ? -1 : Slot(x)).ToArray();
            _nodeOutputs[n] = _nodes[n].Outputs.Select(x => x.Length == 0 ? -1 : Slot(x)).ToArray();
        }
        _graphOutputs = graph.Outputs.Select(o => Slot(o.Name)).ToArray();
        _slotNames = new string[_slots.Count];
        foreach (var (name, s) in _slots) _slotNames[s] = name;

        _lastUse = new int[_slots.Count];
        Array.Fill(_lastUse, -1);
        for (int n = 0; n < _nodes.Length; n++)
            foreach (int s in _nodeInputs[n])
                if (s >= 0) _lastUse[s] = n;
        foreach (int s in _graphOutputs) _lastUse[s] = int.MaxValue;
        _runtimeInputs = graph.RuntimeInputs.ToArray();
    }

    /// <summary>The model being run.</summary>
    public Model Model => _model;

    /// <summary>Inputs the caller must provide, in graph order.</summary>
    public IReadOnlyList<ValueInfo> Inputs => _runtimeInputs;

    /// <summary>Graph outputs in order.</summary>
    public IReadOnlyList<ValueInfo> Outputs => _model.Graph.Outputs;

    /// <summary>Each node's kernel with the state its recorded forward pass kept.</summary>
    internal IEnumerable<(Node Node, OpKernel Kernel, object? Saved)> SavedStates(ForwardRecord record)
    {
        for (int n = 0; n < _nodes.Length; n++) yield return (_nodes[n], _kernels[n], record.Saved[n]);
    }

    internal int SlotOf(string name) => _slots.TryGetValue(name, out int s) ? s : throw new ArgumentException($"'{name}' is not a value of the model", nameof(name));

    /// <summary>Runs the model on inputs given in graph-input order; returns outputs in graph-output order.</summary>
    public Tensor[] Run(params Tensor[] inputs) => Run(inputs, RunOptions.Default);

    /// <summary>Runs the model on inputs given in graph-input order.</summary>
    public Tensor[] Run(IReadOnlyList<Tensor> inputs, RunOptions options)
    {
        if (inputs.Count != _runtimeInputs.Length)
            throw new CompressBuildException(ErrorCodes.InputMismatch,
                $"{_model.DisplayName} takes {_runtimeInputs.Length} input(s) ({string.Join(", ", _runtimeInputs.Select(i => i.ToString()))}), {inputs.Count} given.");
        var named = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < inputs.Count; i++) named[_runtimeInputs[i].Name] = inputs[i];
        var values = Execute(named, options, record: null);
        return _graphOutputs.Select(s => values[s]!).ToArray();
    }

    /// <summary>Runs the model on named inputs; returns outputs by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, RunOptions? options = null)
    {
        var values = Execute(inputs, options ?? RunOptions.Default, record: null);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (int s in _graphOutputs) result[_slotNames[s]] = values[s]!;
        return result;
    }

    /// <summary>
    /// Runs the model and keeps every intermediate value and kernel state for <see cref="Backward"/>.
    /// </summary>
    public ForwardRecord Forward(IReadOnlyDictionary<string, Tensor> inputs, RunOptions? options = null)
    {
        var record = new ForwardRecord(_nodes.Length, options ?? RunOptions.Default);
        var values = Execute(inputs, record.Options, record);
        record.Values = values;
        return record;
    }

    /// <summary>
    /// Reverse-mode gradients: given gradients of some values (usually graph outputs) from a recorded
    /// forward pass, returns the gradients of the values named in <paramref name="wrt"/> (inputs or
    /// initializers). A value no gradient reaches gets a zero tensor.
    /// </summary>
    public Dictionary<string, Tensor> Backward(ForwardRecord record, IReadOnlyDictionary<string, Tensor> seeds, IEnumerable<string> wrt)
    {
        var values = record.Values ?? throw new InvalidOperationException("the record has no forward pass");
        var wanted = new HashSet<int>(wrt.Select(w => _slots.TryGetValue(w, out int s) ? s : throw new ArgumentException($"'{w}' is not a value of the model", nameof(wrt))));

        // A value needs a gradient when it lies on a path from a wanted value to the seeds.
        var dependsOnWanted = new bool[_slots.Count];
        foreach (int s in wanted) dependsOnWanted[s] = true;
        var nodeNeeded = new bool[_nodes.Length];
        for (int n = 0; n < _nodes.Length; n++)
        {
            bool any = false;
            for (int k = 0; k < _nodeInputs[n].Length; k++)
            {
                int s = _nodeInputs[n][k];
                if (s >= 0 && dependsOnWanted[s] && _kernels[n].IsDifferentiableInput(k)) any = true;
            }
            if (!any) continue;
            nodeNeeded[n] = true;
            foreach (int s in _nodeOutputs[n])
                if (s >= 0) dependsOnWanted[s] = true;
        }

        var grads = new Tensor?[_slots.Count];
        foreach (var (name, g) in seeds)
        {
            int s = _slots.TryGetValue(name, out int v) ? v : throw new ArgumentException($"'{name}' is not a value of the model", nameof(seeds));
            Accumulate(grads, s, g);
        }

        for (int n = _nodes.Length - 1; n >= 0; n--)
        {
            if (!nodeNeeded[n]) continue;
            var outs = _nodeOutputs[n];
            var outGrads = new Tensor?[outs.Length];
            bool anyGrad = false;
            for (int k = 0; k < outs.Length; k++)
            {
                if (outs[k] >= 0 && grads[outs[k]] is { } g)
                {
                    outGrads[k] = g;
                    anyGrad = true;
                }
            }
            if (!anyGrad) continue;
            var ins = _nodeInputs[n];
            var needs = new bool[ins.Length];
            for (int k = 0; k < ins.Length; k++)
                needs[k] = ins[k] >= 0 && dependsOnWanted[ins[k]] && _kernels[n].IsDifferentiableInput(k);
            var ctx = new BackwardContext(record.Inputs[n]!, record.Outputs[n]!, record.Saved[n], outGrads, needs, record.Options);
            try
            {
                _kernels[n].Backward(ctx);
            }
            catch (Exception e) when (e is not CompressBuildException)
            {
                throw new CompressBuildException(ErrorCodes.ExecutionFailed,
                    $"{_model.DisplayName}: backward of node {_nodes[n].DisplayName} failed: {e.Message}", e);
            }
            for (int k = 0; k < ins.Length; k++)
                if (needs[k] && ctx.InputGrads[k] is { } ig) Accumulate(grads, ins[k], ig);
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (int s in wanted)
            result[_slotNames[s]] = grads[s] ?? Tensor.Zeros(DataType.Float, values[s]!.Shape);
        return result;
    }

    private static void Accumulate(Tensor?[] grads, int slot, Tensor g)
    {
        if (grads[slot] is not { } existing)
        {
            grads[slot] = g;
            return;
        }
        // Kernels may return views of their output gradient, so sums go to a fresh tensor.
        var sum = Tensor.Allocate(DataType.Float, existing.Shape);
        TensorPrimitives.Add(existing.Floats, g.Floats, sum.Floats);
        grads[slot] = sum;
    }

    private Tensor?[] Execute(IReadOnlyDictionary<string, Tensor> inputs, RunOptions options, ForwardRecord? record)
    {
        var values = new Tensor?[_slots.Count];
        foreach (var (name, t) in _model.Graph.Initializers) values[_slots[name]] = t;
        foreach (var info in _runtimeInputs)
        {
            if (!inputs.TryGetValue(info.Name, out var t))
                throw new CompressBuildException(ErrorCodes.InputMismatch,
                    $"{_model.DisplayName}: input '{info.Name}' ({info}) was not given. Provide one tensor per model input.");
            CheckInput(info, t);
            values[_slots[info.Name]] = t;
        }
        foreach (var name in inputs.Keys)
            if (!_runtimeInputs.Any(i => i.Name == name) && !_model.Graph.Initializers.ContainsKey(name))
                throw new CompressBuildException(ErrorCodes.InputMismatch,
                    $"{_model.DisplayName} has no input named '{name}'; its inputs are {string.Join(", ", _runtimeInputs.Select(i => i.Name))}.");

        for (int n = 0; n < _nodes.Length; n++)
        {
            var kernel = _kernels[n];
            var ins = _nodeInputs[n];
            var inTensors = new Tensor?[ins.Length];
            var facts = new ValueFacts?[ins.Length];
            for (int k = 0; k < ins.Length; k++)
            {
                if (ins[k] < 0) continue;
                inTensors[k] = values[ins[k]] ?? throw new InvalidOperationException($"value '{_slotNames[ins[k]]}' was not computed before node {_nodes[n].DisplayName}");
                facts[k] = ValueFacts.Of(inTensors[k]!);
            }
            Tensor?[] outputs;
            try
            {
                var sctx = new ShapeContext(kernel, facts, _nodeOutputs[n].Length);
                kernel.InferShapes(sctx);
                var outFacts = new ValueFacts?[_nodeOutputs[n].Length];
                for (int k = 0; k < outFacts.Length; k++)
                    if (_nodeOutputs[n][k] >= 0) outFacts[k] = sctx.Output(k);
                var fctx = new ForwardContext(kernel, inTensors, outFacts, options, record is not null);
                kernel.Forward(fctx);
                outputs = fctx.Outputs;
                if (record is not null)
                {
                    record.Inputs[n] = inTensors;
                    record.Outputs[n] = outputs;
                    record.Saved[n] = fctx.Saved;
                }
            }
            catch (UnresolvedDimException e)
            {
                throw new CompressBuildException(ErrorCodes.ShapeMismatch, $"{_model.DisplayName}: node {_nodes[n].DisplayName}: {e.Message}", e);
            }
            catch (Exception e) when (e is not CompressBuildException)
            {
                throw new CompressBuildException(ErrorCodes.ExecutionFailed,
                    $"{_model.DisplayName}: node {_nodes[n].DisplayName} failed: {e.Message}", e);
            }

            var outs = _nodeOutputs[n];
            for (int k = 0; k < outs.Length; k++)
            {
                if (outs[k] < 0) continue;
                values[outs[k]] = outputs[k] ?? throw new CompressBuildException(ErrorCodes.ExecutionFailed,
                    $"{_model.DisplayName}: node {_nodes[n].DisplayName} did not produce output {k} ('{_nodes[n].Outputs[k]}').");
            }
            if (record is null)
            {
                // Drop intermediates after their last reader so large models run in bounded memory.
                foreach (int s in ins)
                    if (s >= 0 && _lastUse[s] == n && !_model.Graph.Initializers.ContainsKey(_slotNames[s])) values[s] = null;
            }
        }
        return values;
    }

    private void CheckInput(ValueInfo info, Tensor t)
    {
        if (info.ElementType != DataType.Undefined && info.IsTensor && t.DataType != info.ElementType)
            throw new CompressBuildException(ErrorCodes.InputMismatch,
                $"{_model.DisplayName}: input '{info.Name}' must be {DataTypes.OnnxName(info.ElementType)}, got {DataTypes.OnnxName(t.DataType)}.");
        if (info.Shape is { } shape)
        {
            bool ok = shape.Length == t.Rank;
            for (int i = 0; ok && i < shape.Length; i++)
                if (shape[i].IsKnown && shape[i].Value != t.Shape[i]) ok = false;
            if (!ok)
                throw new CompressBuildException(ErrorCodes.InputMismatch,
                    $"{_model.DisplayName}: input '{info.Name}' must have shape {Dim.Format(shape)}, got [{ShapeMath.Format(t.Shape)}].");
        }
    }
}
