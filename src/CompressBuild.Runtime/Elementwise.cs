namespace CompressBuild.Runtime;

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

/// <summary>
/// Compile-time facts of a broadcasting binary step, collapsed by the generator to 4 output axes
/// (<see cref="D0"/> outermost … <see cref="D3"/> innermost) with per-operand element strides (0 on
/// broadcast axes). The innermost strides are 0 or 1.
/// </summary>
internal interface IBinaryShape
{
    /// <summary>Output axis 0.</summary>
    static abstract int D0 { get; }

    /// <summary>Output axis 1.</summary>
    static abstract int D1 { get; }

    /// <summary>Output axis 2.</summary>
    static abstract int D2 { get; }

    /// <summary>Output axis 3 (innermost, contiguous in Y).</summary>
    static abstract int D3 { get; }

    /// <summary>A stride along axis 0.</summary>
    static abstract int A0 { get; }

    /// <summary>A stride along axis 1.</summary>
    static abstract int A1 { get; }

    /// <summary>A stride along axis 2.</summary>
    static abstract int A2 { get; }

    /// <summary>A stride along axis 3 (0 or 1).</summary>
    static abstract int A3 { get; }

    /// <summary>B stride along axis 0.</summary>
    static abstract int B0 { get; }

    /// <summary>B stride along axis 1.</summary>
    static abstract int B1 { get; }

    /// <summary>B stride along axis 2.</summary>
    static abstract int B2 { get; }

    /// <summary>B stride along axis 3 (0 or 1).</summary>
    static abstract int B3 { get; }

    /// <summary>Fused Relu.</summary>
    static abstract bool Relu { get; }
}

/// <summary>A binary arithmetic operator.</summary>
internal interface IBinaryOp
{
    /// <summary>On scalars.</summary>
    static abstract float Apply(float a, float b);

    /// <summary>On vectors.</summary>
    static abstract TVec Apply<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct;
}

/// <summary>a + b.</summary>
internal readonly struct AddOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Add(a, b);
}

/// <summary>a - b.</summary>
internal readonly struct SubOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float a, float b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Subtract(a, b);
}

/// <summary>a * b.</summary>
internal readonly struct MulOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Multiply(a, b);
}

/// <summary>a / b.</summary>
internal readonly struct DivOp : IBinaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float a, float b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TSimd, TVec>(TVec a, TVec b) where TSimd : struct, ISimd<TVec> where TVec : struct => TSimd.Divide(a, b);
}

/// <summary>
/// Broadcasting Add/Sub/Mul/Div on float tensors (with an optional fused Relu). Y may be the same
/// memory as A (in-place steps).
/// </summary>
internal static class Elementwise
{
    /// <summary>Y = op(A, B) with broadcasting.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Binary<TShape, TOp, TSimd, TVec>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
        where TShape : struct, IBinaryShape where TOp : struct, IBinaryOp where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        Guard.Length(a.Length, Extent(TShape.A0, TShape.A1, TShape.A2, TShape.A3, TShape.D0, TShape.D1, TShape.D2, TShape.D3), "A");
        Guard.Length(b.Length, Extent(TShape.B0, TShape.B1, TShape.B2, TShape.B3, TShape.D0, TShape.D1, TShape.D2, TShape.D3), "B");
        Guard.Length(y.Length, (long)TShape.D0 * TShape.D1 * TShape.D2 * TShape.D3, "Y");
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        nint o = 0;
        for (int i0 = 0; i0 < TShape.D0; i0++)
            for (int i1 = 0; i1 < TShape.D1; i1++)
                for (int i2 = 0; i2 < TShape.D2; i2++, o += TShape.D3)
                {
                    nint ai = (nint)i0 * TShape.A0 + (nint)i1 * TShape.A1 + (nint)i2 * TShape.A2;
                    nint bi = (nint)i0 * TShape.B0 + (nint)i1 * TShape.B1 + (nint)i2 * TShape.B2;
                    Row<TShape, TOp, TSimd, TVec>(ref Unsafe.Add(ref a0, ai), ref Unsafe.Add(ref b0, bi), ref Unsafe.Add(ref y0, o));
                }
    }

    private static long Extent(int s0, int s1, int s2, int s3, int d0, int d1, int d2, int d3) =>
        (long)(d0 - 1) * s0 + (long)(d1 - 1) * s1 + (long)(d2 - 1) * s2 + (long)(d3 - 1) * s3 + 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TShape, TOp, TSimd, TVec>(ref float a, ref float b, ref float y)
        where TShape : struct, IBinaryShape where TOp : struct, IBinaryOp where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int n = TShape.D3;
        int i = 0;
        TVec sa = TShape.A3 == 0 ? TSimd.Splat(a) : default;
        TVec sb = TShape.B3 == 0 ? TSimd.Splat(b) : default;
        for (; i <= n - TSimd.Count; i += TSimd.Count)
        {
            TVec va = TShape.A3 == 0 ? sa : TSimd.Load(ref a, i);
            TVec vb = TShape.B3 == 0 ? sb : TSimd.Load(ref b, i);
            TVec v = TOp.Apply<TSimd, TVec>(va, vb);
            if (TShape.Relu) v = TSimd.Max(v, TSimd.Zero);
            TSimd.Store(v, ref y, i);
        }
        for (; i < n; i++)
        {
            float v = TOp.Apply(Unsafe.Add(ref a, (nint)i * TShape.A3), Unsafe.Add(ref b, (nint)i * TShape.B3));
            if (TShape.Relu) v = SimdScalar.Max(v, 0f);
            Unsafe.Add(ref y, i) = v;
        }
    }
}
