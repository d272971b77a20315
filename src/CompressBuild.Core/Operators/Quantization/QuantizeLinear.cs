namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// QuantizeLinear: y = saturate(round_half_even(x / scale) + zero_point). Opset 10: per-tensor;
/// opset 13: per-axis along <c>axis</c> (default 1). y is uint8 unless the zero point says int8.
/// </summary>
[OnnxOperator("QuantizeLinear", MinOpset = 10)]
internal sealed class QuantizeLinear : OpKernel
{
    private readonly long _axis;

    public QuantizeLinear(NodeContext ctx) : base(ctx) => _axis = ctx.Int("axis", 1);

    public override void InferShapes(ShapeContext ctx)
    {
        var type = ctx.HasInput(2) ? ctx.InputType(2) : DataType.UInt8;
        if (type is not (DataType.Int8 or DataType.UInt8)) throw TypeError(type, "zero point type");
        ctx.SetOutput(0, type, ctx.InputShape(0));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0).Floats;
        var scale = ctx.Input(1).Floats;
        var zp = ctx.OptionalInput(2);
        var y = ctx.Output(0);
        var (channels, inner) = QuantizationAxis.Layout(ctx.Input(0).Shape, scale.Length, _axis, Opset, this);
        bool signed = y.DataType == DataType.Int8;
        for (int i = 0; i < x.Length; i++)
        {
            int c = channels == 1 ? 0 : i / inner % channels;
            double z = zp is null ? 0 : zp.GetDouble(zp.Length == 1 ? 0 : c);
            double q = Math.Round(x[i] / scale[c], MidpointRounding.ToEven) + z;
            if (signed) y.ArrayOf<sbyte>()[i] = (sbyte)Math.Clamp(q, -128, 127);
            else y.ArrayOf<byte>()[i] = (byte)Math.Clamp(q, 0, 255);
        }
    }
}
