using System.Numerics.Tensors;

namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// DynamicQuantizeLinear (opset 11): quantizes float x to uint8 with a scale and zero point
/// computed from x. The range [min(x), max(x)] is widened to include 0; y_scale = (max - min) / 255
/// (1 when the range is empty, as ONNX Runtime does); y_zero_point = saturate(round_half_even(0 -
/// min / y_scale)); y = saturate(round_half_even(x / y_scale) + y_zero_point). All in float32.
/// </summary>
[OnnxOperator("DynamicQuantizeLinear", MinOpset = 11)]
internal sealed class DynamicQuantizeLinear : OpKernel
{
    public DynamicQuantizeLinear(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        if (ctx.InputType(0) != DataType.Float) throw TypeError(ctx.InputType(0), "input type");
        ctx.SetOutput(0, DataType.UInt8, ctx.InputShape(0));
        if (ctx.HasOutput(1)) ctx.SetOutput(1, DataType.Float, []);
        if (ctx.HasOutput(2)) ctx.SetOutput(2, DataType.UInt8, []);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0).Floats;
        float min = x.Length == 0 ? 0f : Math.Min(TensorPrimitives.Min(x), 0f);
        float max = x.Length == 0 ? 0f : Math.Max(TensorPrimitives.Max(x), 0f);
        float scale = max == min ? 1f : (max - min) / 255f;
        int zp = (int)MathF.Round(Math.Clamp(0f - min / scale, 0f, 255f), MidpointRounding.ToEven);
        var y = ctx.Output(0);
        Quantized.ForEachPiece(x.Length, 1, 1, ctx.Options.MaxDegreeOfParallelism,
            (start, count, _) => Quantized.Quantize(x.AsSpan(start, count), scale, zp, y, start));
        if (ctx.HasOutput(1)) ctx.SetOutput(1, Tensor.Scalar(scale));
        if (ctx.HasOutput(2)) ctx.SetOutput(2, Tensor.Scalar((byte)zp));
    }
}
