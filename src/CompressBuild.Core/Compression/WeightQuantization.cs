using CompressBuild.Core.Planning;

namespace CompressBuild.Core.Compression;

/// <summary>
/// Weight-only precision: picks the weight tensors of a model (Conv, ConvTranspose, Gemm, MatMul,
/// LSTM/GRU), their per-channel axis, and rewrites the ONNX graph so it computes with exactly the
/// values the predictor embeds (fp16 initializers + Cast, int8 + DequantizeLinear, or int4/int2
/// levels as int8 + Cast, Mul by block scales, Reshape).
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

    /// <summary>Default scale block for int4: 32 reduction indices (measured on LeNet-300-100, see <see cref="LowBitQuantizer"/>).</summary>
    public const int DefaultInt4Block = 32;

    /// <summary>Default scale block for int2.</summary>
    public const int DefaultInt2Block = 16;

    /// <summary>
    /// The planner encodings for a precision (none, fp16, int8, int4, int2) and granularity. Int4 and
    /// int2 scales run per block of <paramref name="block"/> reduction indices (0: the default for the
    /// precision; per-tensor: one scale); weights the packed kernels cannot read (see
    /// <see cref="LowBitLayout.Of"/>) fall back to int8.
    /// </summary>
    public static Dictionary<string, ConstantEncoding> Encodings(Model model, string precision, bool perChannel, int block = 0)
    {
        var result = new Dictionary<string, ConstantEncoding>(StringComparer.Ordinal);
        if (precision == "none") return result;
        var storage = precision switch { "int4" => ConstantStorage.Int4, "int2" => ConstantStorage.Int2, _ => ConstantStorage.Native };
        if (block == 0) block = storage == ConstantStorage.Int4 ? DefaultInt4Block : DefaultInt2Block;
        foreach (var (name, axis) in WeightAxes(model))
        {
            var shape = model.Graph.Initializers[name].Shape;
            result[name] = precision == "fp16" ? ConstantEncoding.Float16
                : storage != ConstantStorage.Native && LowBitLayout.Of(shape, axis, block) is not null ? new ConstantEncoding(storage, axis, perChannel ? block : -1)
                : perChannel && axis >= 0 ? ConstantEncoding.Int8PerChannel(axis) : ConstantEncoding.Int8PerTensor;
        }
        return result;
    }

    /// <summary>Bytes a weight takes in the blob under an encoding (values and scales, without alignment padding).</summary>
    public static long StoredBytes(Tensor t, ConstantEncoding e) => e.Storage switch
    {
        ConstantStorage.Float16 => 2L * t.Length,
        ConstantStorage.Int8 => t.Length + 4L * (e.Axis >= 0 ? t.Shape[e.Axis] : 1),
        ConstantStorage.Int4 or ConstantStorage.Int2 =>
            ((long)t.Length * e.Bits + 7) / 8 + 2L * LowBitLayout.Of(t.Shape, e.Axis, e.Block)!.Value.ScaleCount,
        _ => (long)t.Length * DataTypes.Size(t.DataType),
    };

    /// <summary>
    /// Rewrites the model so each encoded weight is stored compressed and expanded by nodes
    /// (Cast for fp16, DequantizeLinear for int8, Cast·Mul·Reshape for int4/int2); consumers keep
    /// reading the original name.
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
            else if (encoding.IsPacked)
            {
                if (model.Opset < 10)
                    throw new CompressBuildException(ErrorCodes.UnsupportedOpset, $"{model.DisplayName}: {encoding.Bits}-bit weights need Slice with inputs (opset 10+); the model has opset {model.Opset}. Re-export with opset 13 or later.");
                nodes.AddRange(Packed(graph, name, w, encoding));
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

    /// <summary>
    /// Int4/int2 in ONNX up to opset 18 (int4 types arrive in opset 21): the levels as an int8
    /// initializer laid out <c>[outer, blocks, block, inner]</c> (the last block zero-padded), Cast to
    /// float, Mul by fp16-exact scales <c>[outer, blocks, 1, inner]</c> (broadcast), then Reshape (and
    /// Slice off the padding) back to the weight's shape. Computes exactly the predictor's weights.
    /// </summary>
    private static IEnumerable<Node> Packed(Graph graph, string name, Tensor w, ConstantEncoding encoding)
    {
        var layout = LowBitLayout.Of(w.Shape, encoding.Axis, encoding.Block)!.Value;
        var (values, halfScales) = LowBitQuantizer.Quantize(w.Floats, layout, encoding.Bits, perTensor: encoding.Block < 0);
        int padded = layout.Blocks * layout.Block;
        var q = new sbyte[layout.Outer * padded * layout.Inner];
        for (int o = 0; o < layout.Outer; o++)
            for (int r = 0; r < layout.Reduction; r++)
                for (int i = 0; i < layout.Inner; i++)
                    q[(o * padded + r) * layout.Inner + i] = values[(o * layout.Reduction + r) * layout.Inner + i];
        string qName = graph.UniqueName(name + $"_int{encoding.Bits}");
        graph.Initializers[qName] = Tensor.FromArray(q, layout.Outer, layout.Blocks, layout.Block, layout.Inner);
        string sName = graph.UniqueName(name + "_scale");
        graph.Initializers[sName] = Tensor.FromArray(halfScales.Select(h => (float)h).ToArray(), layout.Outer, layout.Blocks, 1, layout.Inner);
        string Temp(string suffix) => graph.UniqueName(name + suffix);
        string Shape(string suffix, params long[] dims)
        {
            string n = Temp(suffix);
            graph.Initializers[n] = Tensor.FromArray(dims, dims.Length);
            return n;
        }
        string cast = Temp("_levels"), scaled = Temp("_blocks");
        yield return new Node("Cast", new[] { qName }, new[] { cast }, Temp("_cast")).Set(NodeAttribute.Int("to", (long)DataType.Float));
        yield return new Node("Mul", new[] { cast, sName }, new[] { scaled }, Temp("_scale_mul"));
        string final = scaled;
        if (padded != layout.Reduction)
        {
            string flat = Temp("_padded"), sliced = Temp("_unpadded");
            yield return new Node("Reshape", new[] { scaled, Shape("_padded_shape", layout.Outer, padded, layout.Inner) }, new[] { flat }, Temp("_reshape_padded"));
            yield return new Node("Slice", new[] { flat, Shape("_starts", 0), Shape("_ends", layout.Reduction), Shape("_axes", 1) }, new[] { sliced }, Temp("_slice"));
            final = sliced;
        }
        yield return new Node("Reshape", new[] { final, Shape("_shape", w.Shape.Select(d => (long)d).ToArray()) }, new[] { name }, Temp("_reshape"));
    }
}
