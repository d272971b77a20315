using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Pow: y = a^b with broadcasting; the output has the base's type. Opsets 1–6: legacy
/// broadcast/axis attributes; 7–11: base and exponent of one float type; 12+: independent numeric
/// types (float32^int32, int64^float32, ...); 13/15 add bfloat16. float^float computes in float
/// (exponents 1, 2, 3 by multiplication, like ONNX Runtime); integer^integer is exact with
/// wrap-around, a negative exponent truncating toward zero as a C cast of std::pow would; every other
/// mix computes in double and converts to the base type (truncating for integers). Gradients for
/// float32 base (and float32 exponent: dy·y·ln a, NaN for a negative base, 0 at a = 0).
/// </summary>
[OnnxOperator("Pow")]
internal sealed class Pow : BroadcastBinaryKernel
{
    public Pow(NodeContext ctx) : base(ctx)
    {
    }

    protected override DataType OutputType(ShapeContext ctx)
    {
        var ta = ctx.InputType(0);
        var tb = ctx.InputType(1);
        if (!IsNumeric(ta)) throw TypeError(ta, "base type");
        if (!IsNumeric(tb)) throw TypeError(tb, "exponent type");
        if (Opset < 12 && ta != tb)
            throw ctx.Error($"base {DataTypes.OnnxName(ta)} and exponent {DataTypes.OnnxName(tb)} differ; mixed types need opset 12");
        return ta;
    }

    protected override void Compute(ForwardContext ctx, Tensor a, int[] aShape, Tensor b, int[] bShape)
    {
        int threads = ctx.Options.MaxDegreeOfParallelism;
        var yShape = ctx.OutputShape(0);
        if (a.DataType == DataType.Float && b.DataType == DataType.Float)
        {
            ElementwiseKernels.Broadcast<float, PowFloat>(a.Floats, aShape, b.Floats, bShape, ctx.Output(0).Floats, yShape, threads, cost: 16);
            return;
        }
        Tensor result;
        if (IsInteger(a.DataType) && IsInteger(b.DataType))
        {
            var r = new long[ShapeMath.ElementCount(yShape)];
            ElementwiseKernels.Broadcast<long, PowInteger>(ElementConversion.Convert(a, DataType.Int64).ArrayOf<long>(), aShape,
                ElementConversion.Convert(b, DataType.Int64).ArrayOf<long>(), bShape, r, yShape, threads, cost: 8);
            result = Tensor.FromArray(r, yShape);
        }
        else
        {
            var r = new double[ShapeMath.ElementCount(yShape)];
            ElementwiseKernels.Broadcast<double, PowDouble>(ElementConversion.Convert(a, DataType.Double).ArrayOf<double>(), aShape,
                ElementConversion.Convert(b, DataType.Double).ArrayOf<double>(), bShape, r, yShape, threads, cost: 16);
            result = Tensor.FromArray(r, yShape);
        }
        ctx.SetOutput(0, ElementConversion.Convert(result, a.DataType));
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        var dy = ctx.OutputGrad(0)!.Floats;
        var shape = ctx.Output(0).Shape;
        RequireFloatGradient(a);
        var ae = ExpandFloats(a.Floats, a.Shape, shape);
        var bf = ElementConversion.ToFloats(b);
        if (ctx.NeedsInputGrad(0))
        {
            // da = dy·b·a^(b−1); the common square needs no pow.
            var g = new float[dy.Length];
            if (bf.Length == 1 && bf[0] == 2f)
            {
                TensorPrimitives.Multiply(ae, 2f, g);
                TensorPrimitives.Multiply(g, dy, g);
            }
            else
            {
                var be = ExpandFloats(bf, ShapeOfB(a, b), shape);
                for (int i = 0; i < g.Length; i++) g[i] = dy[i] * be[i] * MathF.Pow(ae[i], be[i] - 1f);
            }
            ctx.SetInputGrad(0, ReduceToInput(ctx, 0, Tensor.FromArray(g, shape)));
        }
        if (ctx.NeedsInputGrad(1))
        {
            RequireFloatGradient(b);
            var y = ctx.Output(0).Floats;
            var g = new float[dy.Length];
            for (int i = 0; i < g.Length; i++) g[i] = ae[i] == 0f ? 0f : dy[i] * y[i] * MathF.Log(ae[i]);
            ctx.SetInputGrad(1, ReduceToInput(ctx, 1, Tensor.FromArray(g, shape)));
        }
    }

    private readonly struct PowFloat : IBinaryOp<float>
    {
        public static float Invoke(float a, float b) => MathF.Pow(a, b);

        public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);

        public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> y)
        {
            switch (b)
            {
                case 1f: a.CopyTo(y); break;
                case 2f: TensorPrimitives.Multiply(a, a, y); break;
                case 3f:
                    TensorPrimitives.Multiply(a, a, y);
                    TensorPrimitives.Multiply(y, a, y);
                    break;
                default: TensorPrimitives.Pow(a, b, y); break;
            }
        }

        public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);
    }

    private readonly struct PowDouble : IBinaryOp<double>
    {
        public static double Invoke(double a, double b) => Math.Pow(a, b);
        public static void Invoke(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Pow(a, b, y);
        public static void Invoke(ReadOnlySpan<double> a, double b, Span<double> y) => TensorPrimitives.Pow(a, b, y);
        public static void Invoke(double a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Pow(a, b, y);
    }

    private readonly struct PowInteger : IBinaryOp<long>
    {
        public static long Invoke(long a, long b)
        {
            // |a| > 1 with a negative exponent is a fraction below 1 in magnitude, truncated to 0.
            if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) == 0 ? 1 : -1) : 0;
            long r = 1;
            for (; b > 0; b >>= 1, a = unchecked(a * a))
                if ((b & 1) != 0) r = unchecked(r * a);
            return r;
        }

        public static void Invoke(ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<long> y)
        {
            for (int i = 0; i < y.Length; i++) y[i] = Invoke(a[i], b[i]);
        }

        public static void Invoke(ReadOnlySpan<long> a, long b, Span<long> y)
        {
            for (int i = 0; i < y.Length; i++) y[i] = Invoke(a[i], b);
        }

        public static void Invoke(long a, ReadOnlySpan<long> b, Span<long> y)
        {
            for (int i = 0; i < y.Length; i++) y[i] = Invoke(a, b[i]);
        }
    }
}
