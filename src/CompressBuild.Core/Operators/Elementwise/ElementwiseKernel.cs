namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>Base of the element-wise family: type tests and the errors its kernels share.</summary>
internal abstract class ElementwiseKernel : OpKernel
{
    protected ElementwiseKernel(NodeContext ctx) : base(ctx)
    {
    }

    /// <summary>True for the numeric element types (everything the engine holds but strings and bools).</summary>
    protected static bool IsNumeric(DataType t) => DataTypes.IsSupported(t) && t is not (DataType.String or DataType.Bool);

    /// <summary>True for the signed and unsigned integer types.</summary>
    protected static bool IsInteger(DataType t) => IsNumeric(t) && !DataTypes.IsFloatingPoint(t);

    /// <summary>Throws unless <paramref name="t"/> is float32: the engine computes gradients in float32 only.</summary>
    protected void RequireFloatGradient(Tensor t)
    {
        if (t.DataType != DataType.Float)
            throw new CompressBuildException(ErrorCodes.NotDifferentiable,
                $"{Where}: node {Node.DisplayName}: gradients are computed for FLOAT tensors only, this input is {DataTypes.OnnxName(t.DataType)}.");
    }

    /// <summary>An error about the values being computed (CB3004), naming the node.</summary>
    protected CompressBuildException ExecutionError(string message) =>
        new(ErrorCodes.ExecutionFailed, $"{Where}: node {Node.DisplayName}: {message}");

    /// <summary>Float elements of shape <paramref name="srcShape"/> repeated to <paramref name="shape"/> (no copy when already that size).</summary>
    protected static float[] ExpandFloats(float[] src, int[] srcShape, int[] shape)
    {
        int n = ShapeMath.ElementCount(shape);
        if (src.Length == n) return src;
        var r = new float[n];
        Kernels.Broadcasting.Expand<float>(src, srcShape, r, shape);
        return r;
    }

    /// <summary>Checks that inputs <paramref name="first"/>.. all have input <paramref name="first"/>'s type; returns it.</summary>
    protected DataType SameTypes(ShapeContext ctx, int first, int count)
    {
        var t = ctx.InputType(first);
        for (int i = first + 1; i < first + count; i++)
            if (ctx.HasInput(i) && ctx.InputType(i) != t)
                throw ctx.Error($"input {i} is {DataTypes.OnnxName(ctx.InputType(i))}, input {first} is {DataTypes.OnnxName(t)}; they must have the same element type");
        return t;
    }
}
