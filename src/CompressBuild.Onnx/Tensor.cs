using System.Runtime.InteropServices;

namespace CompressBuild.Onnx;

/// <summary>
/// A dense tensor: an element type, a concrete shape and one array of exactly
/// <see cref="Length"/> elements in row-major order.
/// </summary>
/// <remarks>
/// The element array is exposed for speed; the engine treats tensors it did not allocate as
/// read-only. <see cref="Shape"/> must not be modified.
/// </remarks>
public sealed class Tensor
{
    private Tensor(DataType type, int[] shape, Array data)
    {
        DataType = type;
        Shape = shape;
        Data = data;
    }

    /// <summary>The ONNX element type.</summary>
    public DataType DataType { get; }

    /// <summary>The concrete shape (empty for a scalar).</summary>
    public int[] Shape { get; }

    /// <summary>The element array (float[], long[], Half[], string[], ... per <see cref="DataTypes.ClrType"/>).</summary>
    public Array Data { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Wraps an existing array (not copied) as a tensor of the given shape.</summary>
    public static Tensor FromArray<T>(T[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        int n = ShapeMath.ElementCount(shape);
        if (n != data.Length)
            throw new ArgumentException($"shape [{ShapeMath.Format(shape)}] needs {n} elements, the array has {data.Length}");
        return new Tensor(DataTypes.FromClr(typeof(T)), (int[])shape.Clone(), data);
    }

    /// <summary>Wraps an array of the CLR type matching <paramref name="type"/>.</summary>
    public static Tensor FromArray(DataType type, Array data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        var clr = DataTypes.ClrType(type) ?? throw new ArgumentException($"element type {DataTypes.OnnxName(type)} is not supported");
        if (data.GetType().GetElementType() != clr)
            throw new ArgumentException($"a {DataTypes.OnnxName(type)} tensor needs a {clr.Name}[] array, got {data.GetType().Name}");
        int n = ShapeMath.ElementCount(shape);
        if (n != data.Length)
            throw new ArgumentException($"shape [{ShapeMath.Format(shape)}] needs {n} elements, the array has {data.Length}");
        return new Tensor(type, (int[])shape.Clone(), data);
    }

    /// <summary>A new tensor whose elements are not initialised (numeric types) or default.</summary>
    public static Tensor Allocate(DataType type, int[] shape)
    {
        int n = ShapeMath.ElementCount(shape);
        Array data = type switch
        {
            DataType.Float => GC.AllocateUninitializedArray<float>(n),
            DataType.Double => GC.AllocateUninitializedArray<double>(n),
            DataType.Int64 => GC.AllocateUninitializedArray<long>(n),
            DataType.Int32 => GC.AllocateUninitializedArray<int>(n),
            _ => System.Array.CreateInstance(DataTypes.ClrType(type) ?? throw new ArgumentException($"element type {DataTypes.OnnxName(type)} is not supported"), n),
        };
        if (type == DataType.String) Array.Fill((string[])data, string.Empty);
        return new Tensor(type, (int[])shape.Clone(), data);
    }

    /// <summary>A new tensor filled with zeros (empty strings, false).</summary>
    public static Tensor Zeros(DataType type, int[] shape)
    {
        var t = Allocate(type, shape);
        if (type != DataType.String) System.Array.Clear(t.Data);
        return t;
    }

    /// <summary>A rank-0 tensor holding one value.</summary>
    public static Tensor Scalar<T>(T value) => FromArray(new[] { value });

    /// <summary>A 1-D int64 tensor (shapes, axes, indices).</summary>
    public static Tensor Int64Vector(params long[] values) => FromArray(values, values.Length);

    /// <summary>The elements as a span of <typeparamref name="T"/>; throws if the type differs.</summary>
    public Span<T> Span<T>()
    {
        // An exact type check: the CLR lets byte[] pass as sbyte[] (and uint[] as int[], ...).
        if (Data.GetType() == typeof(T[])) return (T[])Data;
        throw new InvalidOperationException($"tensor holds {DataTypes.OnnxName(DataType)}, not {typeof(T).Name}");
    }

    /// <summary>The element array as <typeparamref name="T"/>[]; throws if the type differs.</summary>
    public T[] ArrayOf<T>() => Data.GetType() == typeof(T[]) ? (T[])Data : throw new InvalidOperationException($"tensor holds {DataTypes.OnnxName(DataType)}, not {typeof(T).Name}");

    /// <summary>The float elements (throws unless <see cref="DataType"/> is Float).</summary>
    public float[] Floats => ArrayOf<float>();

    /// <summary>The same elements viewed with another shape of equal element count (no copy).</summary>
    public Tensor Reshape(params int[] shape)
    {
        if (ShapeMath.ElementCount(shape) != Length)
            throw new ArgumentException($"cannot view {Length} elements as [{ShapeMath.Format(shape)}]");
        return new Tensor(DataType, (int[])shape.Clone(), Data);
    }

    /// <summary>A deep copy.</summary>
    public Tensor Clone() => new(DataType, (int[])Shape.Clone(), (Array)Data.Clone());

    /// <summary>Raw little-endian bytes of the elements (not for strings).</summary>
    public ReadOnlySpan<byte> Bytes => DataType switch
    {
        DataType.String => throw new InvalidOperationException("string tensors have no raw bytes"),
        DataType.Bool => MemoryMarshal.AsBytes<bool>((bool[])Data),
        _ => MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(Data), Length * DataTypes.Size(DataType)),
    };

    /// <summary>
    /// Reads every element as a double (numeric and bool types), e.g. for comparisons and printing.
    /// </summary>
    public double GetDouble(int index) => DataType switch
    {
        // Dispatch on DataType, not on the array's type: the CLR lets byte[] match sbyte[] patterns.
        DataType.Float => ((float[])Data)[index],
        DataType.Double => ((double[])Data)[index],
        DataType.Int64 => ((long[])Data)[index],
        DataType.Int32 => ((int[])Data)[index],
        DataType.Float16 => (double)((Half[])Data)[index],
        DataType.BFloat16 => (float)((BFloat16[])Data)[index],
        DataType.Int8 => ((sbyte[])Data)[index],
        DataType.UInt8 => ((byte[])Data)[index],
        DataType.Int16 => ((short[])Data)[index],
        DataType.UInt16 => ((ushort[])Data)[index],
        DataType.UInt32 => ((uint[])Data)[index],
        DataType.UInt64 => ((ulong[])Data)[index],
        DataType.Bool => ((bool[])Data)[index] ? 1 : 0,
        _ => throw new InvalidOperationException($"{DataTypes.OnnxName(DataType)} elements are not numeric"),
    };

    /// <summary>Reads an integer-valued tensor (int64, int32, ...) as longs.</summary>
    public long[] ToInt64Array()
    {
        if (DataType == DataType.Int64) return (long[])Data.Clone();
        if (DataTypes.IsFloatingPoint(DataType) || DataType == DataType.String)
            throw new InvalidOperationException($"{DataTypes.OnnxName(DataType)} is not an integer type");
        var r = new long[Length];
        for (int i = 0; i < r.Length; i++)
            r[i] = DataType == DataType.UInt64 ? (long)((ulong[])Data)[i] : (long)GetDouble(i);
        return r;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{DataTypes.OnnxName(DataType)}[{ShapeMath.Format(Shape)}]";
}
