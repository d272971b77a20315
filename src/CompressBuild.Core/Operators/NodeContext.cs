using CompressBuild.Onnx;

namespace CompressBuild.Core.Operators;

/// <summary>
/// What a kernel sees when it is bound to a node: the node, the opset in force, and typed,
/// validated access to attributes. Attribute errors name the node and the attribute.
/// </summary>
internal sealed class NodeContext
{
    public NodeContext(Node node, int opset, string where = "the model")
    {
        Node = node;
        Opset = opset;
        Where = where;
    }

    /// <summary>The node being bound.</summary>
    public Node Node { get; }

    /// <summary>The default-domain opset version of the model.</summary>
    public int Opset { get; }

    /// <summary>The model's display name, for messages.</summary>
    public string Where { get; }

    /// <summary>True if the attribute is present.</summary>
    public bool Has(string name) => Node.Attribute(name) is not null;

    /// <summary>An int attribute or its default.</summary>
    public long Int(string name, long defaultValue) => Get(name, AttributeKind.Int)?.AsInt() ?? defaultValue;

    /// <summary>A required int attribute.</summary>
    public long RequiredInt(string name) => Require(name, AttributeKind.Int).AsInt();

    /// <summary>A float attribute or its default.</summary>
    public float Float(string name, float defaultValue) => Get(name, AttributeKind.Float)?.AsFloat() ?? defaultValue;

    /// <summary>A string attribute or its default.</summary>
    public string String(string name, string defaultValue) => Get(name, AttributeKind.String)?.AsString() ?? defaultValue;

    /// <summary>An ints attribute, or null when absent.</summary>
    public long[]? Ints(string name) => Get(name, AttributeKind.Ints)?.AsInts();

    /// <summary>A floats attribute, or null when absent.</summary>
    public float[]? Floats(string name) => Get(name, AttributeKind.Floats)?.AsFloats();

    /// <summary>A strings attribute, or null when absent.</summary>
    public string[]? Strings(string name) => Get(name, AttributeKind.Strings)?.AsStrings();

    /// <summary>A tensor attribute, or null when absent.</summary>
    public Tensor? TensorAttr(string name) => Get(name, AttributeKind.Tensor)?.AsTensor();

    /// <summary>
    /// An error about this node's attributes (CB3002), naming model, node and what to do.
    /// </summary>
    public CompressBuildException Invalid(string message) =>
        new(ErrorCodes.InvalidAttribute, $"{Where}: node {Node.DisplayName}: {message}");

    private NodeAttribute? Get(string name, AttributeKind kind)
    {
        var a = Node.Attribute(name);
        if (a is null) return null;
        // Old exporters wrote ints attributes with one element where an int was meant, and vice versa.
        if (a.Kind != kind)
        {
            if (kind == AttributeKind.Ints && a.Kind == AttributeKind.Int) return NodeAttribute.Ints(name, a.AsInt());
            if (kind == AttributeKind.Floats && a.Kind == AttributeKind.Float) return NodeAttribute.Floats(name, a.AsFloat());
            throw Invalid($"attribute '{name}' must be {kind}, the model has {a.Kind}. Re-export the model.");
        }
        return a;
    }

    private NodeAttribute Require(string name, AttributeKind kind) =>
        Get(name, kind) ?? throw Invalid($"required attribute '{name}' is missing. Re-export the model.");
}
