namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Reshape: the input's elements viewed with a new shape (no copy). Opsets 1–4 take the shape from the
/// `shape` attribute, 5+ from the `shape` input. A 0 copies the input's dim at that position, unless
/// allowzero=1 (opset 14+) makes it a real 0; one -1 is inferred from the element count. Shapes built
/// from a symbolic batch (Shape→Gather→Concat, giving [batch,-1]) resolve statically.
/// </summary>
[OnnxOperator("Reshape")]
internal sealed class Reshape : OpKernel
{
    private readonly long[]? _shapeAttribute;
    private readonly bool _allowZero;

    public Reshape(NodeContext ctx) : base(ctx)
    {
        if (ctx.Opset < 5) _shapeAttribute = ctx.Ints("shape") ?? throw ctx.Invalid("required attribute 'shape' is missing (opset < 5). Re-export the model.");
        _allowZero = ctx.Opset >= 14 && ctx.Int("allowzero", 0) != 0;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var requested = _shapeAttribute is not null ? Dim.FromShape(Array.ConvertAll(_shapeAttribute, v => checked((int)v))) : LayoutFacts.DimsOf(ctx, 1);
        LayoutFacts.SetView(ctx, 0, 0, Resolve(ctx, ctx.InputShape(0), requested));
    }

    private Dim[] Resolve(ShapeContext ctx, Dim[] input, Dim[] requested)
    {
        var shape = new Dim[requested.Length];
        int inferred = -1;
        bool hasZero = false;
        for (int i = 0; i < requested.Length; i++)
        {
            var d = requested[i];
            if (d.IsKnown && d.Value == -1)
            {
                if (inferred >= 0) throw ctx.Error($"the shape {Dim.Format(requested)} has more than one -1");
                inferred = i;
                continue;
            }
            if (d.IsKnown && d.Value == 0)
            {
                hasZero = true;
                if (!_allowZero)
                {
                    if (i >= input.Length) throw ctx.Error($"shape entry {i} is 0 (copy the input dim) but the input {Dim.Format(input)} has rank {input.Length}");
                    d = input[i];
                }
            }
            else if (d.IsKnown && d.Value < 0) throw ctx.Error($"the shape {Dim.Format(requested)} has a negative entry other than -1");
            shape[i] = d;
        }
        if (_allowZero && hasZero && inferred >= 0) throw ctx.Error($"the shape {Dim.Format(requested)} has both 0 and -1, which allowzero=1 forbids");

        // Equal dims on both sides cancel, so [batch,seq,8] -> [batch,seq,-1] needs no batch*seq.
        var rest = input.ToList();
        var given = new List<Dim>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (i == inferred) continue;
            if (!shape[i].IsKnown && rest.Remove(shape[i])) continue;
            given.Add(shape[i]);
        }
        if (inferred >= 0)
        {
            var total = Dim.Product(rest.ToArray());
            var product = Dim.Product(given.ToArray());
            if (product == Dim.Of(0) || (total.IsKnown && product.IsKnown && total.Value % product.Value != 0))
                throw ctx.Error($"cannot reshape {Dim.Format(input)} to {Dim.Format(requested)}: the -1 has no whole size");
            shape[inferred] = total / product;
        }
        else if (rest.All(d => d.IsKnown) && given.All(d => d.IsKnown) && Dim.Product(rest.ToArray()) != Dim.Product(given.ToArray()))
            throw ctx.Error($"cannot reshape {Dim.Format(input)} to {Dim.Format(shape)}: the element counts differ");
        return shape;
    }

    public override void Forward(ForwardContext ctx) => ctx.SetOutput(0, ctx.Input(0).Reshape(ctx.OutputShape(0)));

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx) => ctx.SetInputGrad(0, ctx.OutputGrad(0)!.Reshape(ctx.Input(0).Shape));
}
