using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Reduce;

/// <summary>
/// ReduceMean: the mean over the given axes (all axes when none are given). Opsets 1, 11, 13: axes
/// attribute (11 documents negative axes, 13 adds bfloat16); 18+: axes as an optional int64 input and
/// noop_with_empty_axes. Integer means truncate like integer division. The spec leaves the mean of an
/// empty set undefined; it is 0 here, as in ONNX Runtime.
/// </summary>
[OnnxOperator("ReduceMean")]
internal sealed class ReduceMean : ReduceKernel
{
    public ReduceMean(NodeContext ctx) : base(ctx, axesInputSince: 18)
    {
    }

    protected override void Compute<T>(T[] x, int[] shape, bool[] reduced, T[] y, int maxDegree)
    {
        ReductionKernels.Reduce(x, shape, reduced, y, ReduceOp.Sum, maxDegree);
        int count = ReducedCount(shape, reduced);
        if (count > 0) TensorPrimitives.Divide<T>(y, T.CreateTruncating(count), y);
    }

    protected override float[] InputGradient(Tensor x, Tensor y, Tensor dy, bool[] reduced, int maxDegree)
    {
        var dx = ExpandToInput(dy, x.Shape, reduced);
        TensorPrimitives.Multiply(dx, 1f / Math.Max(ReducedCount(x.Shape, reduced), 1), dx);
        return dx;
    }
}
