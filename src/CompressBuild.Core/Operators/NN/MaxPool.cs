using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// MaxPool: the maximum of each window over 1 to 3 spatial axes (padding never wins), with
/// auto_pad, pads, strides and kernel_shape. Opset 8+: storage_order and the optional Indices output
/// (int64 offsets into the flattened input, spatially row- or column-major); opset 10+: ceil_mode
/// and dilations; opset 12+: int8 and uint8 besides float, double and float16. Gradient for float X,
/// routed to the first maximum of each window.
/// </summary>
[OnnxOperator("MaxPool")]
internal sealed class MaxPool : OpKernel
{
    private readonly WindowAttributes _window;
    private readonly bool _ceil;
    private readonly bool _columnMajor;

    public MaxPool(NodeContext ctx) : base(ctx)
    {
        _window = WindowAttributes.Read(ctx, allowDilations: ctx.Opset >= 10);
        if (_window.KernelShape is null) throw ctx.Invalid("kernel_shape is required");
        _ceil = WindowAttributes.OpsetInt(ctx, "ceil_mode", 10) != 0;
        long order = WindowAttributes.OpsetInt(ctx, "storage_order", 8);
        if (order is not (0 or 1)) throw ctx.Invalid($"storage_order {order} must be 0 (row major) or 1 (column major)");
        _columnMajor = order == 1;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var type = ctx.InputType(0);
        bool supported = type is DataType.Float or DataType.Double or DataType.Float16
            || (type is DataType.Int8 or DataType.UInt8 && Opset >= 12);
        if (!supported) throw TypeError(type);
        var y = _window.PoolShape(this, ctx.InputShape(0), _ceil);
        ctx.SetOutput(0, type, y);
        if (ctx.HasOutput(1))
        {
            if (Opset < 8) throw ShapeError($"MaxPool has no Indices output before opset 8 (the model uses opset {Opset})");
            ctx.SetOutput(1, DataType.Int64, y);
        }
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var g = _window.PoolGeometry(this, x.Shape[2..], _ceil);
        int planes = x.Shape[0] * x.Shape[1];
        int threads = ctx.Options.MaxDegreeOfParallelism;
        bool indices = ctx.HasOutput(1);
        bool saveArgmax = ctx.Recording && x.DataType == DataType.Float;
        int[]? argmax = indices || saveArgmax ? GC.AllocateUninitializedArray<int>(planes * g.OutSize) : null;
        var y = ctx.Output(0);
        // By element type, not array type: the runtime lets a byte[] pass as an sbyte[].
        switch (x.DataType)
        {
            case DataType.Float: PoolKernels.Max(x.Floats, y.Floats, argmax, planes, g, threads); break;
            case DataType.Double: PoolKernels.Max(x.ArrayOf<double>(), y.ArrayOf<double>(), argmax, planes, g, threads); break;
            case DataType.Float16: PoolKernels.Max(x.ArrayOf<Half>(), y.ArrayOf<Half>(), argmax, planes, g, threads); break;
            case DataType.Int8: PoolKernels.Max(x.ArrayOf<sbyte>(), y.ArrayOf<sbyte>(), argmax, planes, g, threads); break;
            case DataType.UInt8: PoolKernels.Max(x.ArrayOf<byte>(), y.ArrayOf<byte>(), argmax, planes, g, threads); break;
            default: throw TypeError(x.DataType);
        }
        if (indices) WriteIndices(argmax!, ctx.Output(1).ArrayOf<long>(), g);
        if (saveArgmax) ctx.Saved = argmax;
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        if (ctx.OutputGrad(0) is not { } dy) return;
        var x = ctx.Input(0);
        if (x.DataType != DataType.Float) throw TypeError(x.DataType, "gradient element type");
        var g = _window.PoolGeometry(this, x.Shape[2..], _ceil);
        var dx = Tensor.Allocate(DataType.Float, x.Shape);
        PoolKernels.MaxBackward(dy.Floats, (int[])ctx.Saved!, dx.Floats, x.Shape[0] * x.Shape[1], g, ctx.Options.MaxDegreeOfParallelism);
        ctx.SetInputGrad(0, dx);
    }

    // Indices count from the start of the whole input: planes row-major, spatial axes in storage_order.
    private void WriteIndices(int[] argmax, long[] indices, WindowGeometry g)
    {
        for (int o = 0; o < indices.Length; o++)
        {
            int a = argmax[o];
            if (a < 0)
            {
                indices[o] = -1;
                continue;
            }
            long spatial = a;
            if (_columnMajor)
            {
                int w = a % g.In[2], h = a / g.In[2] % g.In[1], d = a / (g.In[1] * g.In[2]);
                spatial = d + (long)g.In[0] * (h + (long)g.In[1] * w);
            }
            indices[o] = (long)(o / g.OutSize) * g.InSize + spatial;
        }
    }
}
