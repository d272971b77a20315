namespace CompressBuild.Core.Planning;

/// <summary>How a float constant is stored in the weight blob.</summary>
public enum ConstantStorage
{
    /// <summary>As its own element type (fp32 for weights).</summary>
    Native,

    /// <summary>IEEE half precision; kernels widen to fp32.</summary>
    Float16,

    /// <summary>Symmetric int8 with fp32 scales; kernels dequantize.</summary>
    Int8,
}

/// <summary>A constant's storage; for <see cref="ConstantStorage.Int8"/>, the axis scales run along (-1: one scale).</summary>
public readonly record struct ConstantEncoding(ConstantStorage Storage, int Axis = -1)
{
    /// <summary>Stored as is.</summary>
    public static ConstantEncoding Native => new(ConstantStorage.Native);

    /// <summary>Stored as fp16.</summary>
    public static ConstantEncoding Float16 => new(ConstantStorage.Float16);

    /// <summary>Int8 with one scale per slice along <paramref name="axis"/>.</summary>
    public static ConstantEncoding Int8PerChannel(int axis) => new(ConstantStorage.Int8, axis);

    /// <summary>Int8 with one scale.</summary>
    public static ConstantEncoding Int8PerTensor => new(ConstantStorage.Int8, -1);
}
