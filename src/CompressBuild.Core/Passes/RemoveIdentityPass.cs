namespace CompressBuild.Core.Passes;

/// <summary>Removes Identity nodes and Dropout nodes that are identities at inference.</summary>
/// <remarks>
/// Dropout is an identity unless its training_mode input is a constant true, and its optional
/// mask output must be unused.
/// </remarks>
public sealed class RemoveIdentityPass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "remove-identity";

    /// <inheritdoc/>
    public int Run(Model model)
    {
        var graph = model.Graph;
        int count = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            bool candidate = node.Domain is "" or "ai.onnx" && node.OpType switch
            {
                "Identity" => true,
                "Dropout" => IsInferenceDropout(graph, node),
                _ => false,
            };
            if (candidate && node.Inputs.Count > 0 && node.Inputs[0].Length > 0 && GraphEdits.Bypass(graph, node)) count++;
        }
        return count;
    }

    private static bool IsInferenceDropout(Graph graph, Node node)
    {
        if (node.Outputs.Count > 1 && node.Outputs[1].Length > 0 &&
            (graph.IsOutput(node.Outputs[1]) || GraphEdits.ConsumerCount(graph, node.Outputs[1]) > 0))
            return false;
        if (node.HasInput(2))
        {
            var mode = GraphEdits.Constant(graph, node.Inputs[2]);
            if (mode is null || mode.Length != 1 || mode.GetDouble(0) != 0) return false;
        }
        return true;
    }
}
