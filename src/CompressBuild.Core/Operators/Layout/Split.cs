using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Split: cuts the input along `axis` (default 0; negative axes, documented from opset 11, are
/// accepted in every opset as ONNX Runtime does) into consecutive parts.
/// Part sizes: opset 1 from the optional second input or the `split` attribute; 2–12 from the `split`
/// attribute; 13+ from the optional `split` input. Without sizes the input is cut into equal parts,
/// one per output; opset 18's `num_outputs` allows an uneven split where every part has
/// ceil(dim / n) elements except a smaller last one. Any element type.
/// </summary>
[OnnxOperator("Split")]
internal sealed class Split : OpKernel
{
    private readonly long _axis;
    private readonly long[]? _splitAttribute;
    private readonly long? _numOutputs;

    public Split(NodeContext ctx) : base(ctx)
    {
        _axis = ctx.Int("axis", 0);
        if (ctx.Opset < 13) _splitAttribute = ctx.Ints("split");
        if (ctx.Opset >= 18 && ctx.Has("num_outputs"))
        {
            _numOutputs = ctx.RequiredInt("num_outputs");
            if (_numOutputs != ctx.Node.Outputs.Count)
                throw ctx.Invalid($"num_outputs is {_numOutputs} but the node has {ctx.Node.Outputs.Count} outputs");
            if (ctx.Node.HasInput(1)) throw ctx.Invalid("both the 'split' input and the 'num_outputs' attribute are given; ONNX allows one");
        }
    }

    /// <summary>The input that holds part sizes in this opset (opset 1 and 13+), or -1.</summary>
    private int SplitInput => Opset == 1 || Opset >= 13 ? 1 : -1;

    /// <summary>Sizes of the parts of a dim of size <paramref name="dim"/>.</summary>
    private Dim[] Sizes(Dim dim, long[]? split, int outputs, Func<string, Exception> error)
    {
        split ??= _splitAttribute;
        if (split is not null)
        {
            if (split.Length != outputs) throw error($"split [{string.Join(",", split)}] has {split.Length} entries for {outputs} outputs");
            if (split.Any(s => s < 0)) throw error($"split [{string.Join(",", split)}] has a negative size");
            var sizes = split.Select(s => Dim.Of(s)).ToArray();
            if (dim.IsKnown && split.Sum() != dim.Value) throw error($"split [{string.Join(",", split)}] does not add up to the axis size {dim}");
            if (!dim.IsKnown) throw new UnresolvedDimException($"split sizes [{string.Join(",", split)}] of a symbolic axis '{dim}' cannot be checked statically");
            return sizes;
        }
        if (!dim.IsKnown) return Enumerable.Repeat(dim / outputs, outputs).ToArray();
        long n = dim.Value;
        if (n % outputs == 0) return Enumerable.Repeat(Dim.Of(n / outputs), outputs).ToArray();
        if (_numOutputs is null) throw error($"the axis size {n} does not split into {outputs} equal parts; give split sizes");
        long chunk = (n + outputs - 1) / outputs;
        long last = n - chunk * (outputs - 1);
        if (last <= 0) throw error($"the axis size {n} cannot be cut into {outputs} parts of {chunk}");
        var r = Enumerable.Repeat(Dim.Of(chunk), outputs).ToArray();
        r[^1] = last;
        return r;
    }

    private long[]? SplitValues(Func<int, bool> has, Func<int, Tensor> value) =>
        SplitInput > 0 && has(SplitInput) ? value(SplitInput).ToInt64Array() : null;

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        int axis = ctx.Axis(_axis, x.Length);
        long[]? split = SplitInput > 0 && ctx.HasInput(SplitInput) ? ctx.RequireConstantInts(SplitInput) : null;
        var sizes = Sizes(x[axis], split, ctx.OutputCount, ctx.Error);
        for (int i = 0; i < sizes.Length; i++)
        {
            var shape = (Dim[])x.Clone();
            shape[axis] = sizes[i];
            ctx.SetOutput(i, ctx.InputType(0), shape);
        }
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        int axis = (int)(_axis < 0 ? _axis + x.Rank : _axis);
        var sizes = Sizes(x.Shape[axis], SplitValues(ctx.HasInput, ctx.Input), ctx.Outputs.Length, ShapeError);
        var start = new int[x.Rank];
        for (int i = 0; i < sizes.Length; i++)
        {
            if (ctx.HasOutput(i))
            {
                var y = ctx.Output(i);
                SliceKernels.CopyRegion(x.Data, x.Shape, start, y.Data, y.Shape, LayoutFacts.Zeros(y.Rank), y.Shape, ctx.Options.MaxDegreeOfParallelism);
            }
            start[axis] += sizes[i].Known;
        }
    }

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        int axis = (int)(_axis < 0 ? _axis + x.Rank : _axis);
        var sizes = Sizes(x.Shape[axis], SplitValues(ctx.HasInput, ctx.Input), Node.Outputs.Count, ShapeError);
        var dx = Tensor.Zeros(DataType.Float, x.Shape);
        var start = new int[x.Rank];
        var extents = (int[])x.Shape.Clone();
        for (int i = 0; i < sizes.Length; i++)
        {
            extents[axis] = sizes[i].Known;
            if (ctx.OutputGrad(i) is { } dy)
                SliceKernels.CopyRegion(dy.Data, dy.Shape, LayoutFacts.Zeros(dy.Rank), dx.Data, dx.Shape, start, extents, ctx.Options.MaxDegreeOfParallelism);
            start[axis] += extents[axis];
        }
        ctx.SetInputGrad(0, dx);
    }
}
