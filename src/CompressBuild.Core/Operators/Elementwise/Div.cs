namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Div: y = a / b. Opsets 1–6: legacy broadcast/axis attributes; 7+: numpy broadcasting; 13 adds
/// bfloat16, 14 the 8- and 16-bit integers (every numeric type is accepted at every opset). Integer
/// division truncates toward zero like C; MinValue / −1 wraps to MinValue; division by zero is an
/// error (CB3004). Integer shape vectors are divided symbolically when the quotient is exact.
/// </summary>
[OnnxOperator("Div")]
internal sealed class Div : BroadcastBinaryKernel
{
    public Div(NodeContext ctx) : base(ctx)
    {
    }

    protected override bool HasShapeArithmetic => true;

    protected override Dim Combine(Dim a, Dim b) => a / b;

    protected override void Compute(ForwardContext ctx, Tensor a, int[] aShape, Tensor b, int[] bShape)
    {
        if (IsInteger(b.DataType) && b.ToInt64Array().Contains(0))
            throw ExecutionError($"integer division by zero: the divisor {Node.Inputs[1]} has a zero element");
        NumericBinary.Run<DivOp>(a, aShape, b, bShape, ctx.Output(0), ctx.Options.MaxDegreeOfParallelism);
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        // With t = dy / b: da = Σ t, db = −Σ t·y (= −dy·a/b²).
        var dy = ctx.OutputGrad(0)!;
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        RequireFloatGradient(b);
        var t = NumericBinary.Float<DivOp>(dy.Floats, dy.Shape, b.Floats, ShapeOfB(a, b), dy.Shape, ctx.Options.MaxDegreeOfParallelism);
        if (ctx.NeedsInputGrad(0)) ctx.SetInputGrad(0, ReduceToInput(ctx, 0, t));
        if (ctx.NeedsInputGrad(1))
        {
            // A new tensor: t itself may already be a's gradient.
            var ty = Tensor.Allocate(DataType.Float, t.Shape);
            System.Numerics.Tensors.TensorPrimitives.Multiply(t.Floats, ctx.Output(0).Floats, ty.Floats);
            ctx.SetInputGrad(1, NegatedReduceToInput(ctx, 1, ty));
        }
    }
}
