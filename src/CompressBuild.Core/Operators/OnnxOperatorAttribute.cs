namespace CompressBuild.Core.Operators;

/// <summary>
/// Marks an <see cref="OpKernel"/> as the implementation of an ONNX operator of the default domain.
/// The registry finds kernels by this attribute; the class needs a constructor taking a
/// <see cref="NodeContext"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
internal sealed class OnnxOperatorAttribute : Attribute
{
    public OnnxOperatorAttribute(string opType) => OpType = opType;

    /// <summary>The ONNX op_type, e.g. <c>Conv</c>.</summary>
    public string OpType { get; }

    /// <summary>Oldest opset version the kernel implements.</summary>
    public int MinOpset { get; init; } = 1;

    /// <summary>Newest opset version the kernel implements.</summary>
    public int MaxOpset { get; init; } = Onnx.OnnxModel.MaxSupportedOpset;

    /// <summary>
    /// The operator's domain: empty for ONNX. Other domains are for operators the engine's own
    /// passes create (the loader refuses them in user models).
    /// </summary>
    public string Domain { get; init; } = "";
}
