using CompressBuild.Core.Planning;

namespace CompressBuild.Core.Compression;

/// <summary>
/// Weight-only precision: picks the weight tensors of a model (Conv, ConvTranspose, Gemm, MatMul,
/// LSTM/GRU), their per-channel axis, and rewrites the ONNX graph so it computes with exactly the
/// values the predictor embeds (fp16 initializers + Cast, or int8 + DequantizeLinear).
/// </summary>
public static class WeightQuantization
{
    /// <summary>Weight initializers and the axis of their output channels (-1 when there is none).</summary>
    public static IReadOnlyDictionary<string, int> WeightAxes(Model model)
    {
        var graph = model.Graph;
        var axes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        void Add(string name, int axis)
        {
            if (name.Length == 0 || !graph.Initializers.TryGetValue(name, out var t) || t.DataType != DataType.Float || t.Rank < 2) return;
            axes[name] = axes.TryGetValue(name, out int existing) && existing != axis ? -1 : axis;
        }
        foreach (var n in graph.Nodes)
        {
            switch (n.OpType)
            {
                case "Conv": Add(n.Inputs[1], 0); break;
                case "ConvTranspose": Add(n.Inputs[1], 1); break;
                case "Gemm": Add(n.Inputs[1], n.Attribute("transB")?.AsInt() == 1 ? 0 : 1); break;
                case "MatMul":
                    if (graph.Initializers.TryGetValue(n.Inputs[1], out var w)) Add(n.Inputs[1], w.Rank == 2 ? 1 : -1);
                    break;
                case "LSTM":
                case "GRU":
                    Add(n.Inputs[1], -1);
                    Add(n.Inputs[2], -1);
                    break;
            }
        }
        return axes;
    }

    /// <summary>The planner encodings for a precision (none, fp16, int8) and granularity.</summary>
    public static Dictionary<string, ConstantEncoding> Encodings(Model model, string precision, bool perChannel)
    {
        var result = new Dictionary<string, ConstantEncoding>(StringComparer.Ordinal);
        if (precision == "none") return result;
        foreach (var (name, axis) in WeightAxes(model))
            result[name] = precision == "fp16" ? ConstantEncoding.Float16
                : perChannel && axis >= 0 ? ConstantEncoding.Int8PerChannel(axis) : ConstantEncoding.Int8PerTensor;
        return result;
    }

    /// <summary>
    /// Rewrites the model so each encoded weight is stored compressed and expanded by a node
    /// (Cast for fp16, DequantizeLinear for int8); consumers keep reading the original name.
    /// </summary>
    public static void Apply(Model model, IReadOnlyDictionary<string, ConstantEncoding> encodings)
    {
        var graph = model.Graph;
        var nodes = new List<Node>();
        foreach (var (name, encoding) in encodings.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var w = graph.Initializers[name];
            if (encoding.Storage == ConstantStorage.Float16)
            {
                var h = w.Floats.Select(f => (Half)f).ToArray();
                string stored = graph.UniqueName(name + "_fp16");
                graph.Initializers[stored] = Tensor.FromArray(h, w.Shape);
                nodes.Add(new Node("Cast", new[] { stored }, new[] { name }, graph.UniqueName(name + "_cast")).Set(NodeAttribute.Int("to", (long)DataType.Float)));
            }
            else if (encoding.Storage == ConstantStorage.Int8)
            {
                if (model.Opset < 10)
                    throw new CompressBuildException(ErrorCodes.UnsupportedOpset, $"{model.DisplayName}: int8 weights need DequantizeLinear (opset 10+); the model has opset {model.Opset}. Re-export with opset 13 or later.");
                int axis = encoding.Axis;
                if (axis >= 0 && model.Opset < 13)
                    throw new CompressBuildException(ErrorCodes.UnsupportedOpset, $"{model.DisplayName}: per-channel int8 needs opset 13+; the model has opset {model.Opset}. Use Granularity=per-tensor or re-export with opset 13 or later.");
                var (q, scales) = Int8Symmetric.Quantize(w, axis);
                string qName = graph.UniqueName(name + "_quantized");
                graph.Initializers[qName] = Tensor.FromArray(q, w.Shape);
                string sName = graph.UniqueName(name + "_scale");
                string zName = graph.UniqueName(name + "_zero_point");
                if (axis >= 0)
                {
                    graph.Initializers[sName] = Tensor.FromArray(scales, scales.Length);
                    graph.Initializers[zName] = Tensor.FromArray(new sbyte[scales.Length], scales.Length);
                }
                else
                {
                    graph.Initializers[sName] = Tensor.Scalar(scales[0]);
                    graph.Initializers[zName] = Tensor.Scalar((sbyte)0);
                }
                var dq = new Node("DequantizeLinear", new[] { qName, sName, zName }, new[] { name }, graph.UniqueName(name + "_dequantize"));
                if (axis >= 0) dq.Set(NodeAttribute.Int("axis", axis));
                nodes.Add(dq);
            }
            else
            {
                continue;
            }
            graph.Initializers.Remove(name);
            graph.Inputs.RemoveAll(i => i.Name == name);
        }
        graph.Nodes.InsertRange(0, nodes);
    }
}
