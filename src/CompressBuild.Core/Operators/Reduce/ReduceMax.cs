using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Reduce;

/// <summary>
/// ReduceMax: the maximum over the given axes (all axes when none are given). Opsets 1, 11, 12
/// (int8/uint8), 13: axes attribute; 18+: axes as an optional int64 input and noop_with_empty_axes.
/// The maximum of an empty set is -inf (the type's minimum for integers). The gradient is shared
/// equally between tied maxima.
/// </summary>
[OnnxOperator("ReduceMax")]
internal sealed class ReduceMax : ReduceKernel
{
    public ReduceMax(NodeContext ctx) : base(ctx, axesInputSince: 18)
    {
    }

    protected override void Compute<T>(T[] x, int[] shape, bool[] reduced, T[] y, int maxDegree) =>
        ReductionKernels.Reduce(x, shape, reduced, y, ReduceOp.Max, maxDegree);

    protected override float[] InputGradient(Tensor x, Tensor y, Tensor dy, bool[] reduced, int maxDegree)
    {
        var xs = x.Floats;
        var ys = ExpandToInput(y, x.Shape, reduced);
        var dx = ExpandToInput(dy, x.Shape, reduced);
        var hits = new float[xs.Length];
        for (int i = 0; i < xs.Length; i++) hits[i] = xs[i] == ys[i] ? 1f : 0f;
        TensorPrimitives.Multiply(dx, hits, dx);
        var ties = new float[y.Length];
        ReductionKernels.Reduce(hits, x.Shape, reduced, ties, ReduceOp.Sum, maxDegree);
        if (ties.Length > 0 && TensorPrimitives.Max(ties) > 1f)
            TensorPrimitives.Divide(dx, ExpandToInput(Tensor.FromArray(ties, y.Shape), x.Shape, reduced), dx);
        return dx;
    }
}
