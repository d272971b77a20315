namespace CompressBuild.Core.Quantization;

/// <summary>
/// What calibration learned about one activation tensor: its range and a histogram of its values
/// over that range (for the percentile, entropy and MSE range methods).
/// </summary>
public sealed class TensorStatistics
{
    /// <summary>Bins of the histogram (TensorRT and ONNX Runtime use 2048).</summary>
    public const int Bins = 2048;

    internal TensorStatistics(float min, float max)
    {
        Min = min;
        Max = max;
        Histogram = new long[Bins];
    }

    /// <summary>Smallest value seen.</summary>
    public float Min { get; }

    /// <summary>Largest value seen.</summary>
    public float Max { get; }

    /// <summary>Counts over [<see cref="Min"/>, <see cref="Max"/>] in <see cref="Bins"/> equal bins.</summary>
    public long[] Histogram { get; }

    /// <summary>Number of values counted.</summary>
    public long Count { get; private set; }

    /// <summary>Width of one bin.</summary>
    public double BinWidth => (Max - (double)Min) / Bins;

    /// <summary>The value at the lower edge of bin <paramref name="i"/>.</summary>
    public double Edge(int i) => Min + i * BinWidth;

    internal void Add(ReadOnlySpan<float> values)
    {
        double width = BinWidth;
        if (width <= 0)
        {
            Histogram[0] += values.Length;
            Count += values.Length;
            return;
        }
        double inv = 1.0 / width;
        foreach (float v in values)
        {
            int bin = (int)((v - (double)Min) * inv);
            Histogram[Math.Clamp(bin, 0, Bins - 1)]++;
        }
        Count += values.Length;
    }
}
