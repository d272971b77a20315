using CompressBuild.Core.Operators.Quantization;
using CompressBuild.Core.Shapes;

namespace CompressBuild.Core.Passes;

/// <summary>
/// Turns a QDQ model (QuantizeLinear/DequantizeLinear around float ops, as ONNX Runtime's quantizer
/// writes it) into integer operators:
/// <list type="bullet">
/// <item>DQ(x) → Conv(DQ(w), DQ(b)) → [Relu|Clip] → Q(y) becomes QLinearConv;</item>
/// <item>DQ(a) → Gemm(DQ(b), DQ(c)) or MatMul(DQ(b)) [→ Add(bias)] → [Relu|Clip] → Q(y) becomes ONNX
/// Runtime's QGemm (com.microsoft); without the Q, a QGemm with float output. A MatMul activation of
/// rank 1 or above 2 is reshaped to [rows, K] around it, on the quantized values;</item>
/// <item>DQ(x) → MaxPool/Flatten/Reshape/Squeeze/Unsqueeze/Transpose/Concat → Q(y) with y's
/// parameters equal to x's runs the op on the quantized values (exact: quantization is monotonic
/// and these ops only move or select elements).</item>
/// </list>
/// A Relu or Clip is absorbed only when saturating to y's integer range reproduces it exactly (its
/// bounds quantize to or beyond the range's ends, e.g. Relu before a zero point of 0 for uint8);
/// otherwise, like every other op, it stays float between DequantizeLinear and QuantizeLinear.
/// Biases are requantized to the accumulator's scale (x_scale · w_scale) in double precision, so a
/// bias the quantizer already stored at that scale is kept exactly. The DequantizeLinear nodes of
/// weights die with their float op (dead-code elimination removes them).
/// </summary>
public sealed class QdqFusionPass : IGraphPass
{
    private static readonly HashSet<string> LayoutOps = new(StringComparer.Ordinal)
    {
        "MaxPool", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Concat",
    };

    /// <inheritdoc/>
    public string Name => "fuse-qdq";

    /// <inheritdoc/>
    public int Run(Model model)
    {
        var graph = model.Graph;
        var shapes = new Lazy<ShapeInferenceResult>(() => ShapeInference.Run(model, strict: false));
        int count = 0;
        foreach (var node in graph.Nodes.Where(n => n.Domain is "" or "ai.onnx").ToList())
        {
            if (!graph.Nodes.Contains(node)) continue;
            bool fused = node.OpType switch
            {
                "Conv" => FuseConv(graph, node),
                "Gemm" or "MatMul" => FuseGemm(graph, node, shapes),
                _ => LayoutOps.Contains(node.OpType) && FuseLayout(model, node),
            };
            if (fused) count++;
        }
        if (graph.Nodes.Any(n => n.Domain == QGemm.Domain)) model.OpsetImports[QGemm.Domain] = 1;
        return count;
    }

    // ---- patterns ----

    private static bool FuseConv(Graph graph, Node conv)
    {
        if (conv.Inputs.Count < 2 || Activation(graph, conv.Inputs[0]) is not { } x) return false;
        var w = Weights(graph, conv.Inputs[1]);
        if (w is null || w.Values.Rank < 3 || (w.Axis is { } axis && axis != 0)) return false;
        if (Output(graph, conv.Outputs[0]) is not { } y || y.Params.Type != x.Params.Type || !CompatibleTypes(x.Params.Type, w.Values.DataType)) return false;
        int m = w.Values.Shape[0];
        var wScale = w.ScaleValues;
        if ((wScale.Length != 1 && wScale.Length != m) || !w.SingleZeroPoint) return false;
        var bias = conv.HasInput(2) ? Bias(graph, conv.Inputs[2], m, k => (double)x.Params.Scale * wScale[wScale.Length == 1 ? 0 : k], 1.0) : null;
        if (conv.HasInput(2) && bias is null) return false;

        var inputs = new List<string>
        {
            x.Quantized, x.ScaleName, ZeroPointName(graph, x.Dq),
            w.Quantized, w.ScaleName, WeightZeroPoint(graph, w, perColumn: false),
            y.Params.ScaleName, ZeroPointName(graph, y.Q),
        };
        if (bias is not null) inputs.Add(GraphEdits.AddInitializer(graph, conv.Outputs[0] + "_bias_quantized", bias));
        var fused = new Node("QLinearConv", inputs, [y.Q.Outputs[0]], conv.Name);
        fused.Attributes.AddRange(conv.Attributes);
        Replace(graph, conv, fused, y);
        return true;
    }

