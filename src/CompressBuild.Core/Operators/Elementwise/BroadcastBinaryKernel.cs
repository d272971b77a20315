using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Base of the two-input arithmetic operators (Add, Sub, Mul, Div, Pow). Opsets 7+: numpy
/// multidirectional broadcasting. Opsets 1–6: the legacy attributes — broadcast=0 requires equal
/// shapes; broadcast=1 lines B up with A's dimensions starting at `axis` (default: B's dims are A's
/// trailing dims), B's size-1 dims repeating; the output has A's shape. Integer shape vectors
/// (Shape→Gather→Mul→Concat chains) are computed on <see cref="Dim"/>s so they stay symbolic.
/// </summary>
internal abstract class BroadcastBinaryKernel : ElementwiseKernel
{
    private readonly bool _legacy;
    private readonly bool _legacyBroadcast;
    private readonly long? _legacyAxis;

    protected BroadcastBinaryKernel(NodeContext ctx) : base(ctx)
    {
        _legacy = ctx.Opset < 7;
        if (_legacy)
        {
            _legacyBroadcast = ctx.Int("broadcast", 0) != 0;
            if (ctx.Has("axis")) _legacyAxis = ctx.Int("axis", 0);
        }
    }

    /// <summary>The output element type (default: both inputs numeric and of one type).</summary>
    protected virtual DataType OutputType(ShapeContext ctx)
    {
        var t = SameTypes(ctx, 0, 2);
        if (!IsNumeric(t)) throw TypeError(t);
        return t;
    }

    /// <summary>True when <see cref="Combine"/> states integer results as dims.</summary>
    protected virtual bool HasShapeArithmetic => false;

    /// <summary>The operation on dims (throws <see cref="UnresolvedDimException"/> when it has no static form).</summary>
    protected virtual Dim Combine(Dim a, Dim b) => throw new UnresolvedDimException($"{Node.OpType} has no shape arithmetic");

    /// <summary>Computes y from a and b, broadcasting <paramref name="aShape"/> and <paramref name="bShape"/> to y's shape.</summary>
    protected abstract void Compute(ForwardContext ctx, Tensor a, int[] aShape, Tensor b, int[] bShape);

    public override void InferShapes(ShapeContext ctx)
    {
        var type = OutputType(ctx);
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        Dim[] y;
        if (_legacy)
        {
            LegacyShapeOfB(a, b);
            y = a;
        }
        else y = ctx.Broadcast(a, b);
        ctx.SetOutput(0, type, y);
        if (HasShapeArithmetic) StateElements(ctx, type, y);
    }

    public override void Forward(ForwardContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        Compute(ctx, a, a.Shape, b, ShapeOfB(a, b));
    }

    /// <summary>B's shape as it broadcasts against A: its own (numpy), or padded to A's rank (legacy).</summary>
    protected int[] ShapeOfB(Tensor a, Tensor b) =>
        _legacy ? Dim.ToShape(LegacyShapeOfB(Dim.FromShape(a.Shape), Dim.FromShape(b.Shape))) : b.Shape;

    /// <summary>
    /// Sums a gradient of y's shape over the dimensions input <paramref name="i"/> was broadcast
    /// along, giving the input's shape.
    /// </summary>
    protected Tensor ReduceToInput(BackwardContext ctx, int i, Tensor grad)
    {
        var x = ctx.Input(i);
        var shape = i == 0 ? x.Shape : ShapeOfB(ctx.Input(0), x);
        return Broadcasting.SumToShape(grad, shape).Reshape(x.Shape);
    }

    /// <summary><see cref="ReduceToInput"/> negated (never in place: the reduction may be the output gradient itself).</summary>
    protected Tensor NegatedReduceToInput(BackwardContext ctx, int i, Tensor grad)
    {
        var g = ReduceToInput(ctx, i, grad);
        var r = Tensor.Allocate(DataType.Float, g.Shape);
        TensorPrimitives.Negate(g.Floats, r.Floats);
        return r;
    }

    private Dim[] LegacyShapeOfB(Dim[] a, Dim[] b)
    {
        if (!_legacyBroadcast)
        {
            if (!a.AsSpan().SequenceEqual(b))
                throw ShapeError($"shapes {Dim.Format(a)} and {Dim.Format(b)} differ and broadcast=0 (opset {Opset} broadcasts only with broadcast=1)");
            return b;
        }
        long axis = _legacyAxis ?? a.Length - b.Length;
        if (axis < 0 && _legacyAxis is not null) axis += a.Length;
        if (axis < 0 || axis + b.Length > a.Length)
            throw ShapeError($"B of shape {Dim.Format(b)} cannot be broadcast onto A of shape {Dim.Format(a)} at axis {_legacyAxis?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(suffix)"}");
        var r = new Dim[a.Length];
        Array.Fill(r, Dim.Of(1));
        for (int i = 0; i < b.Length; i++)
        {
            if (b[i] != a[axis + i] && b[i] != Dim.Of(1))
                throw ShapeError($"B of shape {Dim.Format(b)} does not match A of shape {Dim.Format(a)} at axis {axis}");
            r[axis + i] = b[i];
        }
        return r;
    }

    private void StateElements(ShapeContext ctx, DataType type, Dim[] y)
    {
        if (type is not (DataType.Int64 or DataType.Int32) || y.Length > 1) return;
        var ea = ctx.InputElements(0);
        var eb = ctx.InputElements(1);
        if (ea is null || eb is null || ea.Length == 0 || eb.Length == 0) return;
        var r = new Dim[Math.Max(ea.Length, eb.Length)];
        try
        {
            for (int i = 0; i < r.Length; i++) r[i] = Combine(ea[ea.Length == 1 ? 0 : i], eb[eb.Length == 1 ? 0 : i]);
            // int32 results outside int32 wrap at run time; leave those to Forward.
            if (type == DataType.Int32 && r.Any(d => d.IsKnown && (d.Value < int.MinValue || d.Value > int.MaxValue))) return;
        }
        catch (Exception e) when (e is UnresolvedDimException or OverflowException)
        {
            // No static form (batch·batch, an uneven division, 64-bit overflow): the output is just a tensor.
            return;
        }
        ctx.SetOutputElements(0, type, y, r);
    }
}
