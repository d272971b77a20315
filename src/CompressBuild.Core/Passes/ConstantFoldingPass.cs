using CompressBuild.Core.Shapes;

namespace CompressBuild.Core.Passes;

/// <summary>
/// Replaces nodes whose outputs are computable from constants by initializers, and resolves shape
/// inputs that depend only on static dims and the batch size (PyTorch's
/// Shape→Gather→Unsqueeze→Concat→Reshape chains become a constant shape with -1 for the batch).
/// </summary>
public sealed class ConstantFoldingPass : IGraphPass
{
    /// <summary>Folded outputs larger than this many elements are kept only if they do not grow the model.</summary>
    public const int SmallConstantElements = 4096;

    /// <inheritdoc/>
    public string Name => "fold-constants";

    /// <inheritdoc/>
    public int Run(Model model)
    {
        var graph = model.Graph;
        var inferred = ShapeInference.Run(model, strict: false);
        int count = 0;
        foreach (var node in graph.TopologicalOrder(model.DisplayName))
        {
            if (node.OpType is "Dropout" or "RandomNormal" or "RandomUniform" or "RandomNormalLike" or "RandomUniformLike" or "Multinomial")
                continue;
            if (TryFold(graph, node, inferred)) count++;
            else if (node.OpType == "Reshape" && TryResolveReshape(graph, node, inferred)) count++;
        }
        return count;
    }

    private static bool TryFold(Graph graph, Node node, ShapeInferenceResult inferred)
    {
        var outputs = node.Outputs.Where(o => o.Length > 0).ToList();
        if (outputs.Count == 0 || outputs.Any(graph.IsOutput)) return false;
        var values = outputs.Select(inferred.ConstantOf).ToList();
        if (values.Any(v => v is null)) return false;
        long produced = values.Sum(v => (long)v!.Length);
        long consumed = node.Inputs.Where(i => i.Length > 0).Sum(i => (long)(inferred.ConstantOf(i)?.Length ?? 0));
        // A fold that inflates the model (ConstantOfShape of a large shape) is not worth it.
        if (produced > SmallConstantElements && produced > consumed) return false;
        graph.Nodes.Remove(node);
        for (int k = 0; k < outputs.Count; k++) graph.Initializers[outputs[k]] = values[k]!;
        return true;
    }

    private static bool TryResolveReshape(Graph graph, Node node, ShapeInferenceResult inferred)
    {
        if (node.Inputs.Count < 2 || GraphEdits.Constant(graph, node.Inputs[1]) is not null) return false;
        var shape = inferred.ShapeOf(node.Outputs[0]);
        if (shape is null || shape.Count(d => !d.IsKnown) > 1 || shape.Any(d => d.IsKnown && d.Value == 0)) return false;
        var target = shape.Select(d => d.IsKnown ? d.Value : -1L).ToArray();
        node.Inputs[1] = GraphEdits.AddInitializer(graph, $"{node.Outputs[0]}_shape", Tensor.Int64Vector(target));
        return true;
    }
}