    private static bool FuseGemm(Graph graph, Node op, Lazy<ShapeInferenceResult> shapes)
    {
        bool gemm = op.OpType == "Gemm";
        if (op.Inputs.Count < 2 || Activation(graph, op.Inputs[0]) is not { } a) return false;
        var b = Weights(graph, op.Inputs[1]);
        if (b is null || b.Values.Rank != 2) return false;
        bool transB = gemm && op.Attribute("transB")?.AsInt() == 1;
        int n = transB ? b.Values.Shape[0] : b.Values.Shape[1];
        // QGemm is 2-D; a MatMul of another rank runs it on the activation's rows (see Rows).
        long[]? rows = null;
        if (!gemm && shapes.Value.ShapeOf(op.Inputs[0]) is var shape && shape?.Length != 2)
        {
            rows = shape is null ? null : Rows(shape, n);
            if (rows is null) return false;
        }
        if ((b.Axis is { } axis && axis != (transB ? 0 : 1)) || (b.ScaleValues.Length != 1 && b.ScaleValues.Length != n)) return false;
        if (!CompatibleTypes(a.Params.Type, b.Values.DataType)) return false;
        var bs = b.ScaleValues;
        // A MatMul's bias Add before the QuantizeLinear joins the accumulator like Gemm's C.
        var add = gemm ? null : BiasAdd(graph, op.Outputs[0], n);
        var y = Output(graph, add?.Node.Outputs[0] ?? op.Outputs[0]);
        if (add is not null && y is null)
        {
            add = null;
            y = Output(graph, op.Outputs[0]);
        }
        if (y is not null && y.Params.Type != a.Params.Type) return false;
        float alpha = gemm ? op.Attribute("alpha")?.AsFloat() ?? 1f : 1f;
        float beta = gemm ? op.Attribute("beta")?.AsFloat() ?? 1f : 1f;
        string? c = gemm && op.HasInput(2) && beta != 0f ? op.Inputs[2] : add?.Bias;
        Tensor? bias = null;
        if (c is not null)
        {
            // QGemm adds C to the accumulator before the output scale, which includes alpha.
            bias = Bias(graph, c, n, j => (double)alpha * a.Params.Scale * bs[bs.Length == 1 ? 0 : j], beta);
            if (bias is null) return false;
        }

        string output = y?.Q.Outputs[0] ?? op.Outputs[0];
        string activation = a.Quantized, product = output;
        var nodes = new List<Node>();
        if (rows is not null)
        {
            // Reshape of quantized values is exact (a view in the planner): the same integer result as 2-D.
            activation = graph.UniqueName(op.Outputs[0] + "_rows");
            product = graph.UniqueName(op.Outputs[0] + "_rows_product");
            nodes.Add(new Node("Reshape", [a.Quantized, Shape(graph, op.Outputs[0] + "_rows_shape", [-1, b.Values.Shape[0]])], [activation], op.Name + "_rows"));
        }
        var inputs = new List<string>
        {
            activation, a.ScaleName, ZeroPointName(graph, a.Dq),
            b.Quantized, b.ScaleName, WeightZeroPoint(graph, b, perColumn: true),
            bias is null ? "" : GraphEdits.AddInitializer(graph, op.Outputs[0] + "_bias_quantized", bias),
        };
        if (y is not null) inputs.AddRange([y.Params.ScaleName, ZeroPointName(graph, y.Q)]);
        else while (inputs[^1].Length == 0) inputs.RemoveAt(inputs.Count - 1);
        var fused = new Node("QGemm", inputs, [product], op.Name) { Domain = QGemm.Domain };
        fused.Set(NodeAttribute.Float("alpha", alpha));
        if (gemm && op.Attribute("transA")?.AsInt() == 1) fused.Set(NodeAttribute.Int("transA", 1));
        if (transB) fused.Set(NodeAttribute.Int("transB", 1));
        nodes.Add(fused);
        if (rows is not null)
            nodes.Add(new Node("Reshape", [product, Shape(graph, op.Outputs[0] + "_shape", rows)], [output], op.Name + "_shape"));
        if (add is not null) graph.Nodes.Remove(add.Node);
        Replace(graph, op, nodes, y);
        return true;
    }

