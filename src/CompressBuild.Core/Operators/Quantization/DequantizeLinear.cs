namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// DequantizeLinear: y = (x - zero_point) * scale. Opset 10: per-tensor scale; opset 13: per-axis
/// scale and zero point along <c>axis</c> (default 1). x is int8, uint8 or int32; y is float.
/// </summary>
[OnnxOperator("DequantizeLinear", MinOpset = 10)]
internal sealed class DequantizeLinear : OpKernel
{
    private readonly long _axis;

    public DequantizeLinear(NodeContext ctx) : base(ctx) => _axis = ctx.Int("axis", 1);

    public override void InferShapes(ShapeContext ctx)
    {
        if (ctx.InputType(0) is not (DataType.Int8 or DataType.UInt8 or DataType.Int32)) throw TypeError(ctx.InputType(0), "input type");
        ctx.SetOutput(0, DataType.Float, ctx.InputShape(0));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var scale = ctx.Input(1).Floats;
        var zp = ctx.OptionalInput(2);
        var (channels, inner) = QuantizationAxis.Layout(x.Shape, scale.Length, _axis, Opset, this);
        var y = ctx.Output(0).Floats;
        for (int i = 0; i < y.Length; i++)
        {
            int c = channels == 1 ? 0 : i / inner % channels;
            double z = zp is null ? 0 : zp.GetDouble(zp.Length == 1 ? 0 : c);
            y[i] = (float)((x.GetDouble(i) - z) * scale[c]);
        }
    }
}

/// <summary>Per-tensor or per-axis layout shared by the quantization operators.</summary>
internal static class QuantizationAxis
{
    /// <summary>(channels, elements per channel slice) for a scale of <paramref name="scales"/> elements.</summary>
    public static (int Channels, int Inner) Layout(int[] shape, int scales, long axis, int opset, OpKernel kernel)
    {
        if (scales == 1) return (1, 1);
        if (opset < 13) throw kernel.ShapeError("per-axis scales need opset 13 or later");
        int a = (int)(axis < 0 ? axis + shape.Length : axis);
        if (a < 0 || a >= shape.Length || shape[a] != scales)
            throw kernel.ShapeError($"{scales} scales do not match axis {axis} of shape [{ShapeMath.Format(shape)}]");
        return (scales, ShapeMath.Product(shape, a + 1, shape.Length));
    }
}
