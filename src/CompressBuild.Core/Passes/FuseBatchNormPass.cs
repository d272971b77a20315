using CompressBuild.Core.Shapes;

namespace CompressBuild.Core.Passes;

/// <summary>
/// Folds an inference-mode BatchNormalization into the Conv, Gemm or (2-D) MatMul before it:
/// with s = scale / sqrt(var + epsilon), each output channel's weights are multiplied by s and the
/// bias becomes (b - mean)·s + B. The BN node disappears.
/// </summary>
public sealed class FuseBatchNormPass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "fuse-batchnorm";

    /// <inheritdoc/>
    public int Run(Model model)
    {
        var graph = model.Graph;
        int count = 0;
        foreach (var bn in graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain is "" or "ai.onnx").ToList())
        {
            if (!IsInferenceBn(graph, bn, out var s, out var shift)) continue;
            var producer = graph.Producer(bn.Inputs[0]);
            if (producer is null || !GraphEdits.OnlyFeeds(graph, bn.Inputs[0], bn)) continue;
            bool fused = producer.OpType switch
            {
                "Conv" => FuseConv(graph, producer, s, shift),
                "Gemm" => FuseGemm(graph, producer, s, shift),
                "MatMul" => FuseMatMul(model, producer, s, shift),
                _ => false,
            };
            if (!fused) continue;
            // The producer now writes what the BN wrote.
            var fusedNode = graph.Producer(bn.Inputs[0])!;
            fusedNode.Outputs[0] = bn.Outputs[0];
            graph.Nodes.Remove(bn);
            count++;
        }
        return count;
    }

    // s = scale / sqrt(var + eps), shift = B - mean * s; so BN(y) = y * s + shift.
    private static bool IsInferenceBn(Graph graph, Node bn, out float[] s, out float[] shift)
    {
        s = shift = Array.Empty<float>();
        if (bn.Outputs.Skip(1).Any(o => o.Length > 0 && (graph.IsOutput(o) || GraphEdits.ConsumerCount(graph, o) > 0))) return false;
        if (bn.Attribute("training_mode")?.AsInt() == 1) return false;
        if (bn.Attribute("spatial") is { } spatial && spatial.Kind == AttributeKind.Int && spatial.AsInt() == 0) return false;
        if (bn.Inputs.Count < 5) return false;
        var consts = bn.Inputs.Skip(1).Take(4).Select(i => GraphEdits.Constant(graph, i)).ToArray();
        if (consts.Any(c => c is null || c.DataType != DataType.Float || c.Rank != 1)) return false;
        float eps = bn.Attribute("epsilon")?.AsFloat() ?? 1e-5f;
        var scale = consts[0]!.Floats;
        var b = consts[1]!.Floats;
        var mean = consts[2]!.Floats;
        var variance = consts[3]!.Floats;
        int c = scale.Length;
        if (b.Length != c || mean.Length != c || variance.Length != c) return false;
        s = new float[c];
        shift = new float[c];
        for (int i = 0; i < c; i++)
        {
            // Double precision keeps the folded weights as close to BN's float math as possible.
            double si = scale[i] / Math.Sqrt((double)variance[i] + eps);
            s[i] = (float)si;
            shift[i] = (float)(b[i] - mean[i] * si);
        }
        return true;
    }

    private static bool FuseConv(Graph graph, Node conv, float[] s, float[] shift)
    {
        var w = GraphEdits.Constant(graph, conv.Inputs[1]);
        if (w is null || w.DataType != DataType.Float || w.Shape[0] != s.Length) return false;
        var bias = conv.HasInput(2) ? GraphEdits.Constant(graph, conv.Inputs[2]) : null;
        if (conv.HasInput(2) && bias is null) return false;
        int m = w.Shape[0];
        int per = w.Length / m;
        var nw = w.Clone();
        var wf = nw.Floats;
        for (int o = 0; o < m; o++)
            for (int j = 0; j < per; j++) wf[o * per + j] *= s[o];
        var nb = new float[m];
        for (int o = 0; o < m; o++) nb[o] = (bias is null ? 0f : bias.Floats[o]) * s[o] + shift[o];
        conv.Inputs[1] = GraphEdits.AddInitializer(graph, conv.Inputs[1] + "_bnfused", nw);
        string biasName = GraphEdits.AddInitializer(graph, (bias is null ? conv.Outputs[0] + "_bias" : conv.Inputs[2]) + "_bnfused", Tensor.FromArray(nb, m));
        if (conv.Inputs.Count > 2) conv.Inputs[2] = biasName; else conv.Inputs.Add(biasName);
        return true;
    }

    private static bool FuseGemm(Graph graph, Node gemm, float[] s, float[] shift)
    {
        var w = GraphEdits.Constant(graph, gemm.Inputs[1]);
        if (w is null || w.DataType != DataType.Float || w.Rank != 2) return false;
        bool transB = gemm.Attribute("transB")?.AsInt() == 1;
        int n = transB ? w.Shape[0] : w.Shape[1];
        if (n != s.Length) return false;
        float beta = gemm.Attribute("beta")?.AsFloat() ?? 1f;
        var c = gemm.HasInput(2) ? GraphEdits.Constant(graph, gemm.Inputs[2]) : null;
        if (gemm.HasInput(2) && (c is null || c.Rank > 1 || (c.Rank == 1 && c.Length != n && c.Length != 1))) return false;
        var nw = ScaleColumns(w, s, transB);
        var nb = new float[n];
        for (int j = 0; j < n; j++)
        {
            float cj = c is null ? 0f : c.Floats[c.Length == 1 ? 0 : j];
            nb[j] = beta * cj * s[j] + shift[j];
        }
        gemm.Inputs[1] = GraphEdits.AddInitializer(graph, gemm.Inputs[1] + "_bnfused", nw);
        string biasName = GraphEdits.AddInitializer(graph, gemm.Outputs[0] + "_bias_bnfused", Tensor.FromArray(nb, n));
        if (gemm.Inputs.Count > 2) gemm.Inputs[2] = biasName; else gemm.Inputs.Add(biasName);
        gemm.Set(NodeAttribute.Float("beta", 1f));
        return true;
    }

    private static bool FuseMatMul(Model model, Node matmul, float[] s, float[] shift)
    {
        var graph = model.Graph;
        var w = GraphEdits.Constant(graph, matmul.Inputs[1]);
        if (w is null || w.DataType != DataType.Float || w.Rank != 2 || w.Shape[1] != s.Length) return false;
        // BatchNormalization normalises axis 1, which is MatMul's last axis only for 2-D inputs.
        var a = ShapeInference.Run(model, strict: false).ShapeOf(matmul.Inputs[0]);
        if (a is null || a.Length != 2) return false;
        var nw = ScaleColumns(w, s, transposed: false);
        var gemm = new Node("Gemm", new[] { matmul.Inputs[0], GraphEdits.AddInitializer(graph, matmul.Inputs[1] + "_bnfused", nw),
            GraphEdits.AddInitializer(graph, matmul.Outputs[0] + "_bias_bnfused", Tensor.FromArray((float[])shift.Clone(), shift.Length)) },
            matmul.Outputs, matmul.Name);
        graph.Nodes[graph.Nodes.IndexOf(matmul)] = gemm;
        return true;
    }

    // Multiplies output column j of op(W) by s[j].
    private static Tensor ScaleColumns(Tensor w, float[] s, bool transposed)
    {
        var nw = w.Clone();
        var f = nw.Floats;
        int rows = w.Shape[0], cols = w.Shape[1];
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < cols; col++)
                f[r * cols + col] *= transposed ? s[r] : s[col];
        return nw;
    }
}
