using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Gather: picks entries of `data` along `axis` (default 0) at `indices` (int32/int64, any shape,
/// negative counting from the end); output shape data[:axis] + indices + data[axis+1:], so scalar
/// indices drop the axis. Opset 11 documents negative axis and indices (accepted in every opset, as ONNX Runtime does); 13
/// adds bfloat16.
/// Any data type. Shape vectors gathered with constant indices keep their symbolic elements.
/// </summary>
[OnnxOperator("Gather")]
internal sealed class Gather : OpKernel
{
    private readonly long _axis;

    public Gather(NodeContext ctx) : base(ctx)
    {
        _axis = ctx.Int("axis", 0);
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        if (ctx.InputType(1) is not (DataType.Int32 or DataType.Int64)) throw TypeError(ctx.InputType(1), "indices type");
        int axis = ctx.Axis(_axis, data.Length);
        var shape = data[..axis].Concat(indices).Concat(data[(axis + 1)..]).ToArray();
        if (data.Length == 1 && indices.Length <= 1 && ctx.InputElements(0) is { } e && ctx.InputValue(1) is { Length: <= 64 } iv)
        {
            var idx = iv.ToInt64Array();
            var picked = new Dim[idx.Length];
            for (int i = 0; i < idx.Length; i++) picked[i] = e[Normalize(idx[i], e.Length)];
            ctx.SetOutputElements(0, ctx.InputType(0), shape, picked);
        }
        else ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    private int Normalize(long index, int dim)
    {
        long i = index < 0 ? index + dim : index;
        if (i < 0 || i >= dim) throw ShapeError($"index {index} is out of range for an axis of size {dim}");
        return (int)i;
    }

    /// <summary>Normalized indices and the (outer, axis, inner) sizes of the data.</summary>
    private (int[] Indices, int Outer, int Dim, int Inner) Geometry(Tensor data, Tensor indices)
    {
        int axis = (int)(_axis < 0 ? _axis + data.Rank : _axis);
        int dim = data.Shape[axis];
        var raw = indices.ToInt64Array();
        var idx = new int[raw.Length];
        for (int i = 0; i < raw.Length; i++) idx[i] = Normalize(raw[i], dim);
        return (idx, ShapeMath.Product(data.Shape, 0, axis), dim, ShapeMath.Product(data.Shape, axis + 1, data.Rank));
    }

    public override void Forward(ForwardContext ctx)
    {
        var data = ctx.Input(0);
        var y = ctx.Output(0);
        var (idx, outer, dim, inner) = Geometry(data, ctx.Input(1));
        LayoutElements.Dispatch(data.Data, new GatherJob(data.Data, y.Data, idx, outer, dim, inner, ctx.Options.MaxDegreeOfParallelism));
    }

    private readonly struct GatherJob(Array data, Array output, int[] idx, int outer, int dim, int inner, int maxDegree) : IElementJob
    {
        public void Run<T>()
        {
            Array src = data, dst = output;
            int[] indices = idx;
            int n = indices.Length, d = dim, len = inner;
            Parallelism.For(outer * n, maxDegree, len, (i0, i1) =>
            {
                var s = LayoutElements.Of<T>(src);
                var o = LayoutElements.Of<T>(dst);
                for (int item = i0; item < i1; item++)
                {
                    int row = item / n, i = item % n;
                    s.Slice((row * d + indices[i]) * len, len).CopyTo(o.Slice(item * len, len));
                }
            });
        }
    }

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx)
    {
        // Repeated indices add up, so each outer row is one sequential scatter-add.
        var data = ctx.Input(0);
        var dy = ctx.OutputGrad(0)!.Floats;
        var (idx, outer, dim, inner) = Geometry(data, ctx.Input(1));
        var dx = Tensor.Zeros(DataType.Float, data.Shape);
        var g = dx.Floats;
        int n = idx.Length;
        Parallelism.For(outer, ctx.Options.MaxDegreeOfParallelism, (long)n * inner, (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
                for (int i = 0; i < n; i++)
                {
                    var target = g.AsSpan((o * dim + idx[i]) * inner, inner);
                    TensorPrimitives.Add(target, dy.AsSpan((o * n + i) * inner, inner), target);
                }
        });
        ctx.SetInputGrad(0, dx);
    }
}