    /// <summary>
    /// The output shape of MatMul(a, b) for an activation of rank 1 or above 2 (run as [rows, K] ·
    /// [K, <paramref name="n"/>]) as a Reshape target: the leading dimensions and n, rank 1 as [n];
    /// null when more than one dimension is unknown.
    /// </summary>
    private static long[]? Rows(Dim[] a, int n)
    {
        if (a.Length == 0) return null;
        var leading = a.Length == 1 ? [] : a[..^1];
        if (leading.Count(d => !d.IsKnown) > 1) return null;
        return [.. leading.Select(d => d.IsKnown ? d.Value : -1L), n];
    }

    private static string Shape(Graph graph, string hint, long[] dims) => GraphEdits.AddInitializer(graph, hint, Tensor.FromArray(dims, dims.Length));

    /// <summary>An Add of a constant per-column vector that alone reads a MatMul's output.</summary>
    private sealed record BiasAddition(Node Node, string Bias);

    private static BiasAddition? BiasAdd(Graph graph, string value, int n)
    {
        var add = SoleConsumer(graph, value);
        if (add is null || add.OpType != "Add" || add.Domain is not ("" or "ai.onnx") || add.Inputs.Count != 2) return null;
        string other = add.Inputs[0] == value ? add.Inputs[1] : add.Inputs[0];
        return ConstantFloats(graph, other) is { } c && c.Length == n ? new BiasAddition(add, other) : null;
    }

    // An op that only moves or selects elements commutes with quantization when both sides share parameters.
    private static bool FuseLayout(Model model, Node op)
    {
        var graph = model.Graph;
        if (op.OpType == "MaxPool" && (model.Opset < 12 || op.Outputs.Skip(1).Any(o => o.Length > 0))) return false;
        int data = op.OpType == "Concat" ? op.Inputs.Count : 1;
        var sources = op.Inputs.Take(data).Select(i => Activation(graph, i)).ToList();
        if (sources.Any(s => s is null) || Output(graph, op.Outputs[0], allowActivation: false) is not { } y) return false;
        if (sources.Any(s => !s!.Params.SameAs(y.Params))) return false;
        for (int i = 0; i < data; i++) op.Inputs[i] = sources[i]!.Quantized;
        op.Outputs[0] = y.Q.Outputs[0];
        graph.Nodes.Remove(y.Q);
        return true;
    }

    // ---- pieces of the patterns ----

    /// <summary>A quantized value's per-tensor parameters.</summary>
    private sealed record QuantParams(float Scale, int ZeroPoint, DataType Type, string ScaleName)
    {
        public bool SameAs(QuantParams o) => Scale.Equals(o.Scale) && ZeroPoint == o.ZeroPoint && Type == o.Type;

        public int Min => Type == DataType.UInt8 ? byte.MinValue : sbyte.MinValue;

        public int Max => Type == DataType.UInt8 ? byte.MaxValue : sbyte.MaxValue;

        // round(v / scale) + zero point before saturation, as QuantizeLinear computes it.
        public double Unsaturated(float v) => Math.Round((double)(v / Scale), MidpointRounding.ToEven) + ZeroPoint;
    }

    /// <summary>x = DequantizeLinear(Quantized) with per-tensor parameters.</summary>
    private sealed record Dequantized(Node Dq, string Quantized, QuantParams Params)
    {
        public string ScaleName => Params.ScaleName;
    }

    /// <summary>A constant weight DequantizeLinear: int8/uint8 values, scales (one or per <see cref="Axis"/>), zero points.</summary>
    private sealed record ConstantWeights(string Quantized, Tensor Values, string ScaleName, Tensor Scale, string? ZeroPointName, Tensor? ZeroPoint, int? Axis)
    {
        public float[] ScaleValues => Scale.Floats;

        // QLinearConv takes one weight zero point (ONNX Runtime): per-channel ones must all be equal.
        public bool SingleZeroPoint => ZeroPoint is null || Enumerable.Range(0, ZeroPoint.Length).All(i => ZeroPoint.GetDouble(i) == ZeroPoint.GetDouble(0));
    }

    /// <summary>What an op's output flows into: an optional absorbed Relu/Clip, then QuantizeLinear.</summary>
    private sealed record QuantizedOutput(Node? Activation, Node Q, QuantParams Params);

    private static Dequantized? Activation(Graph graph, string value)
    {
        var dq = graph.Producer(value);
        if (dq is null || dq.OpType != "DequantizeLinear" || dq.Domain is not ("" or "ai.onnx")) return null;
        var p = PerTensorParams(graph, dq);
        return p is null || GraphEdits.Constant(graph, dq.Inputs[0]) is not null ? null : new Dequantized(dq, dq.Inputs[0], p);
    }

