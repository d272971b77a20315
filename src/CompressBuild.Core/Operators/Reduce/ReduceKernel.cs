using System.Numerics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Reduce;

/// <summary>
/// What ReduceSum, ReduceMean and ReduceMax share: the axes (an attribute before
/// <c>axesInputSince</c>, the optional second input from then on), keepdims, noop_with_empty_axes
/// (only with the axes input), negative axes, empty axes meaning all axes, output shapes with
/// symbolic dims kept, and the element-type dispatch.
/// </summary>
internal abstract class ReduceKernel : OpKernel
{
    private readonly bool _axesFromInput;
    private readonly long[]? _axesAttribute;
    private readonly bool _noopWithEmptyAxes;
    private readonly bool _keepDims;

    protected ReduceKernel(NodeContext ctx, int axesInputSince) : base(ctx)
    {
        _axesFromInput = ctx.Opset >= axesInputSince;
        _keepDims = ctx.Int("keepdims", 1) != 0;
        if (_axesFromInput)
        {
            if (ctx.Has("axes")) throw ctx.Invalid($"{Node.OpType} takes axes as its second input from opset {axesInputSince}, not as an attribute. Re-export the model.");
            _noopWithEmptyAxes = ctx.Int("noop_with_empty_axes", 0) != 0;
        }
        else
        {
            if (ctx.Has("noop_with_empty_axes")) throw ctx.Invalid($"attribute 'noop_with_empty_axes' exists from opset {axesInputSince}; this model imports opset {ctx.Opset}. Re-export the model.");
            _axesAttribute = ctx.Ints("axes");
        }
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        CheckType(ctx.InputType(0));
        long[]? axes = _axesFromInput ? (ctx.HasInput(1) ? ctx.RequireConstantInts(1) : null) : _axesAttribute;
        var reduced = ReducedAxes(axes, x.Length);
        if (reduced is null)
        {
            ctx.SetOutput(0, ctx.InputType(0), x);
            return;
        }
        var dims = new List<Dim>(x.Length);
        for (int d = 0; d < x.Length; d++)
        {
            if (!reduced[d]) dims.Add(x[d]);
            else if (_keepDims) dims.Add(1);
        }
        ctx.SetOutput(0, ctx.InputType(0), dims.ToArray());
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var reduced = ReducedAxes(x, ctx.OptionalInput(1));
        if (reduced is null)
        {
            ctx.SetOutput(0, x.Reshape(x.Shape));
            return;
        }
        var y = ctx.Output(0);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        // Dispatch on DataType: the CLR lets byte[] match sbyte[] (and uint[] int[], ...).
        switch (x.DataType)
        {
            case DataType.Float: { var a = x.ArrayOf<float>(); Compute(a, x.Shape, reduced, y.ArrayOf<float>(), threads); break; }
            case DataType.Double: { var a = x.ArrayOf<double>(); Compute(a, x.Shape, reduced, y.ArrayOf<double>(), threads); break; }
            case DataType.Int32: { var a = x.ArrayOf<int>(); Compute(a, x.Shape, reduced, y.ArrayOf<int>(), threads); break; }
            case DataType.Int64: { var a = x.ArrayOf<long>(); Compute(a, x.Shape, reduced, y.ArrayOf<long>(), threads); break; }
            case DataType.UInt32: { var a = x.ArrayOf<uint>(); Compute(a, x.Shape, reduced, y.ArrayOf<uint>(), threads); break; }
            case DataType.UInt64: { var a = x.ArrayOf<ulong>(); Compute(a, x.Shape, reduced, y.ArrayOf<ulong>(), threads); break; }
            case DataType.Int8: { var a = x.ArrayOf<sbyte>(); Compute(a, x.Shape, reduced, y.ArrayOf<sbyte>(), threads); break; }
            case DataType.UInt8: { var a = x.ArrayOf<byte>(); Compute(a, x.Shape, reduced, y.ArrayOf<byte>(), threads); break; }
            default: throw TypeError(x.DataType);
        }
    }

    /// <summary>Computes the reduction for one element type (y has the kept dims' element count).</summary>
    protected abstract void Compute<T>(T[] x, int[] shape, bool[] reduced, T[] y, int maxDegree) where T : unmanaged, INumber<T>;

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        var dy = ctx.OutputGrad(0)!;
        var reduced = ReducedAxes(x, ctx.HasInput(1) ? ctx.Input(1) : null);
        ctx.SetInputGrad(0, reduced is null
            ? dy.Reshape(x.Shape)
            : Tensor.FromArray(InputGradient(x, ctx.Output(0), dy, reduced, ctx.Options.MaxDegreeOfParallelism), x.Shape));
    }

    /// <summary>The gradient of a float input (not the identity case) from the output's gradient.</summary>
    protected abstract float[] InputGradient(Tensor x, Tensor y, Tensor dy, bool[] reduced, int maxDegree);

    // The reduced axes at run time, or null when the node is the identity (empty axes with noop).
    private bool[]? ReducedAxes(Tensor x, Tensor? axesInput) =>
        ReducedAxes(_axesFromInput ? axesInput?.ToInt64Array() : _axesAttribute, x.Rank);

    /// <summary>
    /// The input's shape with reduced dims set to 1: the output's elements in the input's rank, which
    /// backward broadcasts from.
    /// </summary>
    private static int[] KeptShape(int[] shape, bool[] reduced)
    {
        var kept = (int[])shape.Clone();
        for (int d = 0; d < kept.Length; d++) if (reduced[d]) kept[d] = 1;
        return kept;
    }

    /// <summary>Number of input elements reduced into each output element.</summary>
    protected static int ReducedCount(int[] shape, bool[] reduced)
    {
        int n = 1;
        for (int d = 0; d < shape.Length; d++) if (reduced[d]) n *= shape[d];
        return n;
    }

    /// <summary>Broadcasts an output-shaped float tensor back over the input's shape.</summary>
    protected static float[] ExpandToInput(Tensor t, int[] shape, bool[] reduced)
    {
        var result = new float[ShapeMath.ElementCount(shape)];
        Broadcasting.Expand<float>(t.Floats, KeptShape(shape, reduced), result, shape);
        return result;
    }

    private void CheckType(DataType t)
    {
        if (t is not (DataType.Float or DataType.Double or DataType.Int32 or DataType.Int64 or DataType.UInt32
            or DataType.UInt64 or DataType.Int8 or DataType.UInt8))
            throw TypeError(t);
    }

    private bool[]? ReducedAxes(long[]? axes, int rank)
    {
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0)
        {
            if (_noopWithEmptyAxes) return null;
            Array.Fill(reduced, true);
            return reduced;
        }
        foreach (long a in axes)
        {
            long d = a < 0 ? a + rank : a;
            if (d < 0 || d >= rank) throw ShapeError($"axis {a} is out of range for an input of rank {rank}");
            if (reduced[d]) throw ShapeError($"axis {a} appears more than once in axes [{string.Join(",", axes)}]");
            reduced[d] = true;
        }
        return reduced;
    }
}
