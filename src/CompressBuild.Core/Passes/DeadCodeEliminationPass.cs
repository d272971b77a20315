namespace CompressBuild.Core.Passes;

/// <summary>Removes nodes whose outputs nothing reads, and initializers nothing reads.</summary>
public sealed class DeadCodeEliminationPass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "remove-dead-code";

    /// <inheritdoc/>
    public int Run(Model model)
    {
        var graph = model.Graph;
        int count = 0;
        var live = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        // Walk producers backwards from the outputs (nodes in any order: iterate to a fixpoint).
        var order = graph.TopologicalOrder(model.DisplayName);
        var keep = new HashSet<Node>();
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var n = order[i];
            if (!n.Outputs.Any(live.Contains)) continue;
            keep.Add(n);
            foreach (var input in n.Inputs)
                if (input.Length > 0) live.Add(input);
        }
        count += graph.Nodes.RemoveAll(n => !keep.Contains(n));
        foreach (var name in graph.Initializers.Keys.ToList())
        {
            if (live.Contains(name)) continue;
            graph.Initializers.Remove(name);
            graph.InitializerDocStrings.Remove(name);
            graph.Inputs.RemoveAll(i => i.Name == name);
            count++;
        }
        var produced = new HashSet<string>(graph.Nodes.SelectMany(n => n.Outputs), StringComparer.Ordinal);
        graph.ValueInfos.RemoveAll(v => !produced.Contains(v.Name));
        return count;
    }
}
