using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// GlobalAveragePool: the mean over all spatial axes of [N, C, spatial…], giving [N, C, 1, …];
/// float and double (opset 1; 22 adds bfloat16, beyond the supported range). Gradient for float X.
/// </summary>
[OnnxOperator("GlobalAveragePool")]
internal sealed class GlobalAveragePool : OpKernel
{
    public GlobalAveragePool(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var type = ctx.InputType(0);
        if (type is not (DataType.Float or DataType.Double)) throw TypeError(type);
        ctx.SetOutput(0, type, GlobalPoolShape(this, ctx.InputShape(0)));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0);
        int planes = x.Shape[0] * x.Shape[1], size = x.Length / Math.Max(planes, 1);
        switch (x.Data)
        {
            case float[] f: PoolKernels.GlobalAverage(f, y.Floats, planes, size); break;
            case double[] d: PoolKernels.GlobalAverage(d, y.ArrayOf<double>(), planes, size); break;
            default: throw TypeError(x.DataType);
        }
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        var dy = ctx.OutputGrad(0)!.Floats;
        var dx = Tensor.Allocate(DataType.Float, x.Shape);
        int size = x.Length / Math.Max(dy.Length, 1);
        for (int p = 0; p < dy.Length; p++) dx.Floats.AsSpan(p * size, size).Fill(dy[p] / size);
        ctx.SetInputGrad(0, dx);
    }

    /// <summary>[N, C, 1, …] for X of rank ≥ 3 (spatial dims may be symbolic: they are reduced away).</summary>
    internal static Dim[] GlobalPoolShape(OpKernel op, Dim[] x)
    {
        if (x.Length < 3) throw op.ShapeError($"X must be [N, C, spatial…], got {Dim.Format(x)}");
        var y = new Dim[x.Length];
        y[0] = x[0];
        y[1] = x[1];
        for (int i = 2; i < y.Length; i++) y[i] = 1;
        return y;
    }
}
