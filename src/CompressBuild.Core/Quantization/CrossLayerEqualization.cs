using CompressBuild.Core.Passes;

namespace CompressBuild.Core.Quantization;

/// <summary>
/// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight
/// Equalization and Bias Correction"): for two layers joined by positively homogeneous ops
/// (ReLU, LeakyReLU, max/average pooling, a Flatten into a Gemm), output channel i of the first is
/// divided by s_i and input channel i of the second multiplied by s_i, with
/// s_i = sqrt(r1_i / r2_i) so both weight ranges become sqrt(r1_i · r2_i). Since
/// f(x / s) = f(x) / s for those ops, the model computes the same function, but no channel's weights
/// are tiny next to the others', which per-tensor (and, through the second layer, per-channel)
/// quantization rewards.
/// </summary>
public static class CrossLayerEqualization
{
    private const int MaxRounds = 32;
    private const double Converged = 1e-6;

    private static readonly HashSet<string> Homogeneous = new(StringComparer.Ordinal)
        { "Relu", "LeakyRelu", "MaxPool", "AveragePool", "GlobalAveragePool" };

    /// <summary>
    /// Equalizes every Conv→…→Conv, Conv→…→Flatten→Gemm and Gemm→…→Gemm pair of
    /// <paramref name="model"/> in place (its weights and biases change); returns the number of pairs.
    /// Chains of three or more layers are iterated until the scales settle.
    /// </summary>
    public static int Apply(Model model)
    {
        var pairs = Pairs(model.Graph);
        for (int round = 0; round < MaxRounds; round++)
        {
            double change = 0;
            foreach (var pair in pairs) change = Math.Max(change, Equalize(model.Graph, pair));
            if (change < Converged) break;
        }
        return pairs.Count;
    }

    /// <summary>
    /// The range (largest |w|) of each output channel of a Conv or Gemm weight and, for the layer
    /// reading it, of each input channel; for tests and reports.
    /// </summary>
    public static (double[] Output, double[] Input) ChannelRanges(Model model, string firstLayer, string secondLayer)
    {
        var graph = model.Graph;
        var pair = Pairs(graph).Find(p => p.First.Name == firstLayer && p.Second.Name == secondLayer)
            ?? throw new ArgumentException($"{firstLayer} and {secondLayer} are not an equalizable pair", nameof(secondLayer));
        return (Ranges(graph.Initializers[pair.First.Inputs[1]], i => OutputChannel(pair.First, graph.Initializers[pair.First.Inputs[1]], i), pair.Channels),
            Ranges(graph.Initializers[pair.Second.Inputs[1]], i => InputChannel(pair, graph.Initializers[pair.Second.Inputs[1]], i), pair.Channels));
    }

    private sealed record Pair(Node First, Node Second, int Channels);

    private static List<Pair> Pairs(Graph graph)
    {
        var pairs = new List<Pair>();
        foreach (var first in graph.TopologicalOrder())
        {
            if (!IsLayer(graph, first)) continue;
            string value = first.Outputs[0];
            bool flattened = false;
            Node? next = null;
            while (!graph.IsOutput(value) && graph.Consumers(value).ToList() is [var only])
            {
                if (Homogeneous.Contains(only.OpType) && !flattened && only.Inputs[0] == value)
                {
                    value = only.Outputs[0];
                    continue;
                }
                if (only.OpType == "Flatten" && first.OpType == "Conv" && !flattened && (only.Attribute("axis")?.AsInt() ?? 1) == 1)
                {
                    flattened = true;
                    value = only.Outputs[0];
                    continue;
                }
                next = only;
                break;
            }
            if (next is null || !IsLayer(graph, next) || next.Inputs[0] != value) continue;
            var w1 = graph.Initializers[first.Inputs[1]];
            var w2 = graph.Initializers[next.Inputs[1]];
            int channels = first.OpType == "Conv" ? w1.Shape[0] : GemmOutputs(first, w1);
            bool fits = (first.OpType, next.OpType) switch
            {
                ("Conv", "Conv") => !flattened && w2.Shape[1] * Group(next) == channels,
                ("Conv", "Gemm") => flattened && GemmInputs(next, w2) % channels == 0,
                ("Gemm", "Gemm") => GemmInputs(next, w2) == channels,
                _ => false,
            };
            if (fits) pairs.Add(new Pair(first, next, channels));
        }
        return pairs;
    }

