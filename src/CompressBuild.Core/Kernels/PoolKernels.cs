using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace CompressBuild.Core.Kernels;

/// <summary>
/// Max and average pooling over a <see cref="WindowGeometry"/>, for planes of [N·C, spatial…]
/// laid out contiguously, parallel over planes. Generic over the element type (the JIT specialises
/// each), gradients in float. Max pooling keeps argmax positions (plane-relative input offsets,
/// -1 for a window with no input element) for the backward pass and MaxPool's Indices output.
/// </summary>
internal static class PoolKernels
{
    /// <summary>Max over each window; <paramref name="argmax"/> (optional) gets the first maximum's offset.</summary>
    public static void Max<T>(T[] x, T[] y, int[]? argmax, int planes, WindowGeometry g, int threads)
        where T : INumber<T>, IMinMaxValue<T>
    {
        var t = new TapTable(g);
        bool halving = IsHalving(g);
        Parallelism.For(planes, threads, (long)g.OutSize * g.KernelSize, (p0, p1) =>
        {
            Span<int> rows = WindowRowBuffer(g, stackalloc int[StackRows]);
            for (int p = p0; p < p1; p++)
            {
                if (halving) MaxHalvingPlane(x, y, argmax, p, g);
                else MaxPlane(x, y, argmax, p, g, t, rows);
            }
        });
    }

    private const int StackRows = 256;

    // Room for the row offsets of one window (depth × height taps): on the stack unless the kernel is huge.
    private static Span<int> WindowRowBuffer(WindowGeometry g, Span<int> stack)
    {
        int n = g.Kernel[0] * g.Kernel[1];
        return n <= stack.Length ? stack[..n] : new int[n];
    }

    // 2×2 windows with stride 2 inside the input (the common CNN downsampling): four fixed reads per output.
    private static bool IsHalving(WindowGeometry g) =>
        g.Kernel is [1, 2, 2] && g.Stride is [1, 2, 2] && g.Dilation[1] == 1 && g.Dilation[2] == 1 && g.PadBegin is [0, 0, 0]
        && g.Out[0] == g.In[0] && 2 * g.Out[1] <= g.In[1] && 2 * g.Out[2] <= g.In[2];

    private static void MaxHalvingPlane<T>(T[] x, T[] y, int[]? argmax, int p, WindowGeometry g)
        where T : INumber<T>, IMinMaxValue<T>
    {
        int inW = g.In[2], inPlane = g.In[1] * inW, outW = g.Out[2];
        int o = p * g.OutSize;
        for (int d = 0; d < g.Out[0]; d++)
            for (int oh = 0; oh < g.Out[1]; oh++)
            {
                int top = d * inPlane + 2 * oh * inW;
                ref T row0 = ref x[p * g.InSize + top];
                ref T row1 = ref Unsafe.Add(ref row0, inW);
                for (int ow = 0; ow < outW; ow++, o++)
                {
                    int w = 2 * ow;
                    T best = Unsafe.Add(ref row0, w);
                    int arg = top + w;
                    T v = Unsafe.Add(ref row0, w + 1);
                    if (v > best) { best = v; arg = top + w + 1; }
                    v = Unsafe.Add(ref row1, w);
                    if (v > best) { best = v; arg = top + inW + w; }
                    v = Unsafe.Add(ref row1, w + 1);
                    if (v > best) { best = v; arg = top + inW + w + 1; }
                    y[o] = best;
                    if (argmax is not null) argmax[o] = arg;
                }
            }
    }

