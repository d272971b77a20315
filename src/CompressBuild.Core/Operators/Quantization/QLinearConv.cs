using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// QLinearConv (opset 10): Conv of quantized uint8/int8 x and w with all Conv attributes (auto_pad,
/// pads, strides, dilations, group, kernel_shape), requantized: y = saturate(round_half_even((acc +
/// B[m]) · (x_scale · w_scale[m] / y_scale)) + y_zero_point), where acc = (x - x_zero_point) ⋆
/// (w - w_zero_point[m]) is exact in int32, B is an optional int32 bias per output channel and the
/// multiplier is computed in float32 in that order, as ONNX Runtime does. x's and y's parameters
/// are per tensor; w's per tensor or per output channel (M-vectors, scale and zero point
/// independently). y has y_zero_point's type. Not differentiable.
/// </summary>
[OnnxOperator("QLinearConv", MinOpset = 10)]
internal sealed class QLinearConv : OpKernel
{
    private readonly IntegerConv _conv;

    public QLinearConv(NodeContext ctx) : base(ctx) => _conv = new IntegerConv(this, ctx);

    public override void InferShapes(ShapeContext ctx)
    {
        var shape = _conv.InferShape(ctx, 0, 3);
        foreach (var (i, name) in new[] { (1, "x_scale"), (4, "w_scale"), (6, "y_scale") }) Quantized.RequireFloatScale(ctx, this, i, name + " type");
        Quantized.RequireSameType(ctx, this, 2, 0, "x_zero_point");
        Quantized.RequireSameType(ctx, this, 5, 3, "w_zero_point");
        Quantized.RequireSingle(ctx, 1, "x_scale");
        Quantized.RequireSingle(ctx, 2, "x_zero_point");
        Quantized.RequireSingle(ctx, 6, "y_scale");
        Quantized.RequireSingle(ctx, 7, "y_zero_point");
        IntegerConv.RequirePerChannel(ctx, 4, 3, "w_scale");
        IntegerConv.RequirePerChannel(ctx, 5, 3, "w_zero_point");
        IntegerConv.RequirePerChannel(ctx, 8, 3, "B", allowSingle: false);
        if (ctx.HasInput(8) && ctx.InputType(8) != DataType.Int32) throw TypeError(ctx.InputType(8), "B element type");
        var type = ctx.InputType(7);
        Quantized.RequireEightBit(this, type, "y_zero_point type");
        ctx.SetOutput(0, type, shape);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(3);
        int m = w.Shape[0];
        float xScale = Quantized.SingleScale(this, ctx.Input(1), "x_scale");
        int xZero = Quantized.SingleZeroPoint(this, ctx.OptionalInput(2), "x_zero_point");
        var wScale = ctx.Input(4).Floats;
        if (wScale.Length != 1 && wScale.Length != m) throw ShapeError($"w_scale has {wScale.Length} values for {m} output channels");
        var wZero = ctx.OptionalInput(5) is { } z ? Quantized.ZeroPoints(this, z, z.Length == 1 ? 1 : m, "w_zero_point") : [0];
        float yScale = Quantized.SingleScale(this, ctx.Input(6), "y_scale");
        int yZero = Quantized.SingleZeroPoint(this, ctx.OptionalInput(7), "y_zero_point");
        var bias = ctx.OptionalInput(8)?.ArrayOf<int>();
        if (bias is not null && bias.Length != m) throw ShapeError($"B has {bias.Length} values for {m} output channels");
        var y = ctx.Output(0);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        var acc = new int[y.Length];
        _conv.Compute(x, xZero, w, wZero, acc, threads);
        int size = y.Length / Math.Max(1, x.Shape[0] * m);
        Parallelism.For(x.Shape[0] * m, threads, 8L * size, (r0, r1) =>
        {
            var multiplier = new float[1];
            for (int r = r0; r < r1; r++)
            {
                int f = r % m;
                var row = acc.AsSpan(r * size, size);
                if (bias is not null && bias[f] != 0)
                    System.Numerics.Tensors.TensorPrimitives.Add(row, bias[f], row);
                multiplier[0] = xScale * wScale[wScale.Length == 1 ? 0 : f] / yScale;
                Quantized.Requantize(row, multiplier, yZero, y, r * size);
            }
        });
    }
}
