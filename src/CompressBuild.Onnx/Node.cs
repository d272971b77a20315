namespace CompressBuild.Onnx;

/// <summary>One operator application in a graph.</summary>
public sealed class Node
{
    /// <summary>Creates a node in the default ONNX domain.</summary>
    public Node(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name = "")
    {
        OpType = opType;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
        Name = name;
    }

    /// <summary>The node's name (may be empty in a model; the engine names nodes when it needs to).</summary>
    public string Name { get; set; }

    /// <summary>The operator, e.g. <c>Conv</c>.</summary>
    public string OpType { get; set; }

    /// <summary>The operator domain; empty (or <c>ai.onnx</c>) is the default ONNX domain.</summary>
    public string Domain { get; set; } = "";

    /// <summary>Input value names in order; an empty string is an omitted optional input.</summary>
    public List<string> Inputs { get; }

    /// <summary>Output value names in order; an empty string is an omitted optional output.</summary>
    public List<string> Outputs { get; }

    /// <summary>Attributes in model order.</summary>
    public List<NodeAttribute> Attributes { get; } = new();

    /// <summary>Documentation from the model.</summary>
    public string? DocString { get; set; }

    /// <summary>A name for messages: the node name, else its op and first output.</summary>
    public string DisplayName => Name.Length > 0 ? $"'{Name}' ({OpType})" : $"{OpType} -> '{Outputs.FirstOrDefault()}'";

    /// <summary>The attribute with this name, or null.</summary>
    public NodeAttribute? Attribute(string name)
    {
        foreach (var a in Attributes)
            if (a.Name == name) return a;
        return null;
    }

    /// <summary>Sets (adds or replaces) an attribute.</summary>
    public Node Set(NodeAttribute attribute)
    {
        int i = Attributes.FindIndex(a => a.Name == attribute.Name);
        if (i >= 0) Attributes[i] = attribute; else Attributes.Add(attribute);
        return this;
    }

    /// <summary>True when input <paramref name="i"/> exists and is not omitted.</summary>
    public bool HasInput(int i) => i < Inputs.Count && Inputs[i].Length > 0;

    /// <summary>A shallow copy: new lists, same attribute objects.</summary>
    public Node Clone()
    {
        var n = new Node(OpType, Inputs, Outputs, Name) { Domain = Domain, DocString = DocString };
        n.Attributes.AddRange(Attributes);
        return n;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{DisplayName}({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}
