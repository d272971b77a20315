using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// A binary operation written once for every numeric element type (generic math); span forms use
/// TensorPrimitives, which vectorizes the primitive types.
/// </summary>
internal interface IArithmetic
{
    static abstract T Scalar<T>(T a, T b) where T : unmanaged, INumber<T>;
    static abstract void Spans<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T>;
    static abstract void SpanScalar<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, INumber<T>;
    static abstract void ScalarSpan<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T>;
}

/// <summary>Binds an <see cref="IArithmetic"/> to one element type for the broadcasting engine.</summary>
internal readonly struct Arith<T, TOp> : IBinaryOp<T> where T : unmanaged, INumber<T> where TOp : IArithmetic
{
    public static T Invoke(T a, T b) => TOp.Scalar(a, b);
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TOp.Spans(a, b, y);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TOp.SpanScalar(a, b, y);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TOp.ScalarSpan(a, b, y);
}

/// <summary>a + b (integers wrap).</summary>
internal readonly struct AddOp : IArithmetic
{
    public static T Scalar<T>(T a, T b) where T : unmanaged, INumber<T> => a + b;
    public static void Spans<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Add(a, b, y);
    public static void SpanScalar<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Add(a, b, y);
    public static void ScalarSpan<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Add(b, a, y);
}

/// <summary>a − b (integers wrap).</summary>
internal readonly struct SubOp : IArithmetic
{
    public static T Scalar<T>(T a, T b) where T : unmanaged, INumber<T> => a - b;
    public static void Spans<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Subtract(a, b, y);
    public static void SpanScalar<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Subtract(a, b, y);
    public static void ScalarSpan<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Subtract(a, b, y);
}

/// <summary>a · b (integers wrap).</summary>
internal readonly struct MulOp : IArithmetic
{
    public static T Scalar<T>(T a, T b) where T : unmanaged, INumber<T> => a * b;
    public static void Spans<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Multiply(a, b, y);
    public static void SpanScalar<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Multiply(a, b, y);
    public static void ScalarSpan<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Multiply(b, a, y);
}

/// <summary>
/// a / b. Integers truncate toward zero like C, and MinValue / −1 wraps to MinValue (as the two's
/// complement negation); the caller rejects integer division by zero before calling.
/// </summary>
internal readonly struct DivOp : IArithmetic
{
    public static T Scalar<T>(T a, T b) where T : unmanaged, INumber<T> =>
        IsFloat<T>() ? a / b : T.IsNegative(b) && b == -T.One ? -a : a / b;

    public static void Spans<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T>
    {
        if (IsFloat<T>()) TensorPrimitives.Divide(a, b, y);
        else for (int i = 0; i < y.Length; i++) y[i] = Scalar(a[i], b[i]);
    }

    public static void SpanScalar<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, INumber<T>
    {
        if (IsFloat<T>()) TensorPrimitives.Divide(a, b, y);
        else for (int i = 0; i < y.Length; i++) y[i] = Scalar(a[i], b);
    }

    public static void ScalarSpan<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T>
    {
        if (IsFloat<T>()) TensorPrimitives.Divide(a, b, y);
        else for (int i = 0; i < y.Length; i++) y[i] = Scalar(a, b[i]);
    }

    private static bool IsFloat<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half);
}

/// <summary>max(a, b) (NaN propagates).</summary>
internal readonly struct MaxOp : IArithmetic
{
    public static T Scalar<T>(T a, T b) where T : unmanaged, INumber<T> => T.Max(a, b);
    public static void Spans<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Max(a, b, y);
    public static void SpanScalar<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Max(a, b, y);
    public static void ScalarSpan<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Max(b, a, y);
}

/// <summary>min(a, b) (NaN propagates).</summary>
internal readonly struct MinOp : IArithmetic
{
    public static T Scalar<T>(T a, T b) where T : unmanaged, INumber<T> => T.Min(a, b);
    public static void Spans<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Min(a, b, y);
    public static void SpanScalar<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Min(a, b, y);
    public static void ScalarSpan<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> => TensorPrimitives.Min(b, a, y);
}

/// <summary>PRelu's a &lt; 0 ? a·b : a, vectorized for float.</summary>
internal readonly struct PReluOp : IArithmetic
{
    public static T Scalar<T>(T a, T b) where T : unmanaged, INumber<T> => a < T.Zero ? a * b : a;

    public static void Spans<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) ElementwiseKernels.Map(Floats(a), Floats(b), Floats(y), default(Vector));
        else for (int i = 0; i < y.Length; i++) y[i] = Scalar(a[i], b[i]);
    }

    public static void SpanScalar<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) ElementwiseKernels.Map(Floats(a), Floats(y), new VectorScalar(Unsafe.As<T, float>(ref b)));
        else for (int i = 0; i < y.Length; i++) y[i] = Scalar(a[i], b);
    }

    public static void ScalarSpan<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T>
    {
        for (int i = 0; i < y.Length; i++) y[i] = Scalar(a, b[i]);
    }

    private static Span<float> Floats<T>(Span<T> s) where T : unmanaged => MemoryMarshal.Cast<T, float>(s);
    private static ReadOnlySpan<float> Floats<T>(ReadOnlySpan<T> s) where T : unmanaged => MemoryMarshal.Cast<T, float>(s);

    private readonly struct Vector : IVectorFunction2
    {
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> s) =>
            Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), x * s, x);
    }

    private readonly struct VectorScalar(float slope) : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) =>
            Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), x * slope, x);
    }
}

