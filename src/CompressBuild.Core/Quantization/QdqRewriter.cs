using CompressBuild.Core.Compression;
using CompressBuild.Core.Passes;
using CompressBuild.Core.Planning;

namespace CompressBuild.Core.Quantization;

/// <summary>The uint8 scale and zero point of one activation tensor.</summary>
internal readonly record struct ActivationParams(float Scale, byte ZeroPoint);

/// <summary>What the rewrite stored for one quantized layer: its weight scales and bytes.</summary>
internal sealed record QdqLayerWeights(float[] Scales, long Bytes);

/// <summary>
/// Turns a float model into QDQ form as ONNX Runtime's <c>quantize_static</c> writes it: int8
/// symmetric weights and int32 biases behind DequantizeLinear, and a QuantizeLinear→DequantizeLinear
/// pair on every planned activation tensor.
/// </summary>
internal static class QdqRewriter
{
    /// <summary>
    /// Rewrites <paramref name="model"/> in place. <paramref name="activations"/> holds the
    /// parameters of every calibrated tensor (empty for weight-only); <paramref name="biasShifts"/>
    /// per layer is subtracted from its float bias before the bias is quantized (bias correction).
    /// </summary>
    public static Dictionary<string, QdqLayerWeights> Apply(Model model, QdqPlan plan, IReadOnlyDictionary<string, ActivationParams> activations,
        bool perChannel, IReadOnlyDictionary<string, float[]>? biasShifts = null)
    {
        var graph = model.Graph;
        var axes = WeightQuantization.WeightAxes(model);
        var encodings = new Dictionary<string, ConstantEncoding>(StringComparer.Ordinal);
        var weights = new Dictionary<string, QdqLayerWeights>(StringComparer.Ordinal);
        foreach (var name in plan.Layers)
        {
            var node = graph.Nodes.Find(n => n.Name == name)!;
            string wName = node.Inputs[1];
            var w = graph.Initializers[wName];
            int axis = perChannel && axes.TryGetValue(wName, out int a) ? a : -1;
            encodings[wName] = axis >= 0 ? ConstantEncoding.Int8PerChannel(axis) : ConstantEncoding.Int8PerTensor;
            var (_, scales) = Int8Symmetric.Quantize(w, axis);
            long biasBytes = ApplyBias(graph, node, w, scales, activations, plan, biasShifts);
            weights[name] = new QdqLayerWeights(scales, w.Length + 4L * scales.Length + biasBytes);
        }
        WeightQuantization.Apply(model, encodings);

        var parameterNames = new Dictionary<string, (string Scale, string ZeroPoint)>(StringComparer.Ordinal);
        foreach (var t in plan.Tensors)
        {
            if (!parameterNames.TryGetValue(t.ParamsOf, out var p))
            {
                var q = activations[t.ParamsOf];
                p = (GraphEdits.AddInitializer(graph, t.ParamsOf + "_scale", Tensor.Scalar(q.Scale)),
                    GraphEdits.AddInitializer(graph, t.ParamsOf + "_zero_point", Tensor.Scalar(q.ZeroPoint)));
                parameterNames[t.ParamsOf] = p;
            }
            InsertPair(graph, t.Name, p.Scale, p.ZeroPoint);
        }
        graph.SortTopologically(model.DisplayName);
        return weights;
    }

    // Node outputs keep their name on the DequantizeLinear (so graph outputs stay float and named),
    // the producer writes a "_prequant" value instead; graph inputs have their readers rewired.
    private static void InsertPair(Graph graph, string name, string scale, string zeroPoint)
    {
        string quantized = graph.UniqueName(name + "_quantized");
        var producer = graph.Producer(name);
        string source = name, dequantized = name;
        if (producer is null)
        {
            dequantized = graph.UniqueName(name + "_dequantized");
            GraphEdits.ReplaceUses(graph, name, dequantized);
        }
        else
        {
            source = graph.UniqueName(name + "_prequant");
            producer.Outputs[producer.Outputs.IndexOf(name)] = source;
        }
        graph.Nodes.Add(new Node("QuantizeLinear", new[] { source, scale, zeroPoint }, new[] { quantized }, graph.UniqueName(name + "_QuantizeLinear")));
        graph.Nodes.Add(new Node("DequantizeLinear", new[] { quantized, scale, zeroPoint }, new[] { dequantized }, graph.UniqueName(name + "_DequantizeLinear")));
    }

