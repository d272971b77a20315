namespace CompressBuild.Onnx;

/// <summary>
/// A computation graph: inputs, outputs, initializers (named constant tensors) and nodes.
/// </summary>
/// <remarks>
/// Passes edit a graph in place; <see cref="TopologicalOrder"/> and <see cref="Validate"/> check
/// it afterwards. Node order in <see cref="Nodes"/> is not required to be topological.
/// </remarks>
public sealed class Graph
{
    /// <summary>The graph's name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Documentation from the model.</summary>
    public string? DocString { get; set; }

    /// <summary>Graph inputs in order (may include names that are also initializers, as in IR &lt; 4).</summary>
    public List<ValueInfo> Inputs { get; } = new();

    /// <summary>Graph outputs in order.</summary>
    public List<ValueInfo> Outputs { get; } = new();

    /// <summary>Declared types of intermediate values.</summary>
    public List<ValueInfo> ValueInfos { get; } = new();

    /// <summary>Initializers (weights and other constants) by name, in model order.</summary>
    public OrderedDictionary<string, Tensor> Initializers { get; } = new(StringComparer.Ordinal);

    /// <summary>Doc strings of initializers that had one.</summary>
    public Dictionary<string, string> InitializerDocStrings { get; } = new(StringComparer.Ordinal);

    /// <summary>The nodes.</summary>
    public List<Node> Nodes { get; } = new();

    /// <summary>Serialized sparse initializers and quantization annotations, kept for round trips.</summary>
    public List<byte[]> OpaqueSparseInitializers { get; } = new();

    /// <summary>Serialized quantization annotations (TensorAnnotation), kept for round trips.</summary>
    public List<byte[]> OpaqueQuantizationAnnotations { get; } = new();

    /// <summary>Graph inputs that are not initializers: what a caller must feed.</summary>
    public IEnumerable<ValueInfo> RuntimeInputs => Inputs.Where(i => !Initializers.ContainsKey(i.Name));

    /// <summary>The declared type of a value (input, output or value_info), or null.</summary>
    public ValueInfo? FindValueInfo(string name) =>
        Inputs.Find(v => v.Name == name) ?? Outputs.Find(v => v.Name == name) ?? ValueInfos.Find(v => v.Name == name);

    /// <summary>The node producing <paramref name="value"/>, or null.</summary>
    public Node? Producer(string value) => Nodes.Find(n => n.Outputs.Contains(value));

    /// <summary>Nodes consuming <paramref name="value"/>.</summary>
    public IEnumerable<Node> Consumers(string value) => Nodes.Where(n => n.Inputs.Contains(value));

    /// <summary>True when <paramref name="value"/> is a graph output.</summary>
    public bool IsOutput(string value) => Outputs.Exists(o => o.Name == value);

    /// <summary>A value name not yet used in the graph, based on <paramref name="hint"/>.</summary>
    public string UniqueName(string hint)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in Inputs) used.Add(v.Name);
        foreach (var v in Outputs) used.Add(v.Name);
        foreach (var k in Initializers.Keys) used.Add(k);
        foreach (var n in Nodes)
        {
            used.Add(n.Name);
            foreach (var o in n.Outputs) used.Add(o);
            foreach (var i in n.Inputs) used.Add(i);
        }
        if (!used.Contains(hint)) return hint;
        for (int k = 1; ; k++)
        {
            string c = $"{hint}_{k}";
            if (!used.Contains(c)) return c;
        }
    }

    /// <summary>
    /// Checks the graph's structure and returns its nodes in a topological order (stable: ties keep
    /// model order). Throws <see cref="CompressBuildException"/> naming the node and value for a
    /// value produced twice, an input nothing produces, a cycle, or an output nothing produces.
    /// </summary>
    public List<Node> TopologicalOrder(string where = "the model")
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        var available = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in Inputs) available.Add(i.Name);
        foreach (var k in Initializers.Keys) available.Add(k);
        for (int n = 0; n < Nodes.Count; n++)
        {
            foreach (var o in Nodes[n].Outputs)
            {
                if (o.Length == 0) continue;
                if (producer.TryGetValue(o, out int other))
                    throw new CompressBuildException(ErrorCodes.DuplicateValue,
                        $"{where}: value '{o}' is produced by both node {Nodes[other].DisplayName} and node {Nodes[n].DisplayName}; every value must have one producer. Re-export the model.");
                if (available.Contains(o) && !Initializers.ContainsKey(o))
                    throw new CompressBuildException(ErrorCodes.DuplicateValue,
                        $"{where}: node {Nodes[n].DisplayName} writes '{o}', which is also a graph input; every value must have one producer. Re-export the model.");
                producer[o] = n;
            }
        }

        var indegree = new int[Nodes.Count];
        var dependents = new List<int>[Nodes.Count];
        for (int n = 0; n < Nodes.Count; n++)
        {
            dependents[n] = new List<int>();
        }
        for (int n = 0; n < Nodes.Count; n++)
        {
            foreach (var input in Nodes[n].Inputs.Distinct())
            {
                if (input.Length == 0) continue;
                if (producer.TryGetValue(input, out int p))
                {
                    indegree[n]++;
                    dependents[p].Add(n);
                }
                else if (!available.Contains(input) && !IsOuterScopeValue(input))
                {
                    throw new CompressBuildException(ErrorCodes.DanglingInput,
                        $"{where}: node {Nodes[n].DisplayName} reads '{input}', which no node, graph input or initializer provides. Re-export the model or add the missing input.");
                }
            }
        }

        // Kahn's algorithm with a min-heap on model position keeps the original order where possible.
        var ready = new PriorityQueue<int, int>();
        for (int n = 0; n < Nodes.Count; n++)
            if (indegree[n] == 0) ready.Enqueue(n, n);
        var order = new List<Node>(Nodes.Count);
        while (ready.TryDequeue(out int n, out _))
        {
            order.Add(Nodes[n]);
            foreach (int d in dependents[n])
                if (--indegree[d] == 0) ready.Enqueue(d, d);
        }
        if (order.Count != Nodes.Count)
        {
            var stuck = Enumerable.Range(0, Nodes.Count).Where(i => indegree[i] > 0).Select(i => Nodes[i].DisplayName).Take(5);
            throw new CompressBuildException(ErrorCodes.GraphCycle,
                $"{where}: the graph has a cycle through node(s) {string.Join(", ", stuck)}; ONNX graphs must be acyclic. Re-export the model.");
        }

        foreach (var o in Outputs)
        {
            if (!producer.ContainsKey(o.Name) && !available.Contains(o.Name))
                throw new CompressBuildException(ErrorCodes.MissingOutput,
                    $"{where}: graph output '{o.Name}' is not produced by any node, input or initializer. Re-export the model.");
        }
        return order;
    }

    /// <summary>Names visible from an enclosing graph (set for subgraphs of If/Loop/Scan).</summary>
    public ISet<string>? OuterScope { get; set; }

    private bool IsOuterScopeValue(string name) => OuterScope?.Contains(name) == true;

    /// <summary>Validates the structure (see <see cref="TopologicalOrder"/>).</summary>
    public void Validate(string where = "the model") => TopologicalOrder(where);

    /// <summary>Reorders <see cref="Nodes"/> topologically in place.</summary>
    public void SortTopologically(string where = "the model")
    {
        var order = TopologicalOrder(where);
        Nodes.Clear();
        Nodes.AddRange(order);
    }
}
