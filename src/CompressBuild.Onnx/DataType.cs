namespace CompressBuild.Onnx;

/// <summary>Tensor element types, numbered exactly as ONNX's <c>TensorProto.DataType</c>.</summary>
public enum DataType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>UTF-8 string.</summary>
    String = 8,
    /// <summary>Boolean.</summary>
    Bool = 9,
    /// <summary>16-bit IEEE float.</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Complex of two floats (not supported by the engine).</summary>
    Complex64 = 14,
    /// <summary>Complex of two doubles (not supported by the engine).</summary>
    Complex128 = 15,
    /// <summary>Brain float: the upper 16 bits of a 32-bit float.</summary>
    BFloat16 = 16,
}

/// <summary>Facts about <see cref="DataType"/> values: CLR type, size, names.</summary>
public static class DataTypes
{
    /// <summary>The CLR element type the engine stores this ONNX type as, or null if unsupported.</summary>
    public static Type? ClrType(DataType type) => type switch
    {
        DataType.Float => typeof(float),
        DataType.UInt8 => typeof(byte),
        DataType.Int8 => typeof(sbyte),
        DataType.UInt16 => typeof(ushort),
        DataType.Int16 => typeof(short),
        DataType.Int32 => typeof(int),
        DataType.Int64 => typeof(long),
        DataType.String => typeof(string),
        DataType.Bool => typeof(bool),
        DataType.Float16 => typeof(Half),
        DataType.Double => typeof(double),
        DataType.UInt32 => typeof(uint),
        DataType.UInt64 => typeof(ulong),
        DataType.BFloat16 => typeof(BFloat16),
        _ => null,
    };

    /// <summary>The ONNX type for a CLR element type.</summary>
    public static DataType FromClr(Type t)
    {
        if (t == typeof(float)) return DataType.Float;
        if (t == typeof(byte)) return DataType.UInt8;
        if (t == typeof(sbyte)) return DataType.Int8;
        if (t == typeof(ushort)) return DataType.UInt16;
        if (t == typeof(short)) return DataType.Int16;
        if (t == typeof(int)) return DataType.Int32;
        if (t == typeof(long)) return DataType.Int64;
        if (t == typeof(string)) return DataType.String;
        if (t == typeof(bool)) return DataType.Bool;
        if (t == typeof(Half)) return DataType.Float16;
        if (t == typeof(double)) return DataType.Double;
        if (t == typeof(uint)) return DataType.UInt32;
        if (t == typeof(ulong)) return DataType.UInt64;
        if (t == typeof(BFloat16)) return DataType.BFloat16;
        throw new ArgumentException($"{t} is not an ONNX element type.", nameof(t));
    }

    /// <summary>Bytes per element in ONNX raw_data (0 for strings and unsupported types).</summary>
    public static int Size(DataType type) => type switch
    {
        DataType.Float or DataType.Int32 or DataType.UInt32 => 4,
        DataType.UInt8 or DataType.Int8 or DataType.Bool => 1,
        DataType.UInt16 or DataType.Int16 or DataType.Float16 or DataType.BFloat16 => 2,
        DataType.Int64 or DataType.Double or DataType.UInt64 or DataType.Complex64 => 8,
        DataType.Complex128 => 16,
        _ => 0,
    };

    /// <summary>True for types the engine can hold in a <see cref="Tensor"/>.</summary>
    public static bool IsSupported(DataType type) => ClrType(type) is not null;

    /// <summary>True for float, double, float16 and bfloat16.</summary>
    public static bool IsFloatingPoint(DataType type) =>
        type is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;

    /// <summary>The ONNX spelling, e.g. <c>FLOAT</c>, <c>INT64</c>.</summary>
    public static string OnnxName(DataType type) => type switch
    {
        DataType.UInt8 => "UINT8",
        DataType.Int8 => "INT8",
        DataType.UInt16 => "UINT16",
        DataType.Int16 => "INT16",
        DataType.Int32 => "INT32",
        DataType.Int64 => "INT64",
        DataType.UInt32 => "UINT32",
        DataType.UInt64 => "UINT64",
        DataType.Float16 => "FLOAT16",
        DataType.BFloat16 => "BFLOAT16",
        _ => Enum.IsDefined(type) ? type.ToString().ToUpperInvariant() : $"type {(int)type}",
    };
}
