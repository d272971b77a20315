using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Expand: broadcasts the input against `shape` in both directions (numpy rules: the output has the
/// larger rank, and shape entries of 1 keep the input's dim). Opsets 8 and 13 agree; any element
/// type. The shape may hold symbolic dims (from Shape). An expansion that changes nothing is a view.
/// </summary>
[OnnxOperator("Expand", MinOpset = 8)]
internal sealed class Expand : OpKernel
{
    public Expand(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var shape = LayoutFacts.DimsOf(ctx, 1);
        foreach (var d in shape)
            if (d.IsKnown && d.Value < 0) throw ctx.Error($"the shape {Dim.Format(shape)} has a negative entry");
        ctx.SetOutput(0, ctx.InputType(0), ctx.Broadcast(ctx.InputShape(0), shape));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var shape = ctx.OutputShape(0);
        if (x.Length == ShapeMath.ElementCount(shape))
        {
            ctx.SetOutput(0, x.Reshape(shape));
            return;
        }
        var y = ctx.Output(0);
        LayoutElements.Dispatch(x.Data, new BroadcastJob(x.Data, x.Shape, y.Data, y.Shape));
    }

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        var dy = ctx.OutputGrad(0)!;
        ctx.SetInputGrad(0, dy.Length == x.Length ? dy.Reshape(x.Shape) : Broadcasting.SumToShape(dy, x.Shape));
    }
}

/// <summary><see cref="Broadcasting.Expand{T}"/> for any element type (shared by Expand and Tile).</summary>
internal readonly struct BroadcastJob(Array src, int[] srcShape, Array dst, int[] dstShape) : IElementJob
{
    public void Run<T>() => Broadcasting.Expand<T>(LayoutElements.Of<T>(src), srcShape, LayoutElements.Of<T>(dst), dstShape);
}
