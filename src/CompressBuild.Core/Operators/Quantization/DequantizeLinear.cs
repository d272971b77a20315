using System.Numerics.Tensors;

namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// DequantizeLinear: y = float(x - x_zero_point) · x_scale, x uint8, int8 or int32 (whose zero
/// point, if given, should be 0), the zero point of x's type and optional (0). Opset 10: per-tensor
/// scale (a scalar; one-element tensors accepted like ONNX Runtime); opset 13: a 1-D scale and zero
/// point dequantize per slice along <c>axis</c> (default 1, negative counts from the back). The
/// difference is exact and converted before the float multiply, as in ONNX Runtime. Not
/// differentiable (an inference op).
/// </summary>
[OnnxOperator("DequantizeLinear", MinOpset = 10)]
internal sealed class DequantizeLinear : OpKernel
{
    private readonly long _axis;

    public DequantizeLinear(NodeContext ctx) : base(ctx) => _axis = Quantized.AxisAttribute(ctx);

    public override void InferShapes(ShapeContext ctx)
    {
        var t = ctx.InputType(0);
        if (t is not (DataType.Int8 or DataType.UInt8 or DataType.Int32)) throw TypeError(t, "input type");
        Quantized.RequireFloatScale(ctx, this, 1, "x_scale type");
        Quantized.RequireSameType(ctx, this, 2, 0, "x_zero_point");
        QuantizationAxis.Check(ctx, this, _axis, 1, 2, "x_scale");
        ctx.SetOutput(0, DataType.Float, ctx.InputShape(0));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var scale = ctx.Input(1).Floats;
        var zp = Quantized.ZeroPoints(this, ctx.OptionalInput(2), scale.Length, "x_zero_point");
        var layout = QuantizationAxis.Layout(x.Shape, scale.Length, _axis, this);
        var y = ctx.Output(0).Floats;
        Quantized.ForEachPiece(x.Length, layout.Channels, layout.Inner, ctx.Options.MaxDegreeOfParallelism, (start, count, c) =>
        {
            var dst = y.AsSpan(start, count);
            switch (x.DataType)
            {
                case DataType.UInt8: TensorPrimitives.ConvertTruncating<byte, float>(x.ArrayOf<byte>().AsSpan(start, count), dst); break;
                case DataType.Int8: TensorPrimitives.ConvertTruncating<sbyte, float>(x.ArrayOf<sbyte>().AsSpan(start, count), dst); break;
                default:
                {
                    // int32: subtract in int32 first (exact where ONNX Runtime's is), then convert.
                    var src = x.ArrayOf<int>().AsSpan(start, count);
                    int z = zp[c];
                    for (int i = 0; i < src.Length; i++) dst[i] = unchecked(src[i] - z);
                    TensorPrimitives.Multiply(dst, scale[c], dst);
                    return;
                }
            }
            // 8-bit values minus their zero point are exact in float.
            if (zp[c] != 0) TensorPrimitives.Subtract(dst, zp[c], dst);
            TensorPrimitives.Multiply(dst, scale[c], dst);
        });
    }
}
