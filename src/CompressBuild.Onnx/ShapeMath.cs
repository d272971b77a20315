namespace CompressBuild.Onnx;

/// <summary>Checked arithmetic on concrete shapes.</summary>
public static class ShapeMath
{
    /// <summary>
    /// Number of elements of a shape; throws <see cref="OverflowException"/> when it does not fit in
    /// an <see cref="int"/> (the engine's tensors are single arrays).
    /// </summary>
    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d}");
            n = checked(n * d);
            if (n > Array.MaxLength) throw new OverflowException($"shape [{Format(shape)}] has more than {Array.MaxLength} elements");
        }
        return (int)n;
    }

    /// <summary>Product of dims[start..end).</summary>
    public static int Product(ReadOnlySpan<int> shape, int start, int end)
    {
        long n = 1;
        for (int i = start; i < end; i++) n = checked(n * shape[i]);
        return checked((int)n);
    }

    /// <summary>Row-major strides (in elements) of a shape.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /// <summary>Normalizes a possibly negative axis for a tensor of the given rank.</summary>
    public static int NormalizeAxis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1) && !(rank == 0 && a == 0))
            throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is out of range for rank {rank}");
        return (int)a;
    }

    /// <summary>"[2,3,4]"-style text of a shape.</summary>
    public static string Format(ReadOnlySpan<int> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return string.Join(",", parts);
    }

    /// <summary>True when both shapes have the same rank and dims.</summary>
    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>
    /// The numpy-style broadcast of two shapes, or null when they are incompatible.
    /// </summary>
    public static int[]? Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da == db || db == 1) r[i] = da;
            else if (da == 1) r[i] = db;
            else return null;
        }
        return r;
    }
}
