using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// The gradients of Conv and ConvTranspose, which are each other's transpose: the same three
/// kernels (convolve, transpose-convolve, weight gradient) with the big and small sides swapped.
/// </summary>
internal static class ConvGradients
{
    /// <summary>
    /// Sets the input, weight and bias gradients. For Conv the input X is the big side and Y the
    /// small one; for ConvTranspose (<paramref name="transposed"/>) it is the other way round.
    /// </summary>
    public static void Backward(BackwardContext ctx, ConvProblem p, bool transposed)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var dy = ctx.OutputGrad(0)!;
        int threads = ctx.Options.MaxDegreeOfParallelism;
        if (ctx.NeedsInputGrad(0))
        {
            var dx = Tensor.Allocate(DataType.Float, x.Shape);
            if (transposed) ConvKernels.Forward(p, dy.Floats, w.Floats, null, dx.Floats, threads);
            else ConvKernels.BackwardData(p, dy.Floats, w.Floats, null, dx.Floats, threads);
            ctx.SetInputGrad(0, dx);
        }
        if (ctx.NeedsInputGrad(1))
        {
            var (big, small) = transposed ? (dy.Floats, x.Floats) : (x.Floats, dy.Floats);
            ctx.SetInputGrad(1, Tensor.FromArray(ConvKernels.WeightGrad(p, big, small, threads), w.Shape));
        }
        if (ctx.HasInput(2) && ctx.NeedsInputGrad(2))
        {
            int channels = dy.Shape[1];
            int size = transposed ? p.Geometry.InSize : p.Geometry.OutSize;
            ctx.SetInputGrad(2, Tensor.FromArray(ConvKernels.ChannelSums(dy.Floats, p.Batch, channels, size), channels));
        }
    }
}