    // A Conv or Gemm (plain A·B, alpha scales both ways alike) with its own float weight and bias.
    private static bool IsLayer(Graph graph, Node n)
    {
        if (n.OpType is not ("Conv" or "Gemm") || !n.HasInput(1)) return false;
        if (n.OpType == "Gemm" && (n.Attribute("transA")?.AsInt() ?? 0) != 0) return false;
        if (GraphEdits.Constant(graph, n.Inputs[1]) is not { DataType: DataType.Float, Rank: >= 2 } || !GraphEdits.OnlyFeeds(graph, n.Inputs[1], n)) return false;
        if (!n.HasInput(2)) return true;
        return GraphEdits.Constant(graph, n.Inputs[2]) is { DataType: DataType.Float, Rank: 1 } && GraphEdits.OnlyFeeds(graph, n.Inputs[2], n);
    }

    private static double Equalize(Graph graph, Pair pair)
    {
        var w1 = graph.Initializers[pair.First.Inputs[1]];
        var w2 = graph.Initializers[pair.Second.Inputs[1]];
        var r1 = Ranges(w1, i => OutputChannel(pair.First, w1, i), pair.Channels);
        var r2 = Ranges(w2, i => InputChannel(pair, w2, i), pair.Channels);
        var s = new float[pair.Channels];
        double change = 0;
        for (int c = 0; c < s.Length; c++)
        {
            s[c] = r1[c] > 0 && r2[c] > 0 ? (float)Math.Sqrt(r1[c] / r2[c]) : 1f;
            change = Math.Max(change, Math.Abs(s[c] - 1.0));
        }
        var f1 = w1.Floats;
        for (int i = 0; i < f1.Length; i++) f1[i] /= s[OutputChannel(pair.First, w1, i)];
        if (pair.First.HasInput(2))
        {
            var b = graph.Initializers[pair.First.Inputs[2]].Floats;
            if (b.Length == s.Length)
                for (int c = 0; c < b.Length; c++) b[c] /= s[c];
        }
        var f2 = w2.Floats;
        for (int i = 0; i < f2.Length; i++) f2[i] *= s[InputChannel(pair, w2, i)];
        return change;
    }

    private static double[] Ranges(Tensor w, Func<int, int> channelOf, int channels)
    {
        var r = new double[channels];
        var f = w.Floats;
        for (int i = 0; i < f.Length; i++)
        {
            int c = channelOf(i);
            r[c] = Math.Max(r[c], Math.Abs(f[i]));
        }
        return r;
    }

    private static bool TransB(Node gemm) => (gemm.Attribute("transB")?.AsInt() ?? 0) != 0;

    private static int GemmOutputs(Node gemm, Tensor b) => TransB(gemm) ? b.Shape[0] : b.Shape[1];

    private static int GemmInputs(Node gemm, Tensor b) => TransB(gemm) ? b.Shape[1] : b.Shape[0];

    private static int Group(Node conv) => (int)(conv.Attribute("group")?.AsInt() ?? 1);

    // Output channel of element i of a Conv weight [M, C/g, k...] or a Gemm B ([N, K] transposed, else [K, N]).
    private static int OutputChannel(Node layer, Tensor w, int i)
    {
        if (layer.OpType == "Conv") return i / (w.Length / w.Shape[0]);
        return TransB(layer) ? i / w.Shape[1] : i % w.Shape[1];
    }

    // Input channel of the first layer that element i of the second layer's weight multiplies.
    private static int InputChannel(Pair pair, Tensor w, int i)
    {
        var layer = pair.Second;
        if (layer.OpType == "Conv")
        {
            int perGroupIn = w.Shape[1], kernel = w.Length / (w.Shape[0] * perGroupIn);
            int m = i / (perGroupIn * kernel), local = i / kernel % perGroupIn;
            int group = m / (w.Shape[0] / Group(layer));
            return group * perGroupIn + local;
        }
        int k = TransB(layer) ? i % w.Shape[1] : i / w.Shape[1];
        // After a Flatten of [N, C, H, W] feature k comes from channel k / (H·W).
        return k / (GemmInputs(layer, w) / pair.Channels);
    }
}
