using System.Globalization;

namespace CompressBuild.Onnx;

/// <summary>
/// One dimension of a static shape: a known size, or a known multiple of a symbolic size such as
/// the batch dimension (<c>batch</c>, <c>4*batch</c>).
/// </summary>
/// <remarks>
/// Shape inference computes with dims the same way whether they are known or symbolic; an
/// operation that cannot be expressed (a symbol plus a constant, a symbol divided unevenly)
/// throws <see cref="UnresolvedDimException"/>, which the caller reports naming the value.
/// </remarks>
public readonly struct Dim : IEquatable<Dim>
{
    private Dim(long value, string? symbol)
    {
        Value = value;
        Symbol = symbol;
    }

    /// <summary>The size when <see cref="Symbol"/> is null; otherwise the multiplier of the symbol.</summary>
    public long Value { get; }

    /// <summary>The symbolic name (e.g. <c>batch</c>), or null for a known size.</summary>
    public string? Symbol { get; }

    /// <summary>True when the size is a known number.</summary>
    public bool IsKnown => Symbol is null;

    /// <summary>A known size.</summary>
    public static Dim Of(long value) => new(value, null);

    /// <summary>A symbolic size, optionally multiplied by a known factor.</summary>
    public static Dim Symbolic(string name, long multiplier = 1) =>
        multiplier == 0 ? new(0, null) : new(multiplier, name);

    /// <summary>Implicit conversion from a known size.</summary>
    public static implicit operator Dim(long value) => Of(value);

    /// <summary>Implicit conversion from a known size.</summary>
    public static implicit operator Dim(int value) => Of(value);

    /// <summary>The known size; throws <see cref="UnresolvedDimException"/> for a symbolic dim.</summary>
    public int Known => IsKnown
        ? checked((int)Value)
        : throw new UnresolvedDimException($"dimension '{this}' must be a known number here");

    /// <summary>Product; a symbol times a number stays symbolic, a symbol times a symbol does not resolve.</summary>
    public static Dim operator *(Dim a, Dim b)
    {
        if (a.IsKnown && b.IsKnown) return Of(checked(a.Value * b.Value));
        if (a.IsKnown) return Symbolic(b.Symbol!, checked(b.Value * a.Value));
        if (b.IsKnown) return Symbolic(a.Symbol!, checked(a.Value * b.Value));
        throw new UnresolvedDimException($"'{a}' times '{b}' has no static size");
    }

    /// <summary>Exact quotient; a symbolic dim divided by a symbolic dim of the same symbol gives a number.</summary>
    public static Dim operator /(Dim a, Dim b)
    {
        if (b.IsKnown && b.Value == 0) throw new UnresolvedDimException($"'{a}' divided by 0");
        if (a.IsKnown && b.IsKnown) return Of(a.Value / b.Value);
        if (!a.IsKnown && b.IsKnown && a.Value % b.Value == 0) return Symbolic(a.Symbol!, a.Value / b.Value);
        if (!a.IsKnown && !b.IsKnown && a.Symbol == b.Symbol && a.Value % b.Value == 0) return Of(a.Value / b.Value);
        throw new UnresolvedDimException($"'{a}' divided by '{b}' has no static size");
    }

    /// <summary>Sum; symbolic dims add only with the same symbol (batch + batch = 2*batch).</summary>
    public static Dim operator +(Dim a, Dim b)
    {
        if (a.IsKnown && b.IsKnown) return Of(checked(a.Value + b.Value));
        if (!a.IsKnown && b.IsKnown && b.Value == 0) return a;
        if (a.IsKnown && a.Value == 0) return b;
        if (!a.IsKnown && !b.IsKnown && a.Symbol == b.Symbol) return Symbolic(a.Symbol!, checked(a.Value + b.Value));
        throw new UnresolvedDimException($"'{a}' plus '{b}' has no static size");
    }

    /// <summary>Difference (see <see cref="op_Addition"/>).</summary>
    public static Dim operator -(Dim a, Dim b) => a + (b * -1);

    /// <summary>Equality of value and symbol.</summary>
    public static bool operator ==(Dim a, Dim b) => a.Equals(b);

    /// <summary>Inequality.</summary>
    public static bool operator !=(Dim a, Dim b) => !a.Equals(b);

    /// <inheritdoc/>
    public bool Equals(Dim other) => Value == other.Value && Symbol == other.Symbol;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Dim d && Equals(d);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Value, Symbol);

    /// <summary><c>784</c>, <c>batch</c>, <c>4*batch</c>.</summary>
    public override string ToString() => Symbol is null
        ? Value.ToString(CultureInfo.InvariantCulture)
        : Value == 1 ? Symbol : $"{Value.ToString(CultureInfo.InvariantCulture)}*{Symbol}";

    /// <summary>Concrete dims of a tensor as <see cref="Dim"/>s.</summary>
    public static Dim[] FromShape(ReadOnlySpan<int> shape)
    {
        var r = new Dim[shape.Length];
        for (int i = 0; i < r.Length; i++) r[i] = Of(shape[i]);
        return r;
    }

    /// <summary>Known dims as ints; throws <see cref="UnresolvedDimException"/> if any is symbolic.</summary>
    public static int[] ToShape(ReadOnlySpan<Dim> dims)
    {
        var r = new int[dims.Length];
        for (int i = 0; i < r.Length; i++) r[i] = dims[i].Known;
        return r;
    }

    /// <summary>"[batch,1,28,28]"-style text.</summary>
    public static string Format(ReadOnlySpan<Dim> dims)
    {
        var parts = new string[dims.Length];
        for (int i = 0; i < dims.Length; i++) parts[i] = dims[i].ToString();
        return "[" + string.Join(",", parts) + "]";
    }

    /// <summary>Product of dims.</summary>
    public static Dim Product(ReadOnlySpan<Dim> dims)
    {
        Dim p = 1;
        foreach (var d in dims) p *= d;
        return p;
    }
}

/// <summary>A dimension that cannot be expressed statically (see <see cref="Dim"/>).</summary>
public sealed class UnresolvedDimException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UnresolvedDimException(string message) : base(message) { }
}