    private static ConstantWeights? Weights(Graph graph, string value)
    {
        var dq = graph.Producer(value);
        if (dq is null || dq.OpType != "DequantizeLinear" || dq.Domain is not ("" or "ai.onnx")) return null;
        var q = GraphEdits.Constant(graph, dq.Inputs[0]);
        var scale = GraphEdits.Constant(graph, dq.Inputs[1]);
        var zp = dq.HasInput(2) ? GraphEdits.Constant(graph, dq.Inputs[2]) : null;
        if (q is null || !Quantized.IsEightBit(q.DataType) || scale is null || scale.DataType != DataType.Float || (dq.HasInput(2) && zp is null)) return null;
        int? axis = null;
        if (scale.Length > 1)
        {
            long a = dq.Attribute("axis")?.AsInt() ?? 1;
            axis = (int)(a < 0 ? a + q.Rank : a);
        }
        return new ConstantWeights(dq.Inputs[0], q, dq.Inputs[1], scale, dq.HasInput(2) ? dq.Inputs[2] : null, zp, axis);
    }

    private static QuantParams? PerTensorParams(Graph graph, Node qdq)
    {
        var scale = GraphEdits.Constant(graph, qdq.Inputs[1]);
        var zp = qdq.HasInput(2) ? GraphEdits.Constant(graph, qdq.Inputs[2]) : null;
        if (scale is null || scale.DataType != DataType.Float || scale.Length != 1 || (qdq.HasInput(2) && (zp is null || zp.Length != 1))) return null;
        // Without a zero point, QuantizeLinear writes uint8; DequantizeLinear's type would take shape inference.
        if (zp is null && qdq.OpType == "DequantizeLinear") return null;
        var type = zp?.DataType ?? DataType.UInt8;
        if (!Quantized.IsEightBit(type)) return null;
        return new QuantParams(scale.Floats[0], zp is null ? 0 : (int)zp.GetDouble(0), type, qdq.Inputs[1]);
    }

    // The value feeds only a QuantizeLinear, or only a Relu/Clip (absorbable by saturation) that feeds only one.
    private static QuantizedOutput? Output(Graph graph, string value, bool allowActivation = true)
    {
        var next = SoleConsumer(graph, value);
        Node? activation = null;
        if (allowActivation && next is not null && next.OpType is "Relu" or "Clip" && next.Domain is "" or "ai.onnx")
        {
            activation = next;
            next = SoleConsumer(graph, activation.Outputs[0]);
        }
        if (next is null || next.OpType != "QuantizeLinear" || next.Domain is not ("" or "ai.onnx") || next.Inputs[0] != (activation?.Outputs[0] ?? value)) return null;
        var p = PerTensorParams(graph, next);
        if (p is null) return null;
        if (activation is not null && !Saturates(graph, activation, p)) return null;
        return new QuantizedOutput(activation, next, p);
    }

    private static Node? SoleConsumer(Graph graph, string value)
    {
        if (graph.IsOutput(value)) return null;
        var consumers = graph.Consumers(value).Take(2).ToList();
        return consumers.Count == 1 && consumers[0].Inputs.Count(i => i == value) == 1 ? consumers[0] : null;
    }

    // Q(clip(v, lo, hi)) = saturate(Q(v)) when lo and hi quantize to or beyond the integer range's ends.
    private static bool Saturates(Graph graph, Node activation, QuantParams p)
    {
        float lo = 0f, hi = float.PositiveInfinity;
        if (activation.OpType == "Clip")
        {
            lo = activation.Attribute("min")?.AsFloat() ?? float.NegativeInfinity;
            hi = activation.Attribute("max")?.AsFloat() ?? float.PositiveInfinity;
            for (int i = 1; i <= 2; i++)
            {
                if (!activation.HasInput(i)) continue;
                var bound = GraphEdits.Constant(graph, activation.Inputs[i]);
                if (bound is null || bound.Length != 1) return false;
                if (i == 1) lo = (float)bound.GetDouble(0);
                else hi = (float)bound.GetDouble(0);
            }
        }
        return (float.IsNegativeInfinity(lo) || p.Unsaturated(lo) <= p.Min) && (float.IsPositiveInfinity(hi) || p.Unsaturated(hi) >= p.Max);
    }

    // ONNX Runtime's kernels: uint8 activations with uint8 or int8 weights, int8 activations with int8 weights.
    private static bool CompatibleTypes(DataType activation, DataType weights) => activation == DataType.UInt8 || weights == DataType.Int8;

