using System.Numerics;
using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

internal enum ResizeMode
{
    Nearest,
    Linear,
    Cubic,
}

internal enum ResizeCoordinateMode
{
    HalfPixel,
    Asymmetric,
    PytorchHalfPixel,
    TfHalfPixelForNearest,
    AlignCorners,
    TfCropAndResize,
}

internal enum ResizeNearestMode
{
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,

    /// <summary>Opset 10 (as ONNX Runtime): ceil when downsampling, floor otherwise.</summary>
    Simple,
}

/// <summary>The attributes that decide how one axis is resampled.</summary>
internal sealed record ResizeSettings(
    ResizeMode Mode,
    ResizeCoordinateMode Coordinates,
    ResizeNearestMode Nearest,
    double CubicA,
    bool ExcludeOutside,
    bool Antialias);

/// <summary>
/// The resize of one axis as a sparse matrix: output index j reads <see cref="Taps"/> input
/// indices with weights (neighbours beyond the edge are clamped to it, as the ONNX reference pads
/// with edge values), or takes the extrapolation value (tf_crop_and_resize outside the input).
/// N-linear and N-cubic resizes are products of per-axis weights, so a resize is a sequence of
/// these 1-D passes, and its gradient the transposed passes in reverse order.
/// </summary>
internal sealed class AxisResampling
{
    private AxisResampling(int inSize, int outSize, int taps)
    {
        InSize = inSize;
        OutSize = outSize;
        Taps = taps;
        Index = new int[outSize * taps];
        Weight = new double[outSize * taps];
    }

    public int InSize { get; }
    public int OutSize { get; }
    public int Taps { get; }

    /// <summary>Input index of tap k of output j at [j * Taps + k].</summary>
    public int[] Index { get; }

    /// <summary>Weight of tap k of output j at [j * Taps + k].</summary>
    public double[] Weight { get; }

    /// <summary>Outputs that take the extrapolation value, or null when there are none.</summary>
    public bool[]? Outside { get; private set; }

    /// <summary>True when the pass copies its input unchanged (and can be skipped).</summary>
    public bool IsIdentity
    {
        get
        {
            if (InSize != OutSize || Outside is not null) return false;
            for (int j = 0; j < OutSize; j++)
            {
                double self = 0, other = 0;
                for (int k = 0; k < Taps; k++)
                {
                    int i = j * Taps + k;
                    if (Index[i] == j) self += Weight[i];
                    else other += Math.Abs(Weight[i]);
                }
                if (self != 1.0 || other != 0.0) return false;
            }
            return true;
        }
    }

