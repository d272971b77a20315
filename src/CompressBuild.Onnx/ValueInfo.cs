namespace CompressBuild.Onnx;

/// <summary>A named value's declared type: element type and (optionally) static shape.</summary>
public sealed class ValueInfo
{
    /// <summary>Creates a tensor value description.</summary>
    public ValueInfo(string name, DataType elementType, Dim[]? shape)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape;
    }

    /// <summary>The value's name in the graph.</summary>
    public string Name { get; set; }

    /// <summary>The element type (Undefined when the type is not a tensor or was not declared).</summary>
    public DataType ElementType { get; set; }

    /// <summary>The static shape, or null when the rank is unknown.</summary>
    public Dim[]? Shape { get; set; }

    /// <summary>Documentation from the model.</summary>
    public string? DocString { get; set; }

    /// <summary>
    /// For values that are not tensors (sequences, maps, optionals), the serialized ONNX TypeProto,
    /// kept so the model round-trips; null for tensors.
    /// </summary>
    public byte[]? NonTensorType { get; set; }

    /// <summary>True for a tensor value.</summary>
    public bool IsTensor => NonTensorType is null;

    /// <summary>A copy with the same contents.</summary>
    public ValueInfo Clone() => new(Name, ElementType, Shape is null ? null : (Dim[])Shape.Clone())
    {
        DocString = DocString,
        NonTensorType = NonTensorType,
    };

    /// <inheritdoc/>
    public override string ToString() =>
        IsTensor ? $"{Name}: {DataTypes.OnnxName(ElementType)}{(Shape is null ? "[?]" : Dim.Format(Shape))}" : $"{Name}: (non-tensor)";
}
