namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Mul: y = a · b. Opsets 1–6: legacy broadcast/axis attributes; 7+: numpy broadcasting; 13 adds
/// bfloat16, 14 the 8- and 16-bit integers (every numeric type is accepted at every opset). Integer
/// overflow wraps, as in ONNX Runtime. Integer shape vectors are multiplied symbolically
/// (batch·4 stays 4*batch).
/// </summary>
[OnnxOperator("Mul")]
internal sealed class Mul : BroadcastBinaryKernel
{
    public Mul(NodeContext ctx) : base(ctx)
    {
    }

    protected override bool HasShapeArithmetic => true;

    protected override Dim Combine(Dim a, Dim b) => a * b;

    protected override void Compute(ForwardContext ctx, Tensor a, int[] aShape, Tensor b, int[] bShape) =>
        NumericBinary.Run<MulOp>(a, aShape, b, bShape, ctx.Output(0), ctx.Options.MaxDegreeOfParallelism);

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        // da = Σ dy·b, db = Σ dy·a over the broadcast dimensions.
        var dy = ctx.OutputGrad(0)!;
        var a = ctx.Input(0);
        var bShape = ShapeOfB(a, ctx.Input(1));
        int threads = ctx.Options.MaxDegreeOfParallelism;
        for (int i = 0; i < 2; i++)
        {
            if (!ctx.NeedsInputGrad(i)) continue;
            RequireFloatGradient(ctx.Input(i));
            var other = ctx.Input(1 - i);
            RequireFloatGradient(other);
            var g = NumericBinary.Float<MulOp>(dy.Floats, dy.Shape, other.Floats, i == 0 ? bShape : a.Shape, dy.Shape, threads);
            ctx.SetInputGrad(i, ReduceToInput(ctx, i, g));
        }
    }
}
