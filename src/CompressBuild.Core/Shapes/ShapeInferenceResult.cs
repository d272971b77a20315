using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Shapes;

/// <summary>What <see cref="ShapeInference"/> found for every value of a graph.</summary>
public sealed class ShapeInferenceResult
{
    private readonly Dictionary<string, ValueFacts> _facts;
    private readonly Dictionary<string, Node> _producers;

    internal ShapeInferenceResult(Dictionary<string, ValueFacts> facts, Dictionary<string, Node> producers)
    {
        _facts = facts;
        _producers = producers;
    }

    /// <summary>Element type of a value (Undefined if unknown).</summary>
    public DataType TypeOf(string value) => _facts.TryGetValue(value, out var f) ? f.Type : DataType.Undefined;

    /// <summary>Static shape of a value, or null when unknown.</summary>
    public Dim[]? ShapeOf(string value) => _facts.TryGetValue(value, out var f) ? f.Shape : null;

    /// <summary>The constant contents of a value, when it is computable from constants.</summary>
    public Tensor? ConstantOf(string value) => _facts.TryGetValue(value, out var f) ? f.Value : null;

    /// <summary>Elements of a small integer value as (possibly symbolic) dims, when known.</summary>
    public Dim[]? ElementsOf(string value) => _facts.TryGetValue(value, out var f) ? f.Elements : null;

    /// <summary>Every value with known facts.</summary>
    public IEnumerable<string> Values => _facts.Keys;

    internal ValueFacts? Facts(string value) => _facts.TryGetValue(value, out var f) ? f : null;

    /// <summary>
    /// Writes the inferred types and shapes into the graph's value_info (and fills in untyped
    /// graph outputs), so saved models carry them.
    /// </summary>
    public void ApplyTo(Graph graph)
    {
        var declared = new HashSet<string>(graph.Inputs.Select(i => i.Name).Concat(graph.Outputs.Select(o => o.Name)), StringComparer.Ordinal);
        graph.ValueInfos.Clear();
        foreach (var node in graph.Nodes)
            foreach (var o in node.Outputs)
                if (o.Length > 0 && !declared.Contains(o) && _facts.TryGetValue(o, out var f) && f.Shape is not null)
                    graph.ValueInfos.Add(new ValueInfo(o, f.Type, f.Shape));
        foreach (var output in graph.Outputs)
        {
            if (!_facts.TryGetValue(output.Name, out var f)) continue;
            if (output.ElementType == DataType.Undefined) output.ElementType = f.Type;
            if (output.Shape is null && f.Shape is not null) output.Shape = f.Shape;
        }
    }

    internal void CheckResolved(Graph graph, string where)
    {
        foreach (var node in graph.Nodes)
        {
            foreach (var o in node.Outputs)
            {
                if (o.Length == 0) continue;
                if (!_facts.TryGetValue(o, out var f) || f.Shape is null)
                    throw ShapeInference.Unresolved(where, o, node, "its shape is unknown");
                foreach (var d in f.Shape)
                    if (!d.IsKnown && d.Symbol != ShapeInference.BatchSymbol)
                        throw ShapeInference.Unresolved(where, o, node, $"dimension '{d}' of {Dim.Format(f.Shape)} is symbolic");
            }
        }
    }
}
