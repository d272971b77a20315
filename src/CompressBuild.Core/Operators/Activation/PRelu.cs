using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Operators.Activation;

/// <summary>
/// PRelu: y = x for x ≥ 0, slope·x otherwise. Opsets 7+: slope broadcasts unidirectionally to X
/// (numpy rules, output has X's shape); 9 adds integer types, 16 bfloat16 (all numeric types are
/// accepted). Opsets 1–6 (consumed_inputs ignored): as PyTorch exported them, a 1-D slope whose
/// length is X's channel count (dim 1) applies per channel; other slopes broadcast as in opset 7.
/// Gradients: dx = dy for x &gt; 0, slope·dy otherwise; dslope = Σ x·dy over x ≤ 0.
/// </summary>
[OnnxOperator("PRelu")]
internal sealed class PRelu : ElementwiseKernel
{
    public PRelu(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var t = SameTypes(ctx, 0, 2);
        if (!IsNumeric(t)) throw TypeError(t);
        var x = ctx.InputShape(0);
        var slope = SlopeShape(x, ctx.InputShape(1));
        var y = ctx.Broadcast(x, slope);
        if (!y.AsSpan().SequenceEqual(x))
            throw ctx.Error($"slope of shape {Dim.Format(ctx.InputShape(1))} cannot be broadcast to X of shape {Dim.Format(x)}");
        ctx.SetOutput(0, t, x);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var slope = ctx.Input(1);
        NumericBinary.Run<PReluOp>(x, x.Shape, slope, SlopeShape(x.Shape, slope.Shape), ctx.Output(0), ctx.Options.MaxDegreeOfParallelism);
    }

    /// <summary>The slope's shape as it broadcasts against X: per-channel [C,1,…,1] for an old-opset channel vector.</summary>
    private Dim[] SlopeShape(Dim[] x, Dim[] slope)
    {
        if (Opset >= 7 || slope.Length != 1 || x.Length < 2 || slope[0] != x[1] || slope[0] == Dim.Of(1)) return slope;
        var r = new Dim[x.Length - 1];
        Array.Fill(r, Dim.Of(1));
        r[0] = slope[0];
        return r;
    }

    private int[] SlopeShape(int[] x, int[] slope) => Dim.ToShape(SlopeShape(Dim.FromShape(x), Dim.FromShape(slope)));

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        var slope = ctx.Input(1);
        RequireFloatGradient(x);
        var dy = ctx.OutputGrad(0)!.Floats;
        var slopeShape = SlopeShape(x.Shape, slope.Shape);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        if (ctx.NeedsInputGrad(0))
        {
            var dx = Tensor.Allocate(DataType.Float, x.Shape);
            var s = ExpandFloats(slope.Floats, slopeShape, x.Shape);
            ElementwiseKernels.Map(x.Floats, s, dy, dx.Floats, default(InputGrad), threads, 2);
            ctx.SetInputGrad(0, dx);
        }
        if (ctx.NeedsInputGrad(1))
        {
            RequireFloatGradient(slope);
            var g = Tensor.Allocate(DataType.Float, x.Shape);
            ElementwiseKernels.Map(x.Floats, dy, g.Floats, default(SlopeGrad), threads, 2);
            ctx.SetInputGrad(1, Broadcasting.SumToShape(g, slopeShape).Reshape(slope.Shape));
        }
    }

    private readonly struct InputGrad : IVectorFunction3
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> slope, Vector256<float> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, dy * slope);
    }

    private readonly struct SlopeGrad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.Zero, x * dy);
    }
}
