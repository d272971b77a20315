using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// ConstantOfShape (opset 9+): a tensor of the shape given by the int64 input, every element equal to
/// the one-element `value` attribute (default float 0); its type is the output type. An empty shape
/// gives a scalar. The shape may hold symbolic dims (from Shape).
/// </summary>
[OnnxOperator("ConstantOfShape", MinOpset = 9)]
internal sealed class ConstantOfShape : OpKernel
{
    private readonly Tensor _value;

    public ConstantOfShape(NodeContext ctx) : base(ctx)
    {
        _value = ctx.TensorAttr("value") ?? Tensor.Scalar(0f);
        if (_value.Length != 1) throw ctx.Invalid($"attribute 'value' must hold one element, it has {_value.Length}");
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var shape = LayoutFacts.DimsOf(ctx, 0);
        foreach (var d in shape)
            if (d.IsKnown && d.Value < 0) throw ctx.Error($"the shape {Dim.Format(shape)} has a negative entry");
        // A small integer vector of known length is shape-like: state its elements.
        if (shape.Length <= 1 && shape.All(d => d.IsKnown) && Dim.Product(shape).Value <= 64 && ValueFacts.ElementsOf(_value) is [var v])
            ctx.SetOutputElements(0, _value.DataType, shape, Enumerable.Repeat(v, (int)Dim.Product(shape).Value).ToArray());
        else
            ctx.SetOutput(0, _value.DataType, shape);
    }

    public override void Forward(ForwardContext ctx)
    {
        var y = ctx.Output(0);
        LayoutElements.Dispatch(y.Data, new FillJob(y.Data, _value.Data));
    }

    private readonly struct FillJob(Array dst, Array value) : IElementJob
    {
        public void Run<T>() => LayoutElements.Of<T>(dst).Fill(LayoutElements.Of<T>(value)[0]);
    }
}