/// <summary>
/// Runs an <see cref="IArithmetic"/> on tensors of any numeric type with numpy broadcasting
/// (float16 in Half arithmetic, bfloat16 through float).
/// </summary>
internal static class NumericBinary
{
    /// <summary>y = op(a, b); <paramref name="aShape"/>/<paramref name="bShape"/> are the shapes to broadcast (they may differ from the tensors' own, e.g. legacy broadcast).</summary>
    public static void Run<TOp>(Tensor a, int[] aShape, Tensor b, int[] bShape, Tensor y, int maxDegree) where TOp : IArithmetic
    {
        switch (y.DataType)
        {
            case DataType.Float: Typed<float, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.Double: Typed<double, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.Float16: Typed<Half, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.Int8: Typed<sbyte, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.UInt8: Typed<byte, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.Int16: Typed<short, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.UInt16: Typed<ushort, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.Int32: Typed<int, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.UInt32: Typed<uint, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.Int64: Typed<long, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.UInt64: Typed<ulong, TOp>(a, aShape, b, bShape, y, maxDegree); break;
            case DataType.BFloat16:
            {
                var r = new float[y.Length];
                ElementwiseKernels.Broadcast<float, Arith<float, TOp>>(ElementConversion.ToFloats(a), aShape, ElementConversion.ToFloats(b), bShape, r, y.Shape, maxDegree);
                ElementConversion.StoreFloats(r, y);
                break;
            }
            default: throw new InvalidOperationException($"{DataTypes.OnnxName(y.DataType)} is not numeric");
        }
    }

    /// <summary>A new float tensor of shape <paramref name="yShape"/>: op(a, b) broadcast (for gradients).</summary>
    public static Tensor Float<TOp>(float[] a, int[] aShape, float[] b, int[] bShape, int[] yShape, int maxDegree) where TOp : IArithmetic
    {
        var y = Tensor.Allocate(DataType.Float, yShape);
        ElementwiseKernels.Broadcast<float, Arith<float, TOp>>(a, aShape, b, bShape, y.Floats, yShape, maxDegree);
        return y;
    }

    private static void Typed<T, TOp>(Tensor a, int[] aShape, Tensor b, int[] bShape, Tensor y, int maxDegree)
        where T : unmanaged, INumber<T> where TOp : IArithmetic =>
        ElementwiseKernels.Broadcast<T, Arith<T, TOp>>(a.ArrayOf<T>(), aShape, b.ArrayOf<T>(), bShape, y.ArrayOf<T>(), y.Shape, maxDegree);
}

/// <summary>A one-input function written once for every numeric type (generic math).</summary>
internal interface INumericFunction
{
    static abstract void Apply<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, INumber<T>;
}

/// <summary>Runs an <see cref="INumericFunction"/> on a tensor of any numeric type (bfloat16 through float).</summary>
internal static class NumericUnary
{
    public static void Run<TF>(Tensor x, Tensor y) where TF : INumericFunction
    {
        switch (y.DataType)
        {
            case DataType.Float: Typed<float, TF>(x, y); break;
            case DataType.Double: Typed<double, TF>(x, y); break;
            case DataType.Float16: Typed<Half, TF>(x, y); break;
            case DataType.Int8: Typed<sbyte, TF>(x, y); break;
            case DataType.UInt8: Typed<byte, TF>(x, y); break;
            case DataType.Int16: Typed<short, TF>(x, y); break;
            case DataType.UInt16: Typed<ushort, TF>(x, y); break;
            case DataType.Int32: Typed<int, TF>(x, y); break;
            case DataType.UInt32: Typed<uint, TF>(x, y); break;
            case DataType.Int64: Typed<long, TF>(x, y); break;
            case DataType.UInt64: Typed<ulong, TF>(x, y); break;
            case DataType.BFloat16:
            {
                var f = ElementConversion.ToFloats(x);
                var r = new float[f.Length];
                TF.Apply<float>(f, r);
                ElementConversion.StoreFloats(r, y);
                break;
            }
            default: throw new InvalidOperationException($"{DataTypes.OnnxName(y.DataType)} is not numeric");
        }
    }

    private static void Typed<T, TF>(Tensor x, Tensor y) where T : unmanaged, INumber<T> where TF : INumericFunction =>
        TF.Apply<T>(x.ArrayOf<T>(), y.ArrayOf<T>());

    /// <summary>True for the IEEE float types, whose sign TensorPrimitives flips without overflow checks.</summary>
    public static bool IsFloat<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half);
}
