using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// GlobalMaxPool: the maximum over all spatial axes of [N, C, spatial…], giving [N, C, 1, …];
/// float, double and float16 (opset 1; 22 adds bfloat16, beyond the supported range). Gradient for
/// float X, routed to the first maximum of each plane.
/// </summary>
[OnnxOperator("GlobalMaxPool")]
internal sealed class GlobalMaxPool : OpKernel
{
    public GlobalMaxPool(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var type = ctx.InputType(0);
        if (type is not (DataType.Float or DataType.Double or DataType.Float16)) throw TypeError(type);
        ctx.SetOutput(0, type, GlobalAveragePool.GlobalPoolShape(this, ctx.InputShape(0)));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0);
        int planes = x.Shape[0] * x.Shape[1], size = x.Length / Math.Max(planes, 1);
        if (size == 0) throw ShapeError($"X [{ShapeMath.Format(x.Shape)}] has no spatial elements to take the maximum of");
        int[]? argmax = ctx.Recording && x.DataType == DataType.Float ? new int[planes] : null;
        switch (x.Data)
        {
            case float[] f: PoolKernels.GlobalMax(f, y.Floats, argmax, planes, size); break;
            case double[] d: PoolKernels.GlobalMax(d, y.ArrayOf<double>(), argmax, planes, size); break;
            case Half[] h: PoolKernels.GlobalMax(h, y.ArrayOf<Half>(), argmax, planes, size); break;
            default: throw TypeError(x.DataType);
        }
        ctx.Saved = argmax;
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        if (x.DataType != DataType.Float) throw TypeError(x.DataType, "gradient element type");
        var dy = ctx.OutputGrad(0)!.Floats;
        var argmax = (int[])ctx.Saved!;
        var dx = Tensor.Zeros(DataType.Float, x.Shape);
        int size = x.Length / Math.Max(dy.Length, 1);
        for (int p = 0; p < dy.Length; p++) dx.Floats[p * size + argmax[p]] = dy[p];
        ctx.SetInputGrad(0, dx);
    }
}
