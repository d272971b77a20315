namespace CompressBuild.Core.Passes;

/// <summary>Small graph-editing operations shared by passes.</summary>
internal static class GraphEdits
{
    /// <summary>Replaces every read of <paramref name="from"/> by <paramref name="to"/> (nodes and graph outputs are not renamed).</summary>
    public static void ReplaceUses(Graph graph, string from, string to)
    {
        foreach (var n in graph.Nodes)
            for (int i = 0; i < n.Inputs.Count; i++)
                if (n.Inputs[i] == from) n.Inputs[i] = to;
    }

    /// <summary>Number of nodes reading <paramref name="value"/> (a node reading it twice counts once).</summary>
    public static int ConsumerCount(Graph graph, string value) => graph.Nodes.Count(n => n.Inputs.Contains(value));

    /// <summary>True when <paramref name="value"/> is read by nothing but <paramref name="consumer"/> and is not a graph output.</summary>
    public static bool OnlyFeeds(Graph graph, string value, Node consumer) =>
        !graph.IsOutput(value) && graph.Nodes.All(n => n == consumer || !n.Inputs.Contains(value));

    /// <summary>
    /// The constant tensor behind a value (an initializer), or null. Graph inputs that also have an
    /// initializer (every weight in IR &lt; 4 exports) count as constants: a compressed predictor has
    /// no way to override them.
    /// </summary>
    public static Tensor? Constant(Graph graph, string value) =>
        value.Length > 0 && graph.Initializers.TryGetValue(value, out var t) ? t : null;

    /// <summary>Adds an initializer under a fresh name derived from <paramref name="hint"/>; returns the name.</summary>
    public static string AddInitializer(Graph graph, string hint, Tensor value)
    {
        string name = graph.UniqueName(hint);
        graph.Initializers[name] = value;
        return name;
    }

    /// <summary>
    /// Removes a single-input pass-through node (Identity, inference Dropout), rewiring its readers
    /// to its input. When its output is a graph output the producer's output is renamed instead.
    /// Returns false when the node must stay (e.g. it copies a graph input to a graph output).
    /// </summary>
    public static bool Bypass(Graph graph, Node node)
    {
        string input = node.Inputs[0];
        string output = node.Outputs[0];
        if (!graph.IsOutput(output))
        {
            graph.Nodes.Remove(node);
            ReplaceUses(graph, output, input);
            return true;
        }
        var producer = graph.Producer(input);
        if (producer is null || graph.IsOutput(input)) return false;
        graph.Nodes.Remove(node);
        int k = producer.Outputs.IndexOf(input);
        producer.Outputs[k] = output;
        ReplaceUses(graph, input, output);
        return true;
    }
}
