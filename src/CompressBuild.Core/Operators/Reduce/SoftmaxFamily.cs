using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Reduce;

/// <summary>
/// What Softmax and LogSoftmax share. Before opset 13 the input is coerced to 2-D at
/// <c>axis</c> (default 1) and each row of the flattened trailing block is normalised; from
/// opset 13 the normalisation runs along <c>axis</c> alone (default -1). Negative axes count
/// from the end. Float and double.
/// </summary>
internal abstract class SoftmaxFamily : OpKernel
{
    private readonly long _axis;
    private readonly bool _log;
    private readonly bool _coerce2D;

    protected SoftmaxFamily(NodeContext ctx, bool log) : base(ctx)
    {
        _log = log;
        _coerce2D = ctx.Opset < 13;
        _axis = ctx.Int("axis", _coerce2D ? 1 : -1);
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        var type = ctx.InputType(0);
        if (type is not (DataType.Float or DataType.Double)) throw TypeError(type);
        ctx.Axis(_axis, x.Length);
        ctx.SetOutput(0, type, x);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0);
        var (outer, n, inner) = Layout(x.Shape);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        switch (x.Data)
        {
            case float[] a: SoftmaxKernels.Forward(a, y.Floats, outer, n, inner, _log, threads); break;
            case double[] a: SoftmaxKernels.Forward(a, y.ArrayOf<double>(), outer, n, inner, _log, threads); break;
            default: throw TypeError(x.DataType);
        }
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var y = ctx.Output(0);
        var dy = ctx.OutputGrad(0)!;
        var (outer, n, inner) = Layout(y.Shape);
        var dx = Tensor.Allocate(DataType.Float, y.Shape);
        SoftmaxKernels.Backward(y.Floats, dy.Floats, dx.Floats, outer, n, inner, _log, ctx.Options.MaxDegreeOfParallelism);
        ctx.SetInputGrad(0, dx);
    }

    // The [outer, n, inner] view normalised along n.
    private (int Outer, int N, int Inner) Layout(int[] shape)
    {
        int axis = (int)(_axis < 0 ? _axis + shape.Length : _axis);
        if (!_coerce2D) return ReductionKernels.AroundAxis(shape, axis);
        return (ShapeMath.Product(shape, 0, axis), ShapeMath.Product(shape, axis, shape.Length), 1);
    }
}
