namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Squeeze: removes dims of size 1 (a view, no copy). Opsets 1–12 take `axes` from the attribute,
/// 13+ from the optional `axes` input; negative axes (documented from opset 11) are accepted in every
/// opset, as ONNX Runtime does. Without axes (or with an empty list, as ONNX Runtime does) every dim
/// known to be 1 is removed; a symbolic batch is assumed not to be 1.
/// </summary>
[OnnxOperator("Squeeze")]
internal sealed class Squeeze : OpKernel
{
    private readonly long[]? _axesAttribute;

    public Squeeze(NodeContext ctx) : base(ctx)
    {
        if (ctx.Opset < 13)
        {
            _axesAttribute = ctx.Ints("axes");
        }
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        long[]? axes = Opset >= 13 ? (ctx.HasInput(1) ? ctx.RequireConstantInts(1) : null) : _axesAttribute;
        var remove = new bool[x.Length];
        if (axes is null || axes.Length == 0)
        {
            for (int i = 0; i < x.Length; i++) remove[i] = x[i] == Dim.Of(1);
        }
        else
        {
            foreach (int a in LayoutFacts.Axes(ctx, axes, x.Length))
            {
                if (x[a].IsKnown && x[a].Value != 1) throw ctx.Error($"cannot squeeze axis {a} of {Dim.Format(x)}: its size is not 1");
                remove[a] = true;
            }
        }
        var shape = new List<Dim>();
        for (int i = 0; i < x.Length; i++)
            if (!remove[i]) shape.Add(x[i]);
        LayoutFacts.SetView(ctx, 0, 0, shape.ToArray());
    }

    public override void Forward(ForwardContext ctx) => ctx.SetOutput(0, ctx.Input(0).Reshape(ctx.OutputShape(0)));

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx) => ctx.SetInputGrad(0, ctx.OutputGrad(0)!.Reshape(ctx.Input(0).Shape));
}
