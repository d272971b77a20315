using System.Numerics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Reduce;

/// <summary>
/// ArgMax: int64 indices of the maxima along <c>axis</c> (default 0), keepdims (default 1) keeps
/// the axis as size 1. Opset 1: non-negative axis; 11: negative axis; 12+: select_last_index picks
/// the last of tied maxima instead of the first. NaN counts as the maximum (like numpy).
/// </summary>
[OnnxOperator("ArgMax")]
internal sealed class ArgMax : OpKernel
{
    private readonly long _axis;
    private readonly bool _keepDims;
    private readonly bool _selectLast;

    public ArgMax(NodeContext ctx) : base(ctx)
    {
        _axis = ctx.Int("axis", 0);
        _keepDims = ctx.Int("keepdims", 1) != 0;
        if (ctx.Opset < 12 && ctx.Has("select_last_index"))
            throw ctx.Invalid($"attribute 'select_last_index' exists from opset 12; this model imports opset {ctx.Opset}. Re-export the model.");
        _selectLast = ctx.Int("select_last_index", 0) != 0;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        if (x.Length == 0) throw ctx.Error("ArgMax needs an input of rank 1 or more");
        int axis = ctx.Axis(_axis, x.Length);
        var type = ctx.InputType(0);
        if (type is not (DataType.Float or DataType.Double or DataType.Int32 or DataType.Int64 or DataType.UInt32
            or DataType.UInt64 or DataType.Int8 or DataType.UInt8 or DataType.Int16 or DataType.UInt16))
            throw TypeError(type);
        var dims = new List<Dim>(x);
        if (_keepDims) dims[axis] = 1;
        else dims.RemoveAt(axis);
        ctx.SetOutput(0, DataType.Int64, dims.ToArray());
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        int axis = (int)(_axis < 0 ? _axis + x.Rank : _axis);
        var (outer, n, inner) = ReductionKernels.AroundAxis(x.Shape, axis);
        var y = ctx.Output(0).ArrayOf<long>();
        if (y.Length == 0) return;
        if (n == 0) throw ShapeError($"ArgMax over axis {_axis} of length 0 has no answer");
        // Dispatch on DataType: the CLR lets byte[] match sbyte[] (and uint[] int[], ...).
        switch (x.DataType)
        {
            case DataType.Float: { var a = x.ArrayOf<float>(); Run(a, y, outer, n, inner); break; }
            case DataType.Double: { var a = x.ArrayOf<double>(); Run(a, y, outer, n, inner); break; }
            case DataType.Int32: { var a = x.ArrayOf<int>(); Run(a, y, outer, n, inner); break; }
            case DataType.Int64: { var a = x.ArrayOf<long>(); Run(a, y, outer, n, inner); break; }
            case DataType.UInt32: { var a = x.ArrayOf<uint>(); Run(a, y, outer, n, inner); break; }
            case DataType.UInt64: { var a = x.ArrayOf<ulong>(); Run(a, y, outer, n, inner); break; }
            case DataType.Int8: { var a = x.ArrayOf<sbyte>(); Run(a, y, outer, n, inner); break; }
            case DataType.UInt8: { var a = x.ArrayOf<byte>(); Run(a, y, outer, n, inner); break; }
            case DataType.Int16: { var a = x.ArrayOf<short>(); Run(a, y, outer, n, inner); break; }
            case DataType.UInt16: { var a = x.ArrayOf<ushort>(); Run(a, y, outer, n, inner); break; }
            default: throw TypeError(x.DataType);
        }
    }

    private void Run<T>(T[] x, long[] y, int outer, int n, int inner) where T : INumber<T>
    {
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int at = o * n * inner + i;
                T best = x[at];
                int bestIndex = 0;
                for (int j = 1; j < n; j++)
                {
                    T v = x[at + j * inner];
                    if (Better(v, best))
                    {
                        best = v;
                        bestIndex = j;
                    }
                }
                y[o * inner + i] = bestIndex;
            }
        }
    }

    // Strictly greater wins; a tie wins only with select_last_index. NaN beats every number.
    private bool Better<T>(T v, T best) where T : INumber<T>
    {
        if (T.IsNaN(best)) return _selectLast && T.IsNaN(v);
        if (T.IsNaN(v)) return true;
        return v > best || (_selectLast && v == best);
    }
}
