namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// MatMulInteger (opset 10): numpy matmul of uint8/int8 A and B minus their optional zero points,
/// exact in int32 (Y is int32). a_zero_point is per tensor or per row (M-vector, or [..., M, 1]);
/// b_zero_point per tensor or per column (N-vector, or [..., 1, N]). Not differentiable.
/// </summary>
[OnnxOperator("MatMulInteger", MinOpset = 10)]
internal sealed class MatMulInteger : OpKernel
{
    public MatMulInteger(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var shape = IntegerMatMul.InferShape(ctx, this, 0, 1);
        Quantized.RequireSameType(ctx, this, 2, 0, "a_zero_point");
        Quantized.RequireSameType(ctx, this, 3, 1, "b_zero_point");
        ctx.SetOutput(0, DataType.Int32, shape);
    }

    public override void Forward(ForwardContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        var plan = IntegerMatMul.Plan(this, a.Shape, b.Shape);
        var za = ZeroPoints(ctx.OptionalInput(2), "a_zero_point", plan.RowParams);
        var zb = ZeroPoints(ctx.OptionalInput(3), "b_zero_point", plan.ColumnParams);
        plan.Multiply(a, za, b, zb, ctx.Output(0).ArrayOf<int>(), ctx.Options.MaxDegreeOfParallelism);
    }

    private int[] ZeroPoints(Tensor? zp, string name, Func<OpKernel, int[], int[], string, int[]> expand) =>
        zp is null ? [0] : expand(this, Quantized.ZeroPoints(this, zp, zp.Length, name), zp.Shape, name);
}
