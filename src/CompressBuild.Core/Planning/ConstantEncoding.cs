namespace CompressBuild.Core.Planning;

/// <summary>How a float constant is stored in the weight blob.</summary>
public enum ConstantEncoding
{
    /// <summary>As its own element type (fp32 for weights).</summary>
    Native,

    /// <summary>IEEE half precision; kernels widen to fp32.</summary>
    Float16,

    /// <summary>Symmetric int8 with one fp32 scale per output channel (axis 0).</summary>
    Int8PerChannel,

    /// <summary>Symmetric int8 with one fp32 scale for the whole tensor.</summary>
    Int8PerTensor,
}