    /// <summary>
    /// Plans one axis. <paramref name="scale"/> is the axis' scale factor and
    /// <paramref name="lengthResized"/> the output length used by align_corners,
    /// pytorch_half_pixel and tf_crop_and_resize (scale × input length when scales are given, as
    /// in the ONNX reference). Coordinates are computed in float like ONNX Runtime, so ties in
    /// nearest rounding fall the same way.
    /// </summary>
    public static AxisResampling Create(ResizeSettings s, int inSize, int outSize, float scale, float lengthResized, float roiStart, float roiEnd)
    {
        int taps = s.Mode switch
        {
            ResizeMode.Nearest => 1,
            ResizeMode.Linear => s.Antialias ? 2 - 2 * LinearStart(scale) : 2,
            _ => s.Antialias ? 2 - 2 * CubicStart(scale) : 4,
        };
        var plan = new AxisResampling(inSize, outSize, taps);
        Span<double> w = stackalloc double[taps];
        for (int j = 0; j < outSize; j++)
        {
            double x = Original(s.Coordinates, j, scale, lengthResized, inSize, roiStart, roiEnd);
            if (s.Coordinates == ResizeCoordinateMode.TfCropAndResize && (x < 0 || x > inSize - 1))
            {
                plan.Outside ??= new bool[outSize];
                plan.Outside[j] = true;
                plan.Index[j * taps] = 0;
                continue;
            }
            if (s.Mode == ResizeMode.Nearest)
            {
                plan.Index[j] = Math.Clamp(NearestIndex(s.Nearest, x, scale), 0, inSize - 1);
                plan.Weight[j] = 1.0;
                continue;
            }
            // ratio in (0, 1]: an integral coordinate is the right neighbour of its left one.
            double fl = Math.Floor(x);
            double ratio = x == fl ? 1.0 : x - fl;
            int baseIndex = (int)(x == fl ? fl - 1 : fl);
            int start = s.Mode == ResizeMode.Linear ? (s.Antialias ? LinearStart(scale) : 0) : (s.Antialias ? CubicStart(scale) : -1);
            // Antialiasing stretches the filter by 1/scale when downsampling.
            double stretch = s.Antialias ? Math.Min(scale, 1.0) : 1.0;
            double sum = 0;
            for (int k = 0; k < taps; k++)
            {
                double arg = (start + k - ratio) * stretch;
                w[k] = s.Mode == ResizeMode.Linear ? Math.Max(0.0, 1.0 - Math.Abs(arg)) : Cubic(arg, s.CubicA);
                if (s.ExcludeOutside && (baseIndex + start + k < 0 || baseIndex + start + k >= inSize)) w[k] = 0;
                sum += w[k];
            }
            bool normalize = s.Antialias || s.ExcludeOutside;
            for (int k = 0; k < taps; k++)
            {
                plan.Index[j * taps + k] = Math.Clamp(baseIndex + start + k, 0, inSize - 1);
                plan.Weight[j * taps + k] = normalize ? w[k] / sum : w[k];
            }
        }
        return plan;
    }

    private static int LinearStart(double scale) => (int)Math.Floor(-1.0 / Math.Min(scale, 1.0)) + 1;

    private static int CubicStart(double scale) => (int)Math.Floor(-2.0 / Math.Min(scale, 1.0)) + 1;

    /// <summary>Keys' cubic convolution kernel with parameter a.</summary>
    private static double Cubic(double x, double a)
    {
        x = Math.Abs(x);
        if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }

    /// <summary>The input coordinate of output index <paramref name="x"/>.</summary>
    private static float Original(ResizeCoordinateMode mode, int x, float scale, float lengthResized, int inSize, float roiStart, float roiEnd) => mode switch
    {
        ResizeCoordinateMode.HalfPixel => (x + 0.5f) / scale - 0.5f,
        ResizeCoordinateMode.Asymmetric => x / scale,
        ResizeCoordinateMode.PytorchHalfPixel => lengthResized > 1 ? (x + 0.5f) / scale - 0.5f : 0f,
        ResizeCoordinateMode.TfHalfPixelForNearest => (x + 0.5f) / scale,
        ResizeCoordinateMode.AlignCorners => lengthResized == 1 ? 0f : x * (inSize - 1) / (lengthResized - 1),
        _ => lengthResized > 1
            ? roiStart * (inSize - 1) + x * (roiEnd - roiStart) * (inSize - 1) / (lengthResized - 1)
            : 0.5f * (roiStart + roiEnd) * (inSize - 1),
    };

    private static int NearestIndex(ResizeNearestMode mode, double x, double scale)
    {
        double fl = Math.Floor(x);
        double frac = x - fl;
        return (int)(mode switch
        {
            ResizeNearestMode.RoundPreferFloor => frac <= 0.5 ? fl : fl + 1,
            ResizeNearestMode.RoundPreferCeil => frac < 0.5 ? fl : fl + 1,
            ResizeNearestMode.Floor => fl,
            ResizeNearestMode.Ceil => Math.Ceiling(x),
            _ => scale < 1 ? Math.Ceiling(x) : fl,
        });
    }
}

