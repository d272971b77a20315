using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Base of the element-wise functions on float types (Exp, Sigmoid, Elu, ...): output type and
/// shape equal the input's; float and double have their own bodies, float16 and bfloat16 are
/// computed in float and rounded back. Large tensors are split over threads. Gradients in float32.
/// </summary>
internal abstract class UnaryFloatKernel : ElementwiseKernel
{
    protected UnaryFloatKernel(NodeContext ctx) : base(ctx)
    {
    }

    /// <summary>Rough cost per element in simple operations, for splitting work over threads.</summary>
    protected virtual int Cost => 4;

    /// <summary>True when integer inputs are accepted (computed in double, truncated back).</summary>
    protected virtual bool AcceptsIntegers => false;

    /// <summary>y = f(x) in float.</summary>
    protected abstract void Apply(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>y = f(x) in double.</summary>
    protected abstract void Apply(ReadOnlySpan<double> x, Span<double> y);

    public override void InferShapes(ShapeContext ctx)
    {
        var t = ctx.InputType(0);
        if (!DataTypes.IsFloatingPoint(t) && !(AcceptsIntegers && IsInteger(t))) throw TypeError(t);
        ctx.SetOutput(0, t, ctx.InputShape(0));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        switch (x.Data)
        {
            case float[] xf:
            {
                var yf = ctx.Output(0).Floats;
                Parallelism.For(xf.Length, threads, Cost, (s, e) => Apply(xf.AsSpan(s, e - s), yf.AsSpan(s, e - s)));
                break;
            }
            case double[] xd:
            {
                var yd = ctx.Output(0).ArrayOf<double>();
                Parallelism.For(xd.Length, threads, Cost * 2, (s, e) => Apply(xd.AsSpan(s, e - s), yd.AsSpan(s, e - s)));
                break;
            }
            case Half[] or BFloat16[]:
            {
                var xf = ElementConversion.ToFloats(x);
                var yf = new float[xf.Length];
                Parallelism.For(xf.Length, threads, Cost, (s, e) => Apply(xf.AsSpan(s, e - s), yf.AsSpan(s, e - s)));
                ElementConversion.StoreFloats(yf, ctx.Output(0));
                break;
            }
            default:
            {
                var xd = ElementConversion.Convert(x, DataType.Double).ArrayOf<double>();
                var yd = new double[xd.Length];
                Apply(xd, yd);
                ctx.SetOutput(0, ElementConversion.Convert(Tensor.FromArray(yd, x.Shape), x.DataType));
                break;
            }
        }
    }

    public override bool IsDifferentiable => true;

    /// <summary>Sets dx = f(a, dy) where a is the forward input or output (float32 only).</summary>
    protected void SetGrad<TF>(BackwardContext ctx, Tensor a, TF f) where TF : struct, IVectorFunction2
    {
        RequireFloatGradient(ctx.Input(0));
        var dy = ctx.OutputGrad(0)!;
        var dx = Tensor.Allocate(DataType.Float, ctx.Input(0).Shape);
        ElementwiseKernels.Map(a.Floats, dy.Floats, dx.Floats, f, ctx.Options.MaxDegreeOfParallelism, Cost);
        ctx.SetInputGrad(0, dx);
    }

    /// <summary>Sets dx = f(x, y, dy) (float32 only).</summary>
    protected void SetGrad<TF>(BackwardContext ctx, TF f) where TF : struct, IVectorFunction3
    {
        RequireFloatGradient(ctx.Input(0));
        var dy = ctx.OutputGrad(0)!;
        var dx = Tensor.Allocate(DataType.Float, ctx.Input(0).Shape);
        ElementwiseKernels.Map(ctx.Input(0).Floats, ctx.Output(0).Floats, dy.Floats, dx.Floats, f, ctx.Options.MaxDegreeOfParallelism, Cost);
        ctx.SetInputGrad(0, dx);
    }

    /// <summary>dy · a (e.g. Exp: a = y).</summary>
    protected readonly struct TimesGrad : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> dy) => a * dy;
    }
}
