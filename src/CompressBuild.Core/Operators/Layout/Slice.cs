using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Slice: takes elements start, start+step, ... (before end) along the given axes. Opsets 1–9: `starts`,
/// `ends`, optional `axes` attributes, step 1; 10+: the same as inputs plus optional `steps` (negative
/// steps walk backwards); 11+ documents negative axes (accepted in every opset, as ONNX Runtime does). Negative starts/ends count from the end; then starts are
/// clamped to [0, dim] ([0, dim-1] for negative steps) and ends to [0, dim] ([-1, dim-1]), so INT_MAX
/// and INT_MIN mean "to the end". Any element type; shape vectors keep their symbolic elements.
/// </summary>
[OnnxOperator("Slice")]
internal sealed class Slice : OpKernel
{
    private readonly long[]? _starts, _ends, _axes;

    public Slice(NodeContext ctx) : base(ctx)
    {
        if (ctx.Opset < 10)
        {
            _starts = ctx.Ints("starts") ?? throw ctx.Invalid("required attribute 'starts' is missing (opset < 10). Re-export the model.");
            _ends = ctx.Ints("ends") ?? throw ctx.Invalid("required attribute 'ends' is missing (opset < 10). Re-export the model.");
            _axes = ctx.Ints("axes");
        }
    }

    /// <summary>One sliced axis: first element, step and element count.</summary>
    private readonly record struct Range(int Axis, long Start, long Step, long Count);

    /// <summary>Checks the slice parameters and normalizes axes; dims are not needed yet.</summary>
    private (long[] Starts, long[] Ends, int[] Axes, long[] Steps) Parameters(int rank, long[] starts, long[] ends, long[]? axes, long[]? steps, Func<string, Exception> error)
    {
        if (ends.Length != starts.Length) throw error($"starts has {starts.Length} entries, ends {ends.Length}");
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (axes.Length != starts.Length || steps.Length != starts.Length)
            throw error($"starts, ends, axes and steps must have one entry per sliced axis (got {starts.Length}, {ends.Length}, {axes.Length}, {steps.Length})");
        var normalized = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            long a = axes[i] < 0 ? axes[i] + rank : axes[i];
            if (a < 0 || a >= rank) throw error($"axis {axes[i]} is out of range for rank {rank}");
            if (normalized.AsSpan(0, i).Contains((int)a)) throw error($"axis {axes[i]} is sliced more than once");
            if (steps[i] == 0) throw error("a step is 0");
            normalized[i] = (int)a;
        }
        return (starts, ends, normalized, steps);
    }

    /// <summary>Clamps a slice of a dim of known size exactly as the ONNX spec prescribes.</summary>
    private static Range Clamp(int axis, long dim, long start, long end, long step)
    {
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            return new Range(axis, start, step, end > start ? (end - start + step - 1) / step : 0);
        }
        start = Math.Clamp(start, 0, dim - 1);
        end = Math.Clamp(end, -1, dim - 1);
        return new Range(axis, start, step, start > end ? (start - end - step - 1) / -step : 0);
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        var (starts, ends, axes, steps) = Opset < 10
            ? Parameters(x.Length, _starts!, _ends!, _axes, null, ctx.Error)
            : Parameters(x.Length, ctx.RequireConstantInts(1), ctx.RequireConstantInts(2),
                ctx.HasInput(3) ? ctx.RequireConstantInts(3) : null, ctx.HasInput(4) ? ctx.RequireConstantInts(4) : null, ctx.Error);
        var shape = (Dim[])x.Clone();
        var ranges = new List<Range>();
        for (int i = 0; i < axes.Length; i++)
        {
            var dim = x[axes[i]];
            if (dim.IsKnown)
            {
                var r = Clamp(axes[i], dim.Value, starts[i], ends[i], steps[i]);
                ranges.Add(r);
                shape[axes[i]] = r.Count;
            }
            else if (steps[i] == 1 && starts[i] >= 0 && ends[i] >= int.MaxValue)
                shape[axes[i]] = dim - starts[i]; // x[k:] of a symbolic dim; throws unless k is 0
            else
                throw new UnresolvedDimException($"slicing the symbolic dim '{dim}' of {Dim.Format(x)} from {starts[i]} to {ends[i]} has no static size");
        }
        if (x.Length == 1 && ctx.InputElements(0) is { } e && ranges.Count == 1)
        {
            var r = ranges[0];
            var picked = new Dim[r.Count];
            for (int k = 0; k < picked.Length; k++) picked[k] = e[r.Start + k * r.Step];
            ctx.SetOutputElements(0, ctx.InputType(0), shape, picked);
        }
        else ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    /// <summary>Element offset of the first taken element and the input strides of each output axis.</summary>
    private (int Offset, int[] Strides) Layout(int[] shape, Func<int, bool> has, Func<int, Tensor> input)
    {
        var (starts, ends, axes, steps) = Opset < 10
            ? Parameters(shape.Length, _starts!, _ends!, _axes, null, ShapeError)
            : Parameters(shape.Length, input(1).ToInt64Array(), input(2).ToInt64Array(),
                has(3) ? input(3).ToInt64Array() : null, has(4) ? input(4).ToInt64Array() : null, ShapeError);
        var strides = ShapeMath.Strides(shape);
        int offset = 0;
        for (int i = 0; i < axes.Length; i++)
        {
            var r = Clamp(axes[i], shape[axes[i]], starts[i], ends[i], steps[i]);
            if (r.Count == 0) continue;
            offset += (int)r.Start * strides[r.Axis];
            strides[r.Axis] = checked((int)(strides[r.Axis] * r.Step));
        }
        return (offset, strides);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0);
        var (offset, strides) = Layout(x.Shape, ctx.HasInput, ctx.Input);
        SliceKernels.Copy(x.Data, offset, strides, y.Data, 0, ShapeMath.Strides(y.Shape), y.Shape, ctx.Options.MaxDegreeOfParallelism);
    }

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx)
    {
        // The slice's elements are distinct positions of x: scatter the gradient there, zeros elsewhere.
        var x = ctx.Input(0);
        var dy = ctx.OutputGrad(0)!;
        var (offset, strides) = Layout(x.Shape, ctx.HasInput, ctx.Input);
        var dx = Tensor.Zeros(DataType.Float, x.Shape);
        SliceKernels.Copy(dy.Data, 0, ShapeMath.Strides(dy.Shape), dx.Data, offset, strides, dy.Shape, ctx.Options.MaxDegreeOfParallelism);
        ctx.SetInputGrad(0, dx);
    }
}
