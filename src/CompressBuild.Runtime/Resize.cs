namespace CompressBuild.Runtime;

using System;
using System.Numerics;
using System.Runtime.CompilerServices;

/// <summary>
/// Compile-time facts of a Resize step (shared by its per-axis passes). Mode: 0 nearest, 1 linear,
/// 2 cubic. Coordinates: 0 half_pixel, 1 asymmetric, 2 pytorch_half_pixel, 3 tf_half_pixel_for_nn,
/// 4 align_corners, 5 tf_crop_and_resize. Nearest: 0 round_prefer_floor, 1 round_prefer_ceil,
/// 2 floor, 3 ceil, 4 opset 10 (ceil when downsampling, floor otherwise).
/// </summary>
internal interface IResizeShape
{
    /// <summary>Interpolation mode.</summary>
    static abstract int Mode { get; }

    /// <summary>coordinate_transformation_mode.</summary>
    static abstract int Coordinates { get; }

    /// <summary>nearest_mode.</summary>
    static abstract int Nearest { get; }

    /// <summary>cubic_coeff_a.</summary>
    static abstract float CubicA { get; }

    /// <summary>exclude_outside.</summary>
    static abstract bool ExcludeOutside { get; }

    /// <summary>antialias.</summary>
    static abstract bool Antialias { get; }

    /// <summary>extrapolation_value (tf_crop_and_resize outside the input).</summary>
    static abstract float Extrapolation { get; }
}

/// <summary>
/// Resize as a sequence of 1-D passes over [outer, axis, inner] views (N-linear and N-cubic
/// resampling are products of per-axis weights), each output index mapped to the input by the
/// coordinate transformation in float (as the engine and ONNX Runtime, so nearest ties fall the same
/// way), its taps clamped to the edge, weights in double (Keys' cubic, antialias filters widened by
/// 1/scale, exclude_outside renormalized). Taps are computed once per output index of a pass; no
/// allocation.
/// </summary>
internal static class Resize
{
    /// <summary>The most taps one output may have (antialiased downsampling by large factors needs more; the generator refuses those).</summary>
    public const int MaxTaps = 64;

    /// <summary>Taps per output of a pass with scale <paramref name="scale"/>.</summary>
    public static int Taps(int mode, bool antialias, float scale) => mode switch
    {
        0 => 1,
        1 => antialias ? 2 - 2 * LinearStart(scale) : 2,
        _ => antialias ? 2 - 2 * CubicStart(scale) : 4,
    };

    private static int LinearStart(double scale) => (int)Math.Floor(-1.0 / Math.Min(scale, 1.0)) + 1;

    private static int CubicStart(double scale) => (int)Math.Floor(-2.0 / Math.Min(scale, 1.0)) + 1;

