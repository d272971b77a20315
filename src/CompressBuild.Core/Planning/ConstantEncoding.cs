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

    /// <summary>Int4 in [-8, 7], two per byte, fp16 scales per block of the reduction axis; kernels unpack in registers.</summary>
    Int4,

    /// <summary>Int2 in [-2, 1], four per byte, fp16 scales per block of the reduction axis; kernels unpack in registers.</summary>
    Int2,
}

/// <summary>
/// A constant's storage. For <see cref="ConstantStorage.Int8"/>: the axis scales run along (-1: one
/// scale). For the packed storages: the output-channel axis (see <see cref="LowBitLayout"/>) and the
/// block size along the reduction axis (0: one block per channel).
/// </summary>
public readonly record struct ConstantEncoding(ConstantStorage Storage, int Axis = -1, int Block = 0)
{
    /// <summary>Stored as is.</summary>
    public static ConstantEncoding Native => new(ConstantStorage.Native);

    /// <summary>Stored as fp16.</summary>
    public static ConstantEncoding Float16 => new(ConstantStorage.Float16);

    /// <summary>Int8 with one scale per slice along <paramref name="axis"/>.</summary>
    public static ConstantEncoding Int8PerChannel(int axis) => new(ConstantStorage.Int8, axis);

    /// <summary>Int8 with one scale.</summary>
    public static ConstantEncoding Int8PerTensor => new(ConstantStorage.Int8, -1);

    /// <summary>True for the packed sub-byte storages (int4, int2).</summary>
    public bool IsPacked => Storage is ConstantStorage.Int4 or ConstantStorage.Int2;

    /// <summary>Bits per stored weight (32 for <see cref="ConstantStorage.Native"/> floats).</summary>
    public int Bits => Storage switch
    {
        ConstantStorage.Float16 => 16,
        ConstantStorage.Int8 => 8,
        ConstantStorage.Int4 => 4,
        ConstantStorage.Int2 => 2,
        _ => 32,
    };
}