    // Bias as int32 with scale input_scale · weight_scale (per channel) behind DequantizeLinear, so an
    // integer kernel adds it straight to its int32 accumulator. Returns the bias bytes.
    private static long ApplyBias(Graph graph, Node node, Tensor w, float[] weightScales, IReadOnlyDictionary<string, ActivationParams> activations,
        QdqPlan plan, IReadOnlyDictionary<string, float[]>? shifts)
    {
        if (node.OpType == "MatMul") return 0;
        int channels = node.OpType == "Conv" ? w.Shape[0] : (node.Attribute("transB")?.AsInt() ?? 0) != 0 ? w.Shape[0] : w.Shape[1];
        float[]? shift = shifts is not null && shifts.TryGetValue(node.Name, out var s) ? s : null;
        Tensor? bias = node.HasInput(2) ? GraphEdits.Constant(graph, node.Inputs[2]) : null;
        bool ownBias = bias is { DataType: DataType.Float, Rank: 1 } && bias.Length == channels && GraphEdits.OnlyFeeds(graph, node.Inputs[2], node);
        if (node.HasInput(2) && !ownBias) return bias is null ? 0 : (long)bias.Length * DataTypes.Size(bias.DataType);

        var values = ownBias ? (float[])bias!.Floats.Clone() : new float[channels];
        if (shift is not null)
            for (int c = 0; c < channels; c++) values[c] -= shift[c];
        if (!ownBias && shift is null) return 0;

        string input = plan.Tensors.FirstOrDefault(t => t.Name == node.Inputs[0])?.ParamsOf ?? "";
        bool plainGemm = node.OpType == "Conv" || ((node.Attribute("alpha")?.AsFloat() ?? 1f) == 1f && (node.Attribute("beta")?.AsFloat() ?? 1f) == 1f);
        if (!activations.TryGetValue(input, out var x) || !plainGemm)
        {
            // Float bias: weight-only mode, or a Gemm whose alpha/beta an int32 bias would not match.
            SetBias(graph, node, GraphEdits.AddInitializer(graph, node.Name + "_bias", Tensor.FromArray(values, channels)));
            return 4L * channels;
        }

        var scales = new float[weightScales.Length];
        for (int c = 0; c < scales.Length; c++) scales[c] = x.Scale * weightScales[c];
        var q = new int[channels];
        for (int c = 0; c < channels; c++)
            q[c] = (int)Math.Clamp(Math.Round(values[c] / (double)scales[scales.Length == 1 ? 0 : c], MidpointRounding.ToEven), int.MinValue, int.MaxValue);
        string prefix = node.Name + "_bias";
        string qName = GraphEdits.AddInitializer(graph, prefix + "_quantized", Tensor.FromArray(q, channels));
        bool perChannel = scales.Length > 1;
        string sName = GraphEdits.AddInitializer(graph, prefix + "_scale", perChannel ? Tensor.FromArray(scales, channels) : Tensor.Scalar(scales[0]));
        string zName = GraphEdits.AddInitializer(graph, prefix + "_zero_point", perChannel ? Tensor.FromArray(new int[channels], channels) : Tensor.Scalar(0));
        string dequantized = graph.UniqueName(prefix + "_dequantized");
        var dq = new Node("DequantizeLinear", new[] { qName, sName, zName }, new[] { dequantized }, graph.UniqueName(prefix + "_DequantizeLinear"));
        if (perChannel) dq.Set(NodeAttribute.Int("axis", 0));
        graph.Nodes.Add(dq);
        SetBias(graph, node, dequantized);
        return 4L * channels;
    }

    private static void SetBias(Graph graph, Node node, string value)
    {
        if (node.Inputs.Count < 3)
        {
            node.Inputs.Add(value);
            return;
        }
        string old = node.Inputs[2];
        node.Inputs[2] = value;
        if (old.Length == 0) return;
        graph.Initializers.Remove(old);
        graph.Inputs.RemoveAll(i => i.Name == old);
    }
}
