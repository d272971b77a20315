using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// AveragePool: the mean of each window over 1 to 3 spatial axes, with auto_pad, pads, strides and
/// kernel_shape; float and double. Opset 7+: count_include_pad (divide by the window's size within
/// the padded input instead of by its input elements); opset 10+: ceil_mode (a last window must
/// start inside the input or the begin padding; its part past the end padding is never counted).
/// Dilations arrive in opset 19, beyond the supported range. Gradient for float X.
/// </summary>
[OnnxOperator("AveragePool")]
internal sealed class AveragePool : OpKernel
{
    private readonly WindowAttributes _window;
    private readonly bool _ceil;
    private readonly bool _countPad;

    public AveragePool(NodeContext ctx) : base(ctx)
    {
        _window = WindowAttributes.Read(ctx, allowDilations: false);
        if (_window.KernelShape is null) throw ctx.Invalid("kernel_shape is required");
        _ceil = WindowAttributes.OpsetInt(ctx, "ceil_mode", 10) != 0;
        _countPad = WindowAttributes.OpsetInt(ctx, "count_include_pad", 7) != 0;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var type = ctx.InputType(0);
        if (type is not (DataType.Float or DataType.Double)) throw TypeError(type);
        ctx.SetOutput(0, type, _window.PoolShape(this, ctx.InputShape(0), _ceil));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var g = _window.PoolGeometry(this, x.Shape[2..], _ceil);
        int planes = x.Shape[0] * x.Shape[1];
        int threads = ctx.Options.MaxDegreeOfParallelism;
        var y = ctx.Output(0);
        switch (x.Data)
        {
            case float[] f: PoolKernels.Average(f, y.Floats, planes, g, _countPad, threads); break;
            case double[] d: PoolKernels.Average(d, y.ArrayOf<double>(), planes, g, _countPad, threads); break;
            default: throw TypeError(x.DataType);
        }
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        if (x.DataType != DataType.Float) throw TypeError(x.DataType, "gradient element type");
        var g = _window.PoolGeometry(this, x.Shape[2..], _ceil);
        var dx = Tensor.Allocate(DataType.Float, x.Shape);
        PoolKernels.AverageBackward(ctx.OutputGrad(0)!.Floats, dx.Floats, x.Shape[0] * x.Shape[1], g, _countPad, ctx.Options.MaxDegreeOfParallelism);
        ctx.SetInputGrad(0, dx);
    }
}
