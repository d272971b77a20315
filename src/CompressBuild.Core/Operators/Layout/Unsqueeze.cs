namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Unsqueeze: inserts dims of size 1 at `axes`, numbered in the output (a view, no copy). Opsets 1–12
/// take `axes` from the attribute, 13+ from the required `axes` input; negative axes (documented from
/// opset 11) are accepted in every opset, as ONNX Runtime does. Axes may come in any order.
/// </summary>
[OnnxOperator("Unsqueeze")]
internal sealed class Unsqueeze : OpKernel
{
    private readonly long[]? _axesAttribute;

    public Unsqueeze(NodeContext ctx) : base(ctx)
    {
        if (ctx.Opset < 13)
        {
            _axesAttribute = ctx.Ints("axes") ?? throw ctx.Invalid("required attribute 'axes' is missing (opset < 13). Re-export the model.");
        }
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        long[] axes = _axesAttribute ?? ctx.RequireConstantInts(1);
        int rank = x.Length + axes.Length;
        var inserted = new bool[rank];
        foreach (int a in LayoutFacts.Axes(ctx, axes, rank)) inserted[a] = true;
        var shape = new Dim[rank];
        for (int i = 0, j = 0; i < rank; i++) shape[i] = inserted[i] ? Dim.Of(1) : x[j++];
        LayoutFacts.SetView(ctx, 0, 0, shape);
    }

    public override void Forward(ForwardContext ctx) => ctx.SetOutput(0, ctx.Input(0).Reshape(ctx.OutputShape(0)));

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx) => ctx.SetInputGrad(0, ctx.OutputGrad(0)!.Reshape(ctx.Input(0).Shape));
}