    /// <summary>
    /// The bias as int32 in accumulator units: round(beta · c[k] / unit(k)) in double, from a
    /// float constant or a DequantizeLinear of a constant; null when it is neither or not a vector
    /// of <paramref name="channels"/> (or one) values.
    /// </summary>
    private static Tensor? Bias(Graph graph, string value, int channels, Func<int, double> unit, double beta)
    {
        var values = ConstantFloats(graph, value);
        if (values is null || (values.Length != channels && values.Length != 1)) return null;
        var q = new int[channels];
        for (int k = 0; k < channels; k++)
        {
            double v = Math.Round(beta * values[values.Length == 1 ? 0 : k] / unit(k), MidpointRounding.ToEven);
            q[k] = (int)Math.Clamp(v, int.MinValue, int.MaxValue);
        }
        return Tensor.FromArray(q, channels);
    }

    // A constant's values in double: a float initializer, or (q - zero point) · scale of a constant DequantizeLinear.
    private static double[]? ConstantFloats(Graph graph, string value)
    {
        // A bias is a vector: [n], or [1, n] for Gemm.
        if (GraphEdits.Constant(graph, value) is { } t)
            return t.DataType == DataType.Float && (t.Rank <= 1 || (t.Rank == 2 && t.Shape[0] == 1)) ? t.Floats.Select(f => (double)f).ToArray() : null;
        var dq = graph.Producer(value);
        if (dq is null || dq.OpType != "DequantizeLinear") return null;
        var q = GraphEdits.Constant(graph, dq.Inputs[0]);
        var scale = GraphEdits.Constant(graph, dq.Inputs[1]);
        var zp = dq.HasInput(2) ? GraphEdits.Constant(graph, dq.Inputs[2]) : null;
        if (q is null || scale is null || scale.DataType != DataType.Float || (dq.HasInput(2) && zp is null) || q.Rank > 1) return null;
        if (scale.Length != 1 && scale.Length != q.Length) return null;
        var r = new double[q.Length];
        for (int k = 0; k < r.Length; k++)
        {
            int c = scale.Length == 1 ? 0 : k;
            double z = zp is null ? 0 : zp.GetDouble(zp.Length == 1 ? 0 : c);
            // DequantizeLinear's own float32 result: the value the QDQ model adds.
            r[k] = (float)(q.GetDouble(k) - z) * scale.Floats[c];
        }
        return r;
    }

    // A QuantizeLinear without a zero point writes uint8 with zero point 0 (a DequantizeLinear must have one, see PerTensorParams).
    private static string ZeroPointName(Graph graph, Node qdq) =>
        qdq.HasInput(2) ? qdq.Inputs[2] : GraphEdits.AddInitializer(graph, qdq.Outputs[0] + "_zero_point", Tensor.Scalar((byte)0));

    // QLinearConv's weight zero point is one value; QGemm's has b_scale's shape (ONNX Runtime checks both).
    private static string WeightZeroPoint(Graph graph, ConstantWeights w, bool perColumn)
    {
        int[] shape = perColumn ? w.Scale.Shape : [];
        int count = ShapeMath.ElementCount(shape);
        if (w.ZeroPoint is { } zp && w.ZeroPointName is { } name && ShapeMath.SameShape(zp.Shape, shape)) return name;
        int value = w.ZeroPoint is null ? 0 : (int)w.ZeroPoint.GetDouble(0);
        var t = w.Values.DataType == DataType.UInt8
            ? Tensor.FromArray(Enumerable.Repeat((byte)value, count).ToArray(), shape)
            : Tensor.FromArray(Enumerable.Repeat((sbyte)value, count).ToArray(), shape);
        return GraphEdits.AddInitializer(graph, w.Quantized + "_zero_point", t);
    }

    // The fused nodes take the op's place; the op, its absorbed activation and the QuantizeLinear go.
    private static void Replace(Graph graph, Node op, Node fused, QuantizedOutput? y) => Replace(graph, op, [fused], y);

    private static void Replace(Graph graph, Node op, IReadOnlyList<Node> fused, QuantizedOutput? y)
    {
        int at = graph.Nodes.IndexOf(op);
        graph.Nodes.RemoveAt(at);
        graph.Nodes.InsertRange(at, fused);
        if (y is null) return;
        if (y.Activation is not null) graph.Nodes.Remove(y.Activation);
        graph.Nodes.Remove(y.Q);
    }
}
