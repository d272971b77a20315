using System.Text;

namespace CompressBuild.Onnx;

/// <summary>The kinds of attribute value, numbered as ONNX's <c>AttributeProto.AttributeType</c>.</summary>
public enum AttributeKind
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>One float.</summary>
    Float = 1,
    /// <summary>One int64.</summary>
    Int = 2,
    /// <summary>One byte string (usually UTF-8 text).</summary>
    String = 3,
    /// <summary>One tensor.</summary>
    Tensor = 4,
    /// <summary>One subgraph.</summary>
    Graph = 5,
    /// <summary>A list of floats.</summary>
    Floats = 6,
    /// <summary>A list of int64s.</summary>
    Ints = 7,
    /// <summary>A list of byte strings.</summary>
    Strings = 8,
    /// <summary>A list of tensors.</summary>
    Tensors = 9,
    /// <summary>A list of subgraphs.</summary>
    Graphs = 10,
    /// <summary>A sparse tensor (kept as serialized bytes).</summary>
    SparseTensor = 11,
    /// <summary>A list of sparse tensors (kept as serialized bytes).</summary>
    SparseTensors = 12,
    /// <summary>A type (kept as serialized bytes).</summary>
    TypeProto = 13,
    /// <summary>A list of types (kept as serialized bytes).</summary>
    TypeProtos = 14,
}

/// <summary>A named attribute of a node.</summary>
public sealed class NodeAttribute
{
    private NodeAttribute(string name, AttributeKind kind, object? value)
    {
        Name = name;
        Kind = kind;
        Value = value;
    }

    /// <summary>The attribute's name.</summary>
    public string Name { get; }

    /// <summary>What kind of value it holds.</summary>
    public AttributeKind Kind { get; }

    /// <summary>
    /// The value: float, long, byte[] (String), Tensor, Graph, float[], long[], byte[][] (Strings),
    /// Tensor[], Graph[], or byte[][] of serialized protos for the sparse/type kinds.
    /// </summary>
    public object? Value { get; }

    /// <summary>Documentation from the model.</summary>
    public string? DocString { get; init; }

    /// <summary>For attributes inside functions: the referenced parent attribute.</summary>
    public string? RefAttrName { get; init; }

    /// <summary>A float attribute.</summary>
    public static NodeAttribute Float(string name, float v) => new(name, AttributeKind.Float, v);
    /// <summary>An int attribute.</summary>
    public static NodeAttribute Int(string name, long v) => new(name, AttributeKind.Int, v);
    /// <summary>A string attribute (stored as UTF-8).</summary>
    public static NodeAttribute String(string name, string v) => new(name, AttributeKind.String, Encoding.UTF8.GetBytes(v));
    /// <summary>A byte-string attribute.</summary>
    public static NodeAttribute Bytes(string name, byte[] v) => new(name, AttributeKind.String, v);
    /// <summary>A tensor attribute.</summary>
    public static NodeAttribute TensorValue(string name, Tensor v) => new(name, AttributeKind.Tensor, v);
    /// <summary>A subgraph attribute.</summary>
    public static NodeAttribute GraphValue(string name, Graph v) => new(name, AttributeKind.Graph, v);
    /// <summary>A float list attribute.</summary>
    public static NodeAttribute Floats(string name, params float[] v) => new(name, AttributeKind.Floats, v);
    /// <summary>An int list attribute.</summary>
    public static NodeAttribute Ints(string name, params long[] v) => new(name, AttributeKind.Ints, v);
    /// <summary>A string list attribute.</summary>
    public static NodeAttribute Strings(string name, params string[] v) =>
        new(name, AttributeKind.Strings, v.Select(Encoding.UTF8.GetBytes).ToArray());
    /// <summary>Any kind with a raw value (used by the model reader).</summary>
    public static NodeAttribute Create(string name, AttributeKind kind, object? value, string? docString = null, string? refAttrName = null) =>
        new(name, kind, value) { DocString = docString, RefAttrName = refAttrName };

    /// <summary>The value as a float (Float kind).</summary>
    public float AsFloat() => Kind == AttributeKind.Float ? (float)Value! : throw KindError(AttributeKind.Float);
    /// <summary>The value as an int64 (Int kind).</summary>
    public long AsInt() => Kind == AttributeKind.Int ? (long)Value! : throw KindError(AttributeKind.Int);
    /// <summary>The value as UTF-8 text (String kind).</summary>
    public string AsString() => Kind == AttributeKind.String ? Encoding.UTF8.GetString((byte[])Value!) : throw KindError(AttributeKind.String);
    /// <summary>The value as a tensor (Tensor kind).</summary>
    public Tensor AsTensor() => Kind == AttributeKind.Tensor ? (Tensor)Value! : throw KindError(AttributeKind.Tensor);
    /// <summary>The value as a graph (Graph kind).</summary>
    public Graph AsGraph() => Kind == AttributeKind.Graph ? (Graph)Value! : throw KindError(AttributeKind.Graph);
    /// <summary>The value as floats (Floats kind).</summary>
    public float[] AsFloats() => Kind == AttributeKind.Floats ? (float[])Value! : throw KindError(AttributeKind.Floats);
    /// <summary>The value as int64s (Ints kind).</summary>
    public long[] AsInts() => Kind == AttributeKind.Ints ? (long[])Value! : throw KindError(AttributeKind.Ints);
    /// <summary>The value as UTF-8 texts (Strings kind).</summary>
    public string[] AsStrings() => Kind == AttributeKind.Strings
        ? ((byte[][])Value!).Select(Encoding.UTF8.GetString).ToArray()
        : throw KindError(AttributeKind.Strings);

    private InvalidOperationException KindError(AttributeKind wanted) =>
        new($"attribute '{Name}' is {Kind}, not {wanted}");

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        AttributeKind.Float or AttributeKind.Int => $"{Name}={Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture)}",
        AttributeKind.String => $"{Name}=\"{AsString()}\"",
        AttributeKind.Ints => $"{Name}=[{string.Join(",", AsInts())}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", AsFloats().Select(f => f.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]",
        _ => $"{Name}=<{Kind}>",
    };
}
