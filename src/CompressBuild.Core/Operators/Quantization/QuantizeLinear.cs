namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// QuantizeLinear: y = saturate(round_half_even(x / y_scale) + y_zero_point), to [0, 255] for
/// uint8 and [-128, 127] for int8; y has the zero point's type (uint8 with zero point 0 when it is
/// omitted). Opset 10: per-tensor scale (a scalar; one-element tensors are accepted like ONNX
/// Runtime does); opset 13: a 1-D scale and zero point quantize per slice along <c>axis</c>
/// (default 1, negative counts from the back). x is float (divided in float32, like ONNX Runtime)
/// or int32 (divided in double, like the reference's numpy promotion).
/// </summary>
[OnnxOperator("QuantizeLinear", MinOpset = 10)]
internal sealed class QuantizeLinear : OpKernel
{
    private readonly long _axis;

    public QuantizeLinear(NodeContext ctx) : base(ctx) => _axis = Quantized.AxisAttribute(ctx);

    public override void InferShapes(ShapeContext ctx)
    {
        if (ctx.InputType(0) is not (DataType.Float or DataType.Int32)) throw TypeError(ctx.InputType(0), "input type");
        Quantized.RequireFloatScale(ctx, this, 1, "y_scale type");
        var type = ctx.HasInput(2) ? ctx.InputType(2) : DataType.UInt8;
        Quantized.RequireEightBit(this, type, "y_zero_point type");
        QuantizationAxis.Check(ctx, this, _axis, 1, 2, "y_scale");
        ctx.SetOutput(0, type, ctx.InputShape(0));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var scale = ctx.Input(1).Floats;
        var zp = Quantized.ZeroPoints(this, ctx.OptionalInput(2), scale.Length, "y_zero_point");
        var y = ctx.Output(0);
        var layout = QuantizationAxis.Layout(x.Shape, scale.Length, _axis, this);
        if (x.DataType == DataType.Float)
        {
            var xf = x.Floats;
            Quantized.ForEachPiece(x.Length, layout.Channels, layout.Inner, ctx.Options.MaxDegreeOfParallelism,
                (start, count, c) => Quantized.Quantize(xf.AsSpan(start, count), scale[c], zp[c], y, start));
            return;
        }
        var xi = x.ArrayOf<int>();
        var (min, max) = y.DataType == DataType.UInt8 ? (0, 255) : (-128, 127);
        for (int i = 0; i < xi.Length; i++)
        {
            int c = layout.Channels == 1 ? 0 : i / layout.Inner % layout.Channels;
            double q = Math.Clamp(Math.Round(xi[i] / (double)scale[c], MidpointRounding.ToEven) + zp[c], min, max);
            if (y.DataType == DataType.UInt8) y.ArrayOf<byte>()[i] = (byte)q;
            else y.ArrayOf<sbyte>()[i] = (sbyte)q;
        }
    }
}