    /// <summary>
    /// One pass: dst[o, j, :] from src[o, ·, :] along an axis of <paramref name="inSize"/> →
    /// <paramref name="outSize"/> elements. <paramref name="roi"/> is the roi input (empty when absent)
    /// and <paramref name="roiStart"/>/<paramref name="roiEnd"/> this axis' entries in it.
    /// Nearest works for any element type; linear and cubic for float and double.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pass<TShape, T>(ReadOnlySpan<T> src, Span<T> dst, int outer, int inSize, int outSize, int inner,
        float scale, float lengthResized, ReadOnlySpan<float> roi, int roiStart, int roiEnd)
        where TShape : struct, IResizeShape where T : unmanaged, INumberBase<T>
    {
        Guard.Length(src.Length, (long)outer * inSize * inner, "Resize input");
        Guard.Length(dst.Length, (long)outer * outSize * inner, "Resize output");
        float rs = roi.IsEmpty ? 0f : roi[roiStart], re = roi.IsEmpty ? 1f : roi[roiEnd];
        int taps = Taps(TShape.Mode, TShape.Antialias, scale);
        if (taps > MaxTaps) Guard.Fail("Resize taps", taps, MaxTaps);
        Span<int> index = stackalloc int[MaxTaps];
        Span<double> weight = stackalloc double[MaxTaps];
        T extrapolation = T.CreateSaturating(TShape.Extrapolation);
        for (int j = 0; j < outSize; j++)
        {
            bool outside = Plan<TShape>(j, inSize, scale, lengthResized, rs, re, taps, index, weight);
            for (int o = 0; o < outer; o++)
            {
                var row = dst.Slice((o * outSize + j) * inner, inner);
                if (outside)
                {
                    row.Fill(extrapolation);
                    continue;
                }
                int srcBase = o * inSize;
                if (TShape.Mode == 0)
                {
                    src.Slice((srcBase + index[0]) * inner, inner).CopyTo(row);
                    continue;
                }
                if (typeof(T) == typeof(double))
                {
                    Interpolate(MemoryMarshalCast<T, double>(src), MemoryMarshalCast<T, double>(row), srcBase, inner, taps, index, weight);
                }
                else
                {
                    var s = MemoryMarshalCast<T, float>(src);
                    var d = MemoryMarshalCast<T, float>(row);
                    for (int i = 0; i < inner; i++)
                    {
                        float acc = 0f;
                        for (int k = 0; k < taps; k++) acc += (float)weight[k] * s[(srcBase + index[k]) * inner + i];
                        d[i] = acc;
                    }
                }
            }
        }
    }

    private static void Interpolate(ReadOnlySpan<double> s, Span<double> d, int srcBase, int inner, int taps, Span<int> index, Span<double> weight)
    {
        for (int i = 0; i < inner; i++)
        {
            double acc = 0;
            for (int k = 0; k < taps; k++) acc += weight[k] * s[(srcBase + index[k]) * inner + i];
            d[i] = acc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Span<TTo> MemoryMarshalCast<TFrom, TTo>(Span<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<TTo> MemoryMarshalCast<TFrom, TTo>(ReadOnlySpan<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);

    /// <summary>Input indices and weights of output <paramref name="j"/>; true when it takes the extrapolation value.</summary>
    private static bool Plan<TShape>(int j, int inSize, float scale, float lengthResized, float roiStart, float roiEnd, int taps, Span<int> index, Span<double> weight)
        where TShape : struct, IResizeShape
    {
        double x = Original(TShape.Coordinates, j, scale, lengthResized, inSize, roiStart, roiEnd);
        if (TShape.Coordinates == 5 && (x < 0 || x > inSize - 1)) return true;
        if (TShape.Mode == 0)
        {
            index[0] = Math.Clamp(NearestIndex(TShape.Nearest, x, scale), 0, inSize - 1);
            weight[0] = 1.0;
            return false;
        }
        double fl = Math.Floor(x);
        double ratio = x == fl ? 1.0 : x - fl;
        int baseIndex = (int)(x == fl ? fl - 1 : fl);
        int start = TShape.Mode == 1 ? (TShape.Antialias ? LinearStart(scale) : 0) : (TShape.Antialias ? CubicStart(scale) : -1);
        double stretch = TShape.Antialias ? Math.Min(scale, 1.0) : 1.0;
        double sum = 0;
        for (int k = 0; k < taps; k++)
        {
            double arg = (start + k - ratio) * stretch;
            double wk = TShape.Mode == 1 ? Math.Max(0.0, 1.0 - Math.Abs(arg)) : Cubic(arg, TShape.CubicA);
            if (TShape.ExcludeOutside && (baseIndex + start + k < 0 || baseIndex + start + k >= inSize)) wk = 0;
            weight[k] = wk;
            sum += wk;
        }
        bool normalize = TShape.Antialias || TShape.ExcludeOutside;
        for (int k = 0; k < taps; k++)
        {
            index[k] = Math.Clamp(baseIndex + start + k, 0, inSize - 1);
            if (normalize) weight[k] /= sum;
        }
        return false;
    }

    /// <summary>Keys' cubic convolution kernel with parameter a.</summary>
    private static double Cubic(double x, double a)
    {
        x = Math.Abs(x);
        if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }

    /// <summary>The input coordinate of output index <paramref name="x"/> (float arithmetic, as the engine).</summary>
    private static float Original(int mode, int x, float scale, float lengthResized, int inSize, float roiStart, float roiEnd) => mode switch
    {
        0 => (x + 0.5f) / scale - 0.5f,
        1 => x / scale,
        2 => lengthResized > 1 ? (x + 0.5f) / scale - 0.5f : 0f,
        3 => (x + 0.5f) / scale,
        4 => lengthResized == 1 ? 0f : x * (inSize - 1) / (lengthResized - 1),
        _ => lengthResized > 1
            ? roiStart * (inSize - 1) + x * (roiEnd - roiStart) * (inSize - 1) / (lengthResized - 1)
            : 0.5f * (roiStart + roiEnd) * (inSize - 1),
    };

    private static int NearestIndex(int mode, double x, double scale)
    {
        double fl = Math.Floor(x);
        double frac = x - fl;
        return (int)(mode switch
        {
            0 => frac <= 0.5 ? fl : fl + 1,
            1 => frac < 0.5 ? fl : fl + 1,
            2 => fl,
            3 => Math.Ceiling(x),
            _ => scale < 1 ? Math.Ceiling(x) : fl,
        });
    }

    /// <summary>Widens X to float (linear and cubic resizing of other element types runs in float, as the engine's).</summary>
    public static void ToFloat<T>(ReadOnlySpan<T> src, Span<float> dst) where T : unmanaged, INumberBase<T>
    {
        Guard.Length(dst.Length, src.Length, "Resize float input");
        for (int i = 0; i < src.Length; i++) dst[i] = float.CreateTruncating(src[i]);
    }

    /// <summary>Writes float results into Y (integers truncate toward zero and saturate, as the engine's cast).</summary>
    public static void FromFloat<T>(ReadOnlySpan<float> src, Span<T> dst) where T : unmanaged, INumberBase<T>
    {
        Guard.Length(src.Length, dst.Length, "Resize float output");
        for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateSaturating(src[i]);
    }

    /// <summary>Copies X to Y (a Resize with no pass to do).</summary>
    public static void Copy<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged
    {
        Guard.Length(dst.Length, src.Length, "Resize output");
        src.CopyTo(dst);
    }
}
