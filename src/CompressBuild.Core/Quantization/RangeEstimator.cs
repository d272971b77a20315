namespace CompressBuild.Core.Quantization;

/// <summary>How an activation's quantization range is chosen from its calibration statistics.</summary>
public enum CalibrationMethod
{
    /// <summary>The observed minimum and maximum.</summary>
    MinMax,

    /// <summary>Clip at a percentile of the values (99.99 by default) on each side.</summary>
    Percentile,

    /// <summary>The threshold whose 128-level quantization keeps the distribution closest in KL divergence (TensorRT's method, as in ONNX Runtime).</summary>
    Entropy,

    /// <summary>The threshold that minimises the expected squared error of quantize-dequantize over the histogram.</summary>
    Mse,
}

/// <summary>Chooses quantization ranges from calibration statistics.</summary>
public static class RangeEstimator
{
    /// <summary>Default percentile of the percentile method.</summary>
    public const double DefaultPercentile = 99.99;

    /// <summary>
    /// The range [Min, Max] to quantize a tensor over; it always contains 0 (so 0 is exact, as
    /// padding and ReLU need).
    /// </summary>
    public static (float Min, float Max) Range(TensorStatistics s, CalibrationMethod method, double percentile = DefaultPercentile, int levels = 256)
    {
        var (lo, hi) = method switch
        {
            CalibrationMethod.MinMax => (s.Min, s.Max),
            CalibrationMethod.Percentile => Percentile(s, percentile),
            CalibrationMethod.Entropy => Symmetric(s, Entropy(s)),
            CalibrationMethod.Mse => Symmetric(s, Mse(s, levels)),
            _ => (s.Min, s.Max),
        };
        return (Math.Min(lo, 0f), Math.Max(hi, 0f));
    }

    // Both sides clipped at the given percentile of the values.
    private static (float, float) Percentile(TensorStatistics s, double percentile)
    {
        if (s.Count == 0) return (0f, 0f);
        double tail = s.Count * (100 - percentile) / 100;
        long acc = 0;
        int lo = 0;
        for (; lo < TensorStatistics.Bins - 1; lo++)
        {
            acc += s.Histogram[lo];
            if (acc > tail) break;
        }
        acc = 0;
        int hi = TensorStatistics.Bins - 1;
        for (; hi > 0; hi--)
        {
            acc += s.Histogram[hi];
            if (acc > tail) break;
        }
        return ((float)s.Edge(lo), (float)s.Edge(hi + 1));
    }

    // A threshold on |x| applied to the side(s) the data occupies.
    private static (float, float) Symmetric(TensorStatistics s, double threshold) =>
        (s.Min < 0 ? (float)Math.Max(-threshold, s.Min) : s.Min, s.Max > 0 ? (float)Math.Min(threshold, s.Max) : s.Max);

    // The |x| histogram: bin i covers [i, i+1) · width / 2 of the magnitude range.
    private static (double[] Counts, double Width) Magnitudes(TensorStatistics s)
    {
        double limit = Math.Max(Math.Abs((double)s.Min), Math.Abs((double)s.Max));
        var counts = new double[TensorStatistics.Bins];
        if (limit == 0) return (counts, 0);
        double width = limit / TensorStatistics.Bins;
        for (int i = 0; i < TensorStatistics.Bins; i++)
        {
            double center = Math.Abs(s.Edge(i) + s.BinWidth / 2);
            counts[Math.Min((int)(center / width), TensorStatistics.Bins - 1)] += s.Histogram[i];
        }
        return (counts, width);
    }

    // TensorRT's entropy calibration: for each candidate threshold, the reference distribution P
    // (outliers folded into the last bin) against its 128-level quantization Q; the smallest KL wins.
    private static double Entropy(TensorStatistics s)
    {
        var (hist, width) = Magnitudes(s);
        if (width == 0) return 0;
        // After a ReLU most values are exact zeros; any threshold represents them exactly, but their
        // spike would dominate both distributions and make clipping the tail look free.
        if (s.Min >= 0) hist[0] = 0;
        const int levels = 128;
        // A threshold needs `levels` bins of data below it. Values that all lie far from 0 (a Sigmoid's
        // [0.5, 1], a positive feature) leave the low bins empty: a threshold there folds every value
        // into one bin that its quantization represents exactly, KL 0, and would clip all of them.
        int first = Array.FindIndex(hist, h => h != 0);
        if (first < 0) return hist.Length * width;
        double best = double.PositiveInfinity;
        int bestI = hist.Length;
        for (int i = Math.Min(first + levels, hist.Length); i <= hist.Length; i++)
        {
            var p = new double[i];
            Array.Copy(hist, p, i);
            for (int k = i; k < hist.Length; k++) p[i - 1] += hist[k];
            var q = new double[i];
            double perLevel = (double)i / levels;
            for (int level = 0; level < levels; level++)
            {
                int start = (int)(level * perLevel), end = (int)Math.Ceiling((level + 1) * perLevel);
                end = Math.Min(end, i);
                double sum = 0;
                int nonzero = 0;
                for (int k = start; k < end; k++)
                {
                    sum += hist[k];
                    if (hist[k] != 0) nonzero++;
                }
                if (nonzero == 0) continue;
                for (int k = start; k < end; k++)
                    if (hist[k] != 0) q[k] = sum / nonzero;
            }
            double kl = Kl(p, q);
            if (kl < best)
            {
                best = kl;
                bestI = i;
            }
        }
        return bestI * width;
    }

    private static double Kl(double[] p, double[] q)
    {
        double ps = p.Sum(), qs = q.Sum();
        if (ps == 0 || qs == 0) return double.PositiveInfinity;
        double kl = 0;
        for (int k = 0; k < p.Length; k++)
        {
            if (p[k] == 0) continue;
            double pk = p[k] / ps, qk = q[k] / qs;
            kl += qk == 0 ? pk * 20 : pk * Math.Log(pk / qk);
        }
        return kl;
    }

    // Expected squared error of clipping |x| at t and rounding to `levels` steps over [0, t] on one
    // side (uniform rounding noise step²/12 inside, the clipped distance outside).
    private static double Mse(TensorStatistics s, int levels)
    {
        var (hist, width) = Magnitudes(s);
        if (width == 0) return 0;
        double best = double.PositiveInfinity, bestT = hist.Length * width;
        int sides = s.Min < 0 && s.Max > 0 ? 2 : 1;
        for (int i = 16; i <= hist.Length; i++)
        {
            double t = i * width;
            double step = t * sides / (levels - 1);
            double err = 0;
            for (int k = 0; k < hist.Length; k++)
            {
                double center = (k + 0.5) * width;
                err += hist[k] * (center <= t ? step * step / 12 : (center - t) * (center - t));
            }
            if (err < best)
            {
                best = err;
                bestT = t;
            }
        }
        return bestT;
    }

    /// <summary>Asymmetric uint8 parameters for a range containing 0: scale and zero point.</summary>
    public static (float Scale, byte ZeroPoint) UInt8(float min, float max)
    {
        min = Math.Min(min, 0f);
        max = Math.Max(max, 0f);
        float scale = (max - min) / 255f;
        if (scale == 0f) return (1f, 0);
        int zp = (int)Math.Round(-min / scale, MidpointRounding.ToEven);
        return (scale, (byte)Math.Clamp(zp, 0, 255));
    }
}
