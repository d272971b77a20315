using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// QLinearMatMul (opset 10): numpy matmul of quantized uint8/int8 a and b, requantized:
/// y = saturate(round_half_even(acc · (a_scale · b_scale / y_scale)) + y_zero_point) where acc =
/// (a - a_zero_point) · (b - b_zero_point) is exact in int32 and the multiplier is computed in
/// float32 in that order, as ONNX Runtime does. a's scale and zero point are per tensor or per row
/// (M-vector, or [..., M, 1]), b's per tensor or per column (N-vector, or [..., 1, N]), y's per
/// tensor; y has y_zero_point's type. Not differentiable.
/// </summary>
[OnnxOperator("QLinearMatMul", MinOpset = 10)]
internal sealed class QLinearMatMul : OpKernel
{
    public QLinearMatMul(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var shape = IntegerMatMul.InferShape(ctx, this, 0, 3);
        foreach (var (i, name) in new[] { (1, "a_scale"), (4, "b_scale"), (6, "y_scale") }) Quantized.RequireFloatScale(ctx, this, i, name + " type");
        Quantized.RequireSameType(ctx, this, 2, 0, "a_zero_point");
        Quantized.RequireSameType(ctx, this, 5, 3, "b_zero_point");
        Quantized.RequireSingle(ctx, 6, "y_scale");
        Quantized.RequireSingle(ctx, 7, "y_zero_point");
        var type = ctx.InputType(7);
        Quantized.RequireEightBit(this, type, "y_zero_point type");
        ctx.SetOutput(0, type, shape);
    }

    public override void Forward(ForwardContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(3);
        var p = IntegerMatMul.Plan(this, a.Shape, b.Shape);
        var aScale = ctx.Input(1);
        var bScale = ctx.Input(4);
        var aScales = p.RowParams(this, aScale.Floats, aScale.Shape, "a_scale");
        var bScales = p.ColumnParams(this, bScale.Floats, bScale.Shape, "b_scale");
        var za = Params(ctx.OptionalInput(2), aScale, "a_zero_point", p.RowParams);
        var zb = Params(ctx.OptionalInput(5), bScale, "b_zero_point", p.ColumnParams);
        float yScale = Quantized.SingleScale(this, ctx.Input(6), "y_scale");
        int yZero = Quantized.SingleZeroPoint(this, ctx.OptionalInput(7), "y_zero_point");
        int m = p.M, n = p.N, threads = ctx.Options.MaxDegreeOfParallelism;
        var acc = new int[p.Batch * m * n];
        p.Multiply(a, za, b, zb, acc, threads);
        var y = ctx.Output(0);
        Parallelism.For(p.Batch * m, threads, 8L * n, (r0, r1) =>
        {
            var multipliers = new float[bScales.Length == 1 ? 1 : n];
            for (int r = r0; r < r1; r++)
            {
                int i = r / m, row = r % m;
                float sa = aScales.Length == 1 ? aScales[0] : aScales[p.ABatchOf(i) * m + row];
                if (bScales.Length == 1) multipliers[0] = sa * bScales[0] / yScale;
                else
                {
                    TensorPrimitives.Multiply(bScales.AsSpan(p.BBatchOf(i) * n, n), sa, multipliers);
                    TensorPrimitives.Divide(multipliers, yScale, multipliers);
                }
                Quantized.Requantize(acc.AsSpan(r * n, n), multipliers, yZero, y, r * n);
            }
        });
    }

    // Zero points as ints expanded like their scales; a zero point must have its scale's shape.
    private int[] Params(Tensor? zp, Tensor scale, string name, Func<OpKernel, int[], int[], string, int[]> expand)
    {
        if (zp is null) return [0];
        if (zp.Length != scale.Length)
            throw ShapeError($"{name} of shape [{ShapeMath.Format(zp.Shape)}] must have the shape of its scale [{ShapeMath.Format(scale.Shape)}]");
        return expand(this, Quantized.ZeroPoints(this, zp, zp.Length, name), zp.Shape, name);
    }
}
