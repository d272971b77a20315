namespace CompressBuild.Core.Kernels;

/// <summary>
/// Where a sliding window (a convolution kernel or a pooling window) reads: per spatial axis the
/// input and output sizes, kernel size, stride, dilation and padding. Output position <c>o</c> reads
/// input <c>o * stride - padBegin + t * dilation</c> for taps <c>t</c> in [0, kernel); reads outside
/// [0, input) fall in the padding.
/// </summary>
/// <remarks>
/// Stored in a canonical 3-D form (1-D and 2-D problems get leading axes of size 1) so every kernel
/// has a single loop nest; the cost of the unit axes is one loop iteration.
/// </remarks>
internal sealed class WindowGeometry
{
    /// <summary>Most spatial axes a kernel handles.</summary>
    public const int MaxRank = 3;

    public WindowGeometry(int[] input, int[] output, int[] kernel, int[] strides, int[] dilations, int[] padBegin, int[] padEnd)
    {
        Rank = input.Length;
        if (Rank is < 1 or > MaxRank) throw new ArgumentException($"{Rank} spatial axes; 1 to {MaxRank} are supported", nameof(input));
        In = Canonical(input, 1);
        Out = Canonical(output, 1);
        Kernel = Canonical(kernel, 1);
        Stride = Canonical(strides, 1);
        Dilation = Canonical(dilations, 1);
        PadBegin = Canonical(padBegin, 0);
        PadEnd = Canonical(padEnd, 0);
        InSize = In[0] * In[1] * In[2];
        OutSize = Out[0] * Out[1] * Out[2];
        KernelSize = Kernel[0] * Kernel[1] * Kernel[2];
        // Convolution kernels walk every tap of every channel: a table keeps divisions out of them.
        Taps = new TapRuns[KernelSize];
        for (int t = 0; t < KernelSize; t++)
        {
            var (kd, kh, kw) = TapAt(t);
            var (d0, d1) = ValidOutputs(0, kd);
            var (h0, h1) = ValidOutputs(1, kh);
            var (w0, w1) = ValidOutputs(2, kw);
            int id = d0 * Stride[0] + kd * Dilation[0] - PadBegin[0];
            int ih = h0 * Stride[1] + kh * Dilation[1] - PadBegin[1];
            int iw = w0 * Stride[2] + kw * Dilation[2] - PadBegin[2];
            bool complete = d0 == 0 && d1 == Out[0] && h0 == 0 && h1 == Out[1] && w0 == 0 && w1 == Out[2];
            Taps[t] = new TapRuns(d0, d1, h0, h1, w0, w1, (id * In[1] + ih) * In[2] + iw, complete);
        }
    }

    /// <summary>Per kernel tap (row-major over the kernel): which outputs read inside the input, and where.</summary>
    public TapRuns[] Taps { get; }

    /// <summary>Spatial axes of the problem as given (1 to 3).</summary>
    public int Rank { get; }

    /// <summary>Input sizes (canonical 3-D).</summary>
    public int[] In { get; }

    /// <summary>Output sizes (canonical 3-D).</summary>
    public int[] Out { get; }

    /// <summary>Kernel sizes (canonical 3-D).</summary>
    public int[] Kernel { get; }

    /// <summary>Strides (canonical 3-D).</summary>
    public int[] Stride { get; }

    /// <summary>Dilations (canonical 3-D).</summary>
    public int[] Dilation { get; }

    /// <summary>Padding before each axis (canonical 3-D).</summary>
    public int[] PadBegin { get; }

    /// <summary>
    /// Padding after each axis (canonical 3-D); negative when a ConvTranspose output_shape asks for
    /// more than the full result (the extra elements read nothing).
    /// </summary>
    public int[] PadEnd { get; }

    /// <summary>Elements of one input plane.</summary>
    public int InSize { get; }

    /// <summary>Elements of one output plane.</summary>
    public int OutSize { get; }

    /// <summary>Taps of the kernel.</summary>
    public int KernelSize { get; }

    /// <summary>The input sizes of the axes as given (not canonical).</summary>
    public int[] InputDims => In[(MaxRank - Rank)..];

    /// <summary>The output sizes of the axes as given (not canonical).</summary>
    public int[] OutputDims => Out[(MaxRank - Rank)..];

    /// <summary>True when every output reads exactly the input element at its own position (1×1 kernel, stride 1, no padding).</summary>
    public bool IsIdentityWindow =>
        KernelSize == 1 && In.AsSpan().SequenceEqual(Out) && PadBegin.All(p => p == 0) && Stride.All(s => s == 1);

    // Kernel coordinates of a tap (row-major over the kernel, like the weights).
    private (int D, int H, int W) TapAt(int tap)
    {
        int hw = Kernel[1] * Kernel[2];
        int rest = tap % hw;
        return (tap / hw, rest / Kernel[2], rest % Kernel[2]);
    }

    // Output positions [Lo, Hi) along an axis whose tap (along that axis) reads inside the input.
    private (int Lo, int Hi) ValidOutputs(int axis, int tap)
    {
        int s = Stride[axis];
        int offset = tap * Dilation[axis] - PadBegin[axis]; // input = o * s + offset
        int lo = offset >= 0 ? 0 : CeilDiv(-offset, s);
        int last = In[axis] - 1 - offset;
        int hi = last < 0 ? 0 : Math.Min(Out[axis], last / s + 1);
        lo = Math.Min(lo, Out[axis]);
        return (lo, Math.Max(lo, hi));
    }

    /// <summary>Taps [Lo, Hi) of output position <paramref name="o"/> along <paramref name="axis"/> that read inside the input.</summary>
    public (int Lo, int Hi) ValidTaps(int axis, int o)
    {
        int d = Dilation[axis];
        int start = o * Stride[axis] - PadBegin[axis];
        int lo = start >= 0 ? 0 : CeilDiv(-start, d);
        int last = In[axis] - 1 - start;
        int hi = last < 0 ? 0 : Math.Min(Kernel[axis], last / d + 1);
        return (Math.Min(lo, hi), hi);
    }

    /// <summary>
    /// Taps of output position <paramref name="o"/> along <paramref name="axis"/> inside the padded
    /// extent [-padBegin, input + padEnd): the window size AveragePool divides by with
    /// count_include_pad (a ceil-mode window hanging past the end padding counts only its part inside).
    /// </summary>
    public int PaddedTaps(int axis, int o)
    {
        int start = o * Stride[axis] - PadBegin[axis];
        int last = In[axis] + PadEnd[axis] - 1 - start;
        return last < 0 ? 0 : Math.Min(Kernel[axis], last / Dilation[axis] + 1);
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private static int[] Canonical(int[] values, int fill)
    {
        var r = new int[MaxRank];
        int lead = MaxRank - values.Length;
        for (int i = 0; i < MaxRank; i++) r[i] = i < lead ? fill : values[i - lead];
        return r;
    }
}

/// <summary>
/// The outputs one kernel tap reads inside the input: [D0, D1) × [H0, H1) × [W0, W1) in canonical
/// axes, the first of them reading input plane offset <see cref="Input"/>; <see cref="Complete"/>
/// when that is every output (the tap never reads padding).
/// </summary>
internal readonly record struct TapRuns(int D0, int D1, int H0, int H1, int W0, int W1, int Input, bool Complete)
{
    /// <summary>True when the tap reads only padding.</summary>
    public bool IsEmpty => D0 >= D1 || H0 >= H1 || W0 >= W1;
}
