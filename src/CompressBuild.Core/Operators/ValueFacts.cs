using CompressBuild.Onnx;

namespace CompressBuild.Core.Operators;

/// <summary>
/// What is known about a value: its element type, its shape (dims may be symbolic, null = unknown
/// rank), its contents when constant, and — for small integer vectors that describe shapes — its
/// elements as <see cref="Dim"/>s, which may be symbolic (the output of <c>Shape</c> on a batched
/// tensor is <c>[batch,16,5,5]</c>).
/// </summary>
internal sealed class ValueFacts
{
    public ValueFacts(DataType type, Dim[]? shape, Tensor? value = null, Dim[]? elements = null)
    {
        Type = type;
        Shape = shape;
        Value = value;
        Elements = elements;
    }

    /// <summary>Element type.</summary>
    public DataType Type { get; }

    /// <summary>Static shape, or null when the rank is unknown.</summary>
    public Dim[]? Shape { get; }

    /// <summary>The value, when it is a constant (initializer, folded) or at run time.</summary>
    public Tensor? Value { get; }

    /// <summary>Elements of a rank-0/1 integer value as dims (possibly symbolic), or null.</summary>
    public Dim[]? Elements { get; }

    /// <summary>Facts of a concrete tensor (run time and constants).</summary>
    public static ValueFacts Of(Tensor t) => new(t.DataType, Dim.FromShape(t.Shape), t, ElementsOf(t));

    /// <summary>Elements as dims for small integer tensors of rank 0 or 1.</summary>
    public static Dim[]? ElementsOf(Tensor t)
    {
        if (t.Rank > 1 || t.Length > 64) return null;
        if (t.DataType == DataType.Int64 && t.Data is long[] l)
        {
            var r = new Dim[l.Length];
            for (int i = 0; i < l.Length; i++) r[i] = Dim.Of(l[i]);
            return r;
        }
        if (t.DataType == DataType.Int32 && t.Data is int[] a)
        {
            var r = new Dim[a.Length];
            for (int i = 0; i < a.Length; i++) r[i] = Dim.Of(a[i]);
            return r;
        }
        return null;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{DataTypes.OnnxName(Type)}{(Shape is null ? "[?]" : Dim.Format(Shape))}{(Value is not null ? " const" : "")}{(Elements is not null && Value is null ? " = " + Dim.Format(Elements) : "")}";
}