/// <summary>
/// Applies <see cref="AxisResampling"/> passes to a tensor viewed as [outer, axis, inner], and
/// their transposes for gradients.
/// </summary>
internal static class ResamplePass
{
    /// <summary>dst[o, j, :] = src[o, index(j), :] for any element type (nearest mode).</summary>
    public static void Gather<T>(T[] src, T[] dst, int outer, int inner, AxisResampling p, T extrapolation, int threads)
    {
        int inSize = p.InSize, outSize = p.OutSize;
        Parallelism.For(outer, threads, (long)outSize * inner, (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
                for (int j = 0; j < outSize; j++)
                {
                    var row = dst.AsSpan((o * outSize + j) * inner, inner);
                    if (p.Outside?[j] == true) row.Fill(extrapolation);
                    else if (inner == 1) row[0] = src[o * inSize + p.Index[j * p.Taps]];
                    else src.AsSpan((o * inSize + p.Index[j * p.Taps]) * inner, inner).CopyTo(row);
                }
        });
    }

    /// <summary>dst[o, j, :] = Σₖ w[j, k] · src[o, index(j, k), :] (linear and cubic modes).</summary>
    public static void Interpolate<T>(T[] src, T[] dst, int outer, int inner, AxisResampling p, T extrapolation, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int inSize = p.InSize, outSize = p.OutSize, taps = p.Taps;
        var w = Weights<T>(p);
        Parallelism.For(outer, threads, (long)outSize * inner * taps, (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
            {
                int srcBase = o * inSize;
                for (int j = 0; j < outSize; j++)
                {
                    int dstOffset = (o * outSize + j) * inner;
                    if (p.Outside?[j] == true)
                    {
                        dst.AsSpan(dstOffset, inner).Fill(extrapolation);
                        continue;
                    }
                    if (inner == 1)
                    {
                        T acc = T.Zero;
                        for (int k = 0; k < taps; k++) acc += w[j * taps + k] * src[srcBase + p.Index[j * taps + k]];
                        dst[dstOffset] = acc;
                        continue;
                    }
                    var row = dst.AsSpan(dstOffset, inner);
                    TensorPrimitives.Multiply(src.AsSpan((srcBase + p.Index[j * taps]) * inner, inner), w[j * taps], row);
                    for (int k = 1; k < taps; k++)
                        TensorPrimitives.MultiplyAdd(src.AsSpan((srcBase + p.Index[j * taps + k]) * inner, inner), w[j * taps + k], row, row);
                }
            }
        });
    }

    /// <summary>The transpose of a pass: dsrc[o, index(j, k), :] += w[j, k] · ddst[o, j, :] (dsrc zeroed here).</summary>
    public static void Transpose(float[] ddst, float[] dsrc, int outer, int inner, AxisResampling p, int threads)
    {
        int inSize = p.InSize, outSize = p.OutSize, taps = p.Taps;
        var w = Weights<float>(p);
        Array.Clear(dsrc);
        Parallelism.For(outer, threads, (long)outSize * inner * taps, (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
            {
                int srcBase = o * inSize;
                for (int j = 0; j < outSize; j++)
                {
                    if (p.Outside?[j] == true) continue;
                    int dstOffset = (o * outSize + j) * inner;
                    for (int k = 0; k < taps; k++)
                    {
                        int s = (srcBase + p.Index[j * taps + k]) * inner;
                        float wk = w[j * taps + k];
                        if (inner == 1) dsrc[s] += wk * ddst[dstOffset];
                        else TensorPrimitives.MultiplyAdd(ddst.AsSpan(dstOffset, inner), wk, dsrc.AsSpan(s, inner), dsrc.AsSpan(s, inner));
                    }
                }
            }
        });
    }

    private static T[] Weights<T>(AxisResampling p) where T : INumberBase<T>
    {
        var w = new T[p.Weight.Length];
        for (int i = 0; i < w.Length; i++) w[i] = T.CreateChecked(p.Weight[i]);
        return w;
    }
}