    private static void MaxPlane<T>(T[] x, T[] y, int[]? argmax, int p, WindowGeometry g, TapTable t, Span<int> rows)
        where T : INumber<T>, IMinMaxValue<T>
    {
        int dw = g.Dilation[2], outW = g.Out[2];
        int[] wLo = t.Lo[2], wHi = t.Hi[2], wStart = t.Start[2];
        ref T plane = ref x[p * g.InSize];
        int o = p * g.OutSize;
        for (int od = 0; od < g.Out[0]; od++)
            for (int oh = 0; oh < g.Out[1]; oh++)
            {
                int count = t.WindowRows(g, od, oh, rows);
                for (int ow = 0; ow < outW; ow++, o++)
                {
                    T best = T.MinValue;
                    int arg = -1;
                    for (int r = 0; r < count; r++)
                        for (int kw = wLo[ow], i = rows[r] + wStart[ow] + kw * dw; kw < wHi[ow]; kw++, i += dw)
                        {
                            T v = Unsafe.Add(ref plane, i);
                            if (arg < 0 || v > best)
                            {
                                best = v;
                                arg = i;
                            }
                        }
                    y[o] = best;
                    if (argmax is not null) argmax[o] = arg;
                }
            }
    }

    /// <summary>dx = 0, then each output gradient added to its window's argmax.</summary>
    public static void MaxBackward(float[] dy, int[] argmax, float[] dx, int planes, WindowGeometry g, int threads)
    {
        Parallelism.For(planes, threads, g.OutSize, (p0, p1) =>
        {
            dx.AsSpan(p0 * g.InSize, (p1 - p0) * g.InSize).Clear();
            for (int p = p0; p < p1; p++)
            {
                int xb = p * g.InSize;
                for (int o = p * g.OutSize, end = o + g.OutSize; o < end; o++)
                    if (argmax[o] >= 0) dx[xb + argmax[o]] += dy[o];
            }
        });
    }

    /// <summary>
    /// Mean over each window: divided by the number of input elements in it, or with
    /// <paramref name="countPad"/> by the window's size within the padded input.
    /// </summary>
    public static void Average<T>(T[] x, T[] y, int planes, WindowGeometry g, bool countPad, int threads)
        where T : IFloatingPoint<T>
    {
        var t = new TapTable(g);
        Parallelism.For(planes, threads, (long)g.OutSize * g.KernelSize, (p0, p1) =>
        {
            Span<int> rows = WindowRowBuffer(g, stackalloc int[StackRows]);
            for (int p = p0; p < p1; p++) AveragePlane(x, y, p, g, t, countPad, rows);
        });
    }

    private static void AveragePlane<T>(T[] x, T[] y, int p, WindowGeometry g, TapTable t, bool countPad, Span<int> rows)
        where T : IFloatingPoint<T>
    {
        int dw = g.Dilation[2], outW = g.Out[2];
        int[] wLo = t.Lo[2], wHi = t.Hi[2], wStart = t.Start[2];
        ref T plane = ref x[p * g.InSize];
        int o = p * g.OutSize;
        for (int od = 0; od < g.Out[0]; od++)
            for (int oh = 0; oh < g.Out[1]; oh++)
            {
                int count = t.WindowRows(g, od, oh, rows);
                for (int ow = 0; ow < outW; ow++, o++)
                {
                    T sum = T.Zero;
                    for (int r = 0; r < count; r++)
                        for (int kw = wLo[ow], i = rows[r] + wStart[ow] + kw * dw; kw < wHi[ow]; kw++, i += dw)
                            sum += Unsafe.Add(ref plane, i);
                    y[o] = sum / T.CreateChecked(t.Divisor(od, oh, ow, countPad));
                }
            }
    }

