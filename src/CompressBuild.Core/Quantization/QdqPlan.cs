using CompressBuild.Core.Passes;

namespace CompressBuild.Core.Quantization;

/// <summary>
/// Which parts of a float graph a QDQ model quantizes: the Conv/Gemm/MatMul layers with int8
/// weights, the activation tensors that get a QuantizeLinear/DequantizeLinear pair, and the ops
/// left to run in float. Names only, so one plan serves every variant (CLE, bias correction) of a
/// model whose structure is the same.
/// </summary>
internal sealed class QdqPlan
{
    /// <summary>Data-movement ops an integer kernel runs on uint8 with their input's scale and zero point.</summary>
    private static readonly HashSet<string> PassThrough = new(StringComparer.Ordinal)
        { "MaxPool", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze" };

    private QdqPlan(List<string> layers, List<QdqTensor> tensors, List<string> floatOps, Dictionary<string, string> layerOutputs)
    {
        Layers = layers;
        LayerOutputs = layerOutputs;
        Tensors = tensors;
        FloatOps = floatOps;
    }

    /// <summary>Names of the quantized Conv/Gemm/MatMul nodes, in topological order.</summary>
    public IReadOnlyList<string> Layers { get; }

    /// <summary>
    /// Each quantized layer's output as the next layer sees it: the output of a fused ReLU/Clip,
    /// else the layer's own (absent in weight-only plans).
    /// </summary>
    public IReadOnlyDictionary<string, string> LayerOutputs { get; }

    /// <summary>Activation tensors that get Q/DQ, in topological order.</summary>
    public IReadOnlyList<QdqTensor> Tensors { get; }

    /// <summary>
    /// Ops that run in float ("name (op)"): with int8 activations every op outside the integer
    /// path; weight-only, the layers whose weights stay float.
    /// </summary>
    public IReadOnlyList<string> FloatOps { get; }

    /// <summary>Tensors whose range calibration measures (the others share one of these).</summary>
    public IEnumerable<string> Calibrated => Tensors.Where(t => t.ParamsOf == t.Name).Select(t => t.Name);

    /// <summary>True for the ops whose weights a QDQ model stores as int8.</summary>
    public static bool IsLayerOp(string op) => op is "Conv" or "Gemm" or "MatMul";

    /// <summary>Plans a model whose nodes all have unique names.</summary>
    public static QdqPlan Build(Model model, IReadOnlySet<string> floatNodes, bool activations)
    {
        var graph = model.Graph;
        var order = graph.TopologicalOrder(model.DisplayName);
        var layers = order.Where(n => IsLayerOp(n.OpType) && !floatNodes.Contains(n.Name) && HasOwnWeight(graph, n)).Select(n => n.Name).ToList();
        var tensors = new List<QdqTensor>();
        var floatOps = new List<string>();
        var layerOutputs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!activations)
        {
            floatOps.AddRange(order.Where(n => IsLayerOp(n.OpType) && !layers.Contains(n.Name)).Select(Describe));
            return new QdqPlan(layers, tensors, floatOps, layerOutputs);
        }

        var quantized = new Dictionary<string, QdqTensor>(StringComparer.Ordinal);
        void Quantize(string name, string paramsOf)
        {
            if (quantized.ContainsKey(name)) return;
            var t = new QdqTensor(name, paramsOf);
            quantized[name] = t;
            tensors.Add(t);
        }

        var fusedActivations = new HashSet<Node>();
        foreach (var n in order)
        {
            if (layers.Contains(n.Name))
            {
                Quantize(n.Inputs[0], n.Inputs[0]);
                // A ReLU/Clip right after the layer is quantized instead of the layer's output, so
                // the range starts at the activation's bound and an integer kernel clips by saturation.
                string output = n.Outputs[0];
                if (FusedActivation(graph, output) is { } act)
                {
                    fusedActivations.Add(act);
                    output = act.Outputs[0];
                }
                Quantize(output, output);
                layerOutputs[n.Name] = output;
            }
            else if (fusedActivations.Contains(n))
            {
                continue;
            }
            else if (PassThrough.Contains(n.OpType) && quantized.TryGetValue(n.Inputs[0], out var input))
            {
                Quantize(n.Outputs[0], input.ParamsOf);
            }
            else if (n.OpType == "Concat" && n.Inputs.All(quantized.ContainsKey))
            {
                // Inputs that share parameters concatenate on uint8; otherwise the output needs its own range.
                var shared = n.Inputs.Select(i => quantized[i].ParamsOf).Distinct().ToList();
                Quantize(n.Outputs[0], shared.Count == 1 ? shared[0] : n.Outputs[0]);
            }
            else if (n.OpType is "Relu" or "Clip" && quantized.ContainsKey(n.Inputs[0]))
            {
                // The output range differs from the input's: calibrated on its own.
                Quantize(n.Outputs[0], n.Outputs[0]);
            }
            else
            {
                floatOps.Add(Describe(n));
            }
        }

        // A graph input read through a pass-through op (Flatten before the first Gemm) is quantized
        // with the op's output parameters, so the model quantizes once, at its input.
        var inputs = graph.RuntimeInputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var n in order)
        {
            if (PassThrough.Contains(n.OpType) && inputs.Contains(n.Inputs[0]) && quantized.TryGetValue(n.Outputs[0], out var output)
                && !quantized.ContainsKey(n.Inputs[0]))
            {
                var t = new QdqTensor(n.Inputs[0], output.ParamsOf);
                quantized[t.Name] = t;
                tensors.Insert(0, t);
            }
        }
        // Pass-through ops whose output is quantized run on uint8; everything else listed stays float.
        floatOps.RemoveAll(d => order.Any(n => Describe(n) == d && PassThrough.Contains(n.OpType) && quantized.ContainsKey(n.Outputs[0])));
        return new QdqPlan(layers, tensors, floatOps, layerOutputs);
    }

    /// <summary>"name (op)", as the report lists float ops.</summary>
    public static string Describe(Node n) => $"{n.Name} ({n.OpType})";

    // The weight is a float initializer read only by this node (a shared weight would force one
    // precision on every reader) and the input is not a constant.
    private static bool HasOwnWeight(Graph graph, Node n)
    {
        if (!n.HasInput(1) || GraphEdits.Constant(graph, n.Inputs[1]) is not { DataType: DataType.Float } w) return false;
        if (GraphEdits.Constant(graph, n.Inputs[0]) is not null) return false;
        if (!GraphEdits.OnlyFeeds(graph, n.Inputs[1], n) || graph.RuntimeInputs.Any(i => i.Name == n.Inputs[1])) return false;
        return n.OpType != "MatMul" || w.Rank == 2;
    }

    private static Node? FusedActivation(Graph graph, string output)
    {
        if (graph.IsOutput(output)) return null;
        var consumers = graph.Consumers(output).ToList();
        if (consumers.Count != 1) return null;
        var act = consumers[0];
        if (act.OpType == "Relu") return act;
        bool constantBounds = act.Inputs.Skip(1).All(i => i.Length == 0 || GraphEdits.Constant(graph, i) is not null);
        return act.OpType == "Clip" && act.Inputs[0] == output && constantBounds ? act : null;
    }
}

/// <summary>An activation tensor that gets Q/DQ, and the tensor whose calibrated range it uses.</summary>
internal sealed record QdqTensor(string Name, string ParamsOf);
