using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Reduce;

/// <summary>
/// ReduceSum: sums over the given axes (all axes when none are given). Opsets 1 and 11: axes
/// attribute (11 documents negative axes); 13+: axes as an optional int64 input, and
/// noop_with_empty_axes=1 makes empty axes the identity. Sums of empty sets are 0.
/// </summary>
[OnnxOperator("ReduceSum")]
internal sealed class ReduceSum : ReduceKernel
{
    public ReduceSum(NodeContext ctx) : base(ctx, axesInputSince: 13)
    {
    }

    protected override void Compute<T>(T[] x, int[] shape, bool[] reduced, T[] y, int maxDegree) =>
        ReductionKernels.Reduce(x, shape, reduced, y, ReduceOp.Sum, maxDegree);

    // Each input element contributes once to its output: dx is dy broadcast back.
    protected override float[] InputGradient(Tensor x, Tensor y, Tensor dy, bool[] reduced, int maxDegree) =>
        ExpandToInput(dy, x.Shape, reduced);
}
