using CompressBuild.Core.Operators;
using CompressBuild.Core.Shapes;

namespace CompressBuild.Core.Analysis;

/// <summary>Counts of a model: operators, parameters, bytes, and multiply-accumulates per sample.</summary>
public sealed class ModelStats
{
    private ModelStats()
    {
    }

    /// <summary>Node count per op type, sorted by op type.</summary>
    public IReadOnlyList<(string OpType, int Count, bool Supported)> Operators { get; private init; } = Array.Empty<(string, int, bool)>();

    /// <summary>Float elements in initializers that feed trainable inputs (weights and biases).</summary>
    public long Parameters { get; private init; }

    /// <summary>Nonzero elements among <see cref="Parameters"/>.</summary>
    public long NonzeroParameters { get; private init; }

    /// <summary>Bytes of all initializers as stored.</summary>
    public long InitializerBytes { get; private init; }

    /// <summary>Multiply-accumulates of one sample (batch 1) in Conv, ConvTranspose, Gemm, MatMul and RNNs; null when shapes are unknown.</summary>
    public long? MacsPerSample { get; private init; }

    /// <summary>Unsupported nodes (empty when the executor can run the model).</summary>
    public IReadOnlyList<Node> UnsupportedNodes { get; private init; } = Array.Empty<Node>();

    /// <summary>Computes the statistics (shape inference is lenient: MACs are null if shapes do not resolve).</summary>
    public static ModelStats Of(Model model)
    {
        var graph = model.Graph;
        int opset = model.Opset;
        var unsupported = graph.Nodes.Where(n => !OperatorRegistry.IsSupported(n, opset)).ToList();
        var ops = graph.Nodes.GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count(), g.All(n => OperatorRegistry.IsSupported(n, opset)))).ToList();

        var weights = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        {
            int[] weightInputs = n.OpType switch
            {
                "Conv" or "ConvTranspose" or "Gemm" or "PRelu" => new[] { 1, 2 },
                "MatMul" => new[] { 0, 1 },
                "BatchNormalization" or "LayerNormalization" => new[] { 1, 2 },
                "LSTM" or "GRU" => new[] { 1, 2, 3, 7 },
                _ => Array.Empty<int>(),
            };
            foreach (int i in weightInputs)
                if (i < n.Inputs.Count && graph.Initializers.ContainsKey(n.Inputs[i])) weights.Add(n.Inputs[i]);
        }
        long parameters = 0, nonzero = 0;
        foreach (var w in weights)
        {
            var t = graph.Initializers[w];
            parameters += t.Length;
            for (int i = 0; i < t.Length; i++)
                if (t.GetDouble(i) != 0) nonzero++;
        }
        long bytes = graph.Initializers.Values.Sum(t => t.DataType == DataType.String ? 0L : (long)t.Length * DataTypes.Size(t.DataType));

        long? macs = null;
        if (unsupported.Count == 0)
        {
            try
            {
                var shapes = ShapeInference.Run(model, strict: false);
                macs = graph.Nodes.Sum(n => Macs(n, shapes) ?? 0);
            }
            catch (CompressBuildException)
            {
                macs = null;
            }
        }
        return new ModelStats
        {
            Operators = ops,
            Parameters = parameters,
            NonzeroParameters = nonzero,
            InitializerBytes = bytes,
            MacsPerSample = macs,
            UnsupportedNodes = unsupported,
        };
    }

    /// <summary>Multiply-accumulates of one node for batch 1, or null when shapes are unknown.</summary>
    public static long? Macs(Node node, ShapeInferenceResult shapes)
    {
        long PerSample(Dim[]? s) => s is null ? -1 : s.Skip(1).Aggregate(1L, (a, d) => d.IsKnown ? a * d.Value : -1);
        switch (node.OpType)
        {
            case "Conv":
            {
                var w = shapes.ShapeOf(node.Inputs[1]);
                long outElems = PerSample(shapes.ShapeOf(node.Outputs[0]));
                if (w is null || outElems < 0 || w.Any(d => !d.IsKnown)) return null;
                return outElems * w.Skip(1).Aggregate(1L, (a, d) => a * d.Value);
            }
            case "ConvTranspose":
            {
                var w = shapes.ShapeOf(node.Inputs[1]);
                long inElems = PerSample(shapes.ShapeOf(node.Inputs[0]));
                if (w is null || inElems < 0 || w.Any(d => !d.IsKnown)) return null;
                return inElems * w.Skip(1).Aggregate(1L, (a, d) => a * d.Value);
            }
            case "Gemm":
            {
                var b = shapes.ShapeOf(node.Inputs[1]);
                if (b is null || b.Length != 2 || !b[0].IsKnown || !b[1].IsKnown) return null;
                return b[0].Value * b[1].Value;
            }
            case "MatMul":
            {
                var a = shapes.ShapeOf(node.Inputs[0]);
                var y = shapes.ShapeOf(node.Outputs[0]);
                if (a is null || y is null || a.Length == 0) return null;
                long outElems = PerSample(y);
                var k = a[^1];
                return outElems < 0 || !k.IsKnown ? null : outElems * k.Value;
            }
            default:
                return 0;
        }
    }
}
