using CompressBuild.Core.Shapes;

namespace CompressBuild.Core.Passes;

/// <summary>
/// Rewrites MatMul(A, W) followed by Add(·, b) into Gemm(A, W, b) when A is 2-D, W is a constant
/// matrix and b a constant that Gemm can broadcast: one kernel, and the layer shape every
/// compression technique recognises.
/// </summary>
public sealed class MatMulAddToGemmPass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "matmul-add-to-gemm";

    /// <inheritdoc/>
    public int Run(Model model)
    {
        var graph = model.Graph;
        ShapeInferenceResult? inferred = null;
        int count = 0;
        foreach (var add in graph.Nodes.Where(n => n.OpType == "Add" && n.Domain is "" or "ai.onnx").ToList())
        {
            for (int side = 0; side < 2; side++)
            {
                var matmul = graph.Producer(add.Inputs[side]);
                if (matmul is null || matmul.OpType != "MatMul" || !GraphEdits.OnlyFeeds(graph, matmul.Outputs[0], add)) continue;
                var w = GraphEdits.Constant(graph, matmul.Inputs[1]);
                var bias = GraphEdits.Constant(graph, add.Inputs[1 - side]);
                if (w is null || bias is null || w.Rank != 2 || w.DataType != DataType.Float || bias.DataType != DataType.Float) continue;
                inferred ??= ShapeInference.Run(model, strict: false);
                var a = inferred.ShapeOf(matmul.Inputs[0]);
                if (a is null || a.Length != 2) continue;
                int n = w.Shape[1];
                if (!GemmBroadcastable(bias.Shape, a[0], n)) continue;
                var gemm = new Node("Gemm", new[] { matmul.Inputs[0], matmul.Inputs[1], add.Inputs[1 - side] }, new[] { add.Outputs[0] },
                    add.Name.Length > 0 ? add.Name : matmul.Name);
                graph.Nodes[graph.Nodes.IndexOf(add)] = gemm;
                graph.Nodes.Remove(matmul);
                count++;
                break;
            }
        }
        return count;
    }

    // Gemm broadcasts C unidirectionally to [M, N]: C may be [], [N], [1,N], [M,1], [M,N], [1,1].
    private static bool GemmBroadcastable(int[] c, Dim m, int n) => c.Length switch
    {
        0 => true,
        1 => c[0] == n || c[0] == 1,
        2 => (c[0] == 1 || (m.IsKnown && c[0] == m.Value)) && (c[1] == 1 || c[1] == n),
        _ => false,
    };
}
