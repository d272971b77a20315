using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Clip: y = min(max(x, min), max). Opsets 1–10: `min`/`max` float attributes (defaulting to the
/// float range); 11+: optional scalar inputs of x's type; 12 adds integer types, 13 bfloat16 (every
/// numeric type is accepted at every opset). With min &gt; max every element becomes max; NaN stays NaN.
/// Gradients: dy passes where min ≤ x ≤ max; the min/max inputs receive the sums of dy over the
/// elements they replaced.
/// </summary>
[OnnxOperator("Clip")]
internal sealed class Clip : ElementwiseKernel
{
    private readonly float _minAttribute = float.MinValue;
    private readonly float _maxAttribute = float.MaxValue;

    public Clip(NodeContext ctx) : base(ctx)
    {
        if (ctx.Opset < 11)
        {
            _minAttribute = ctx.Float("min", float.MinValue);
            _maxAttribute = ctx.Float("max", float.MaxValue);
        }
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var t = ctx.InputType(0);
        if (!IsNumeric(t)) throw TypeError(t);
        if (Opset >= 11)
        {
            SameTypes(ctx, 0, 3);
            for (int i = 1; i <= 2; i++)
                if (ctx.HasInput(i) && ctx.Input(i).Shape is { } s && Dim.Product(s) != Dim.Of(1))
                    throw ctx.Error($"{(i == 1 ? "min" : "max")} must be a scalar, got shape {Dim.Format(s)}");
        }
        ctx.SetOutput(0, t, ctx.InputShape(0));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0);
        var lo = Opset >= 11 ? ctx.OptionalInput(1) : null;
        var hi = Opset >= 11 ? ctx.OptionalInput(2) : null;
        int threads = ctx.Options.MaxDegreeOfParallelism;
        switch (y.DataType)
        {
            case DataType.Float:
            {
                var (xf, yf) = (x.Floats, y.Floats);
                float? l = Bound<float>(lo, _minAttribute), h = Bound<float>(hi, _maxAttribute);
                Parallelism.For(yf.Length, threads, 2, (s, e) => Run(xf.AsSpan(s, e - s), l, h, yf.AsSpan(s, e - s)));
                break;
            }
            case DataType.BFloat16:
            {
                var f = new float[y.Length];
                Run(ElementConversion.ToFloats(x), BoundFloat(lo, _minAttribute), BoundFloat(hi, _maxAttribute), f);
                ElementConversion.StoreFloats(f, y);
                break;
            }
            case DataType.Double: Typed<double>(x, lo, hi, y); break;
            case DataType.Float16: Typed<Half>(x, lo, hi, y); break;
            case DataType.Int8: Typed<sbyte>(x, lo, hi, y); break;
            case DataType.UInt8: Typed<byte>(x, lo, hi, y); break;
            case DataType.Int16: Typed<short>(x, lo, hi, y); break;
            case DataType.UInt16: Typed<ushort>(x, lo, hi, y); break;
            case DataType.Int32: Typed<int>(x, lo, hi, y); break;
            case DataType.UInt32: Typed<uint>(x, lo, hi, y); break;
            case DataType.Int64: Typed<long>(x, lo, hi, y); break;
            case DataType.UInt64: Typed<ulong>(x, lo, hi, y); break;
            default: throw TypeError(x.DataType);
        }
    }

    private void Typed<T>(Tensor x, Tensor? lo, Tensor? hi, Tensor y) where T : unmanaged, INumber<T> =>
        Run<T>(x.ArrayOf<T>(), Bound<T>(lo, _minAttribute), Bound<T>(hi, _maxAttribute), y.ArrayOf<T>());

    private static void Run<T>(ReadOnlySpan<T> x, T? lo, T? hi, Span<T> y) where T : unmanaged, INumber<T>
    {
        // max then min (not Clamp): min > max must give max everywhere.
        if (lo is { } l) TensorPrimitives.Max(x, l, y);
        else x.CopyTo(y);
        if (hi is { } h) TensorPrimitives.Min(y, h, y);
    }

    /// <summary>The bound from an input (opset 11+) or an attribute (before 11); null when the input is omitted.</summary>
    private T? Bound<T>(Tensor? input, float attribute) where T : unmanaged, INumber<T>
    {
        if (input is not null) return input.ArrayOf<T>()[0];
        if (Opset >= 11) return null;
        return T.CreateSaturating(attribute);
    }

    private float? BoundFloat(Tensor? input, float attribute) =>
        input is not null ? ElementConversion.ToFloats(input)[0] : Opset >= 11 ? null : attribute;

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0 || (Opset >= 11 && index <= 2);

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        RequireFloatGradient(x);
        var lo = Opset >= 11 && ctx.HasInput(1) ? ctx.Input(1) : null;
        var hi = Opset >= 11 && ctx.HasInput(2) ? ctx.Input(2) : null;
        float l = lo?.Floats[0] ?? (Opset >= 11 ? float.NegativeInfinity : _minAttribute);
        float h = hi?.Floats[0] ?? (Opset >= 11 ? float.PositiveInfinity : _maxAttribute);
        var dy = ctx.OutputGrad(0)!.Floats;
        var xs = x.Floats;
        if (ctx.NeedsInputGrad(0))
        {
            var dx = Tensor.Allocate(DataType.Float, x.Shape);
            ElementwiseKernels.Map(xs, dy, dx.Floats, new PassInside(l, h), ctx.Options.MaxDegreeOfParallelism, 2);
            ctx.SetInputGrad(0, dx);
        }
        if (lo is not null && ctx.NeedsInputGrad(1))
        {
            // Elements replaced by min (when min ≤ max; otherwise max replaced them all).
            double s = 0;
            for (int i = 0; i < xs.Length; i++) if (xs[i] < l && l <= h) s += dy[i];
            ctx.SetInputGrad(1, Tensor.FromArray(new[] { (float)s }, lo.Shape));
        }
        if (hi is not null && ctx.NeedsInputGrad(2))
        {
            double s = 0;
            for (int i = 0; i < xs.Length; i++) if (xs[i] > h || l > h) s += dy[i];
            ctx.SetInputGrad(2, Tensor.FromArray(new[] { (float)s }, hi.Shape));
        }
    }

    private readonly struct PassInside(float lo, float hi) : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
            dy & Vector256.GreaterThanOrEqual(x, Vector256.Create(lo)) & Vector256.LessThanOrEqual(x, Vector256.Create(hi));
    }
}
