using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Concat: joins inputs of one element type along `axis`; the other dims must agree. Opset 1: axis
/// defaults to 1; 4+: axis required; 11+ documents negative axes, which are accepted in every opset
/// (as ONNX Runtime does; old PyTorch exports use them). Any element type; inputs may be empty
/// along the axis. Small integer vectors (shapes being assembled) keep their symbolic elements.
/// </summary>
[OnnxOperator("Concat")]
internal sealed class Concat : OpKernel
{
    private readonly long _axis;

    public Concat(NodeContext ctx) : base(ctx)
    {
        _axis = ctx.Opset < 4 ? ctx.Int("axis", 1) : ctx.RequiredInt("axis");
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var parts = Enumerable.Range(0, ctx.InputCount).Where(ctx.HasInput).ToList();
        if (parts.Count == 0) throw ctx.Error("Concat needs at least one input");
        var type = ctx.InputType(parts[0]);
        foreach (int i in parts)
            if (ctx.InputType(i) != type) throw ctx.Error($"input {i} is {DataTypes.OnnxName(ctx.InputType(i))}, input {parts[0]} {DataTypes.OnnxName(type)}");
        int rank = ctx.InputRank(parts[0]);
        int axis = ctx.Axis(_axis, rank);
        var shape = (Dim[])ctx.InputShape(parts[0]).Clone();
        shape[axis] = 0;
        foreach (int i in parts)
        {
            var s = ctx.InputShape(i);
            if (s.Length != rank) throw ctx.Error($"input {i} has shape {Dim.Format(s)}, input {parts[0]} rank {rank}");
            for (int k = 0; k < rank; k++)
            {
                if (k == axis) shape[k] += s[k];
                else if (s[k] != shape[k])
                {
                    if (s[k].IsKnown && shape[k].IsKnown) throw ctx.Error($"input {i} has shape {Dim.Format(s)}, which differs from input {parts[0]} {Dim.Format(ctx.InputShape(parts[0]))} off axis {axis}");
                    if (s[k].IsKnown) shape[k] = s[k]; // the symbolic dim must equal the known one
                }
            }
        }
        if (rank == 1 && parts.All(i => ctx.InputElements(i) is not null))
            ctx.SetOutputElements(0, type, shape, parts.SelectMany(i => ctx.InputElements(i)!).ToArray());
        else
            ctx.SetOutput(0, type, shape);
    }

    public override void Forward(ForwardContext ctx)
    {
        var y = ctx.Output(0);
        int axis = (int)(_axis < 0 ? _axis + y.Rank : _axis);
        var start = new int[y.Rank];
        for (int i = 0; i < ctx.InputCount; i++)
        {
            if (ctx.OptionalInput(i) is not { } x) continue;
            SliceKernels.CopyRegion(x.Data, x.Shape, LayoutFacts.Zeros(x.Rank), y.Data, y.Shape, start, x.Shape, ctx.Options.MaxDegreeOfParallelism);
            start[axis] += x.Shape[axis];
        }
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var dy = ctx.OutputGrad(0)!;
        int axis = (int)(_axis < 0 ? _axis + dy.Rank : _axis);
        var start = new int[dy.Rank];
        for (int i = 0; ctx.HasInput(i); i++)
        {
            var x = ctx.Input(i);
            if (ctx.NeedsInputGrad(i))
            {
                var dx = Tensor.Allocate(DataType.Float, x.Shape);
                SliceKernels.CopyRegion(dy.Data, dy.Shape, start, dx.Data, dx.Shape, LayoutFacts.Zeros(x.Rank), x.Shape, ctx.Options.MaxDegreeOfParallelism);
                ctx.SetInputGrad(i, dx);
            }
            start[axis] += x.Shape[axis];
        }
    }
}