    /// <summary>dx = 0, then each output gradient divided by its window's divisor and added to the window's inputs.</summary>
    public static void AverageBackward(float[] dy, float[] dx, int planes, WindowGeometry g, bool countPad, int threads)
    {
        var t = new TapTable(g);
        Parallelism.For(planes, threads, (long)g.OutSize * g.KernelSize, (p0, p1) =>
        {
            Span<int> rows = WindowRowBuffer(g, stackalloc int[StackRows]);
            dx.AsSpan(p0 * g.InSize, (p1 - p0) * g.InSize).Clear();
            for (int p = p0; p < p1; p++)
            {
                int dw = g.Dilation[2], outW = g.Out[2];
                int[] wLo = t.Lo[2], wHi = t.Hi[2], wStart = t.Start[2];
                ref float plane = ref dx[p * g.InSize];
                int o = p * g.OutSize;
                for (int od = 0; od < g.Out[0]; od++)
                    for (int oh = 0; oh < g.Out[1]; oh++)
                    {
                        int count = t.WindowRows(g, od, oh, rows);
                        for (int ow = 0; ow < outW; ow++, o++)
                        {
                            float share = dy[o] / t.Divisor(od, oh, ow, countPad);
                            for (int r = 0; r < count; r++)
                                for (int kw = wLo[ow], i = rows[r] + wStart[ow] + kw * dw; kw < wHi[ow]; kw++, i += dw)
                                    Unsafe.Add(ref plane, i) += share;
                        }
                    }
            }
        });
    }

    /// <summary>Max of each plane of <paramref name="size"/> elements; <paramref name="argmax"/> (optional) gets the first maximum's offset.</summary>
    public static void GlobalMax<T>(T[] x, T[] y, int[]? argmax, int planes, int size) where T : INumber<T>
    {
        for (int p = 0; p < planes; p++)
        {
            var plane = x.AsSpan(p * size, size);
            int i = TensorPrimitives.IndexOfMax<T>(plane);
            y[p] = plane[i];
            if (argmax is not null) argmax[p] = i;
        }
    }

    /// <summary>Mean of each plane of <paramref name="size"/> elements.</summary>
    public static void GlobalAverage<T>(T[] x, T[] y, int planes, int size) where T : IFloatingPoint<T>
    {
        T count = T.CreateChecked(size);
        for (int p = 0; p < planes; p++) y[p] = TensorPrimitives.Sum<T>(x.AsSpan(p * size, size)) / count;
    }

    /// <summary>
    /// Per axis and output position: the first input position of the window (Start), the taps that
    /// fall inside the input [Lo, Hi), and the taps inside the padded extent (Padded).
    /// </summary>
    private sealed class TapTable
    {
        public readonly int[][] Start = new int[WindowGeometry.MaxRank][];
        public readonly int[][] Lo = new int[WindowGeometry.MaxRank][];
        public readonly int[][] Hi = new int[WindowGeometry.MaxRank][];
        public readonly int[][] Padded = new int[WindowGeometry.MaxRank][];

        public TapTable(WindowGeometry g)
        {
            for (int a = 0; a < WindowGeometry.MaxRank; a++)
            {
                int n = g.Out[a];
                Start[a] = new int[n];
                Lo[a] = new int[n];
                Hi[a] = new int[n];
                Padded[a] = new int[n];
                for (int o = 0; o < n; o++)
                {
                    Start[a][o] = o * g.Stride[a] - g.PadBegin[a];
                    (Lo[a][o], Hi[a][o]) = g.ValidTaps(a, o);
                    Padded[a][o] = g.PaddedTaps(a, o);
                }
            }
        }

        /// <summary>
        /// Plane offsets of the window rows (valid depth and height taps) of output row (od, oh), to
        /// which the width taps' offsets are added; returns how many there are.
        /// </summary>
        public int WindowRows(WindowGeometry g, int od, int oh, Span<int> rows)
        {
            int count = 0;
            for (int kd = Lo[0][od]; kd < Hi[0][od]; kd++)
            {
                int id = Start[0][od] + kd * g.Dilation[0];
                for (int kh = Lo[1][oh]; kh < Hi[1][oh]; kh++)
                    rows[count++] = (id * g.In[1] + Start[1][oh] + kh * g.Dilation[1]) * g.In[2];
            }
            return count;
        }

        public int Divisor(int od, int oh, int ow, bool countPad) => countPad
            ? Padded[0][od] * Padded[1][oh] * Padded[2][ow]
            : (Hi[0][od] - Lo[0][od]) * (Hi[1][oh] - Lo[1][oh]) * (Hi[2][ow] - Lo[2][ow]);
    }
}
