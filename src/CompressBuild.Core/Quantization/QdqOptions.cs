namespace CompressBuild.Core.Quantization;

/// <summary>How <see cref="QdqQuantizer"/> quantizes a float model into QDQ form.</summary>
public sealed record QdqOptions
{
    /// <summary>One weight scale per output channel (default) instead of one per tensor.</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>
    /// Static int8 activations from calibration (default); false quantizes only the weights (int8
    /// with DequantizeLinear) and needs no calibration data.
    /// </summary>
    public bool Activations { get; init; } = true;

    /// <summary>Activation range method: <c>minmax</c> (default), <c>percentile</c>, <c>entropy</c> or <c>mse</c>.</summary>
    public string Calibration { get; init; } = "minmax";

    /// <summary>Percentile of the <c>percentile</c> method.</summary>
    public double Percentile { get; init; } = RangeEstimator.DefaultPercentile;

    /// <summary>Correct the per-channel mean shift quantization adds to Conv/Gemm outputs (kept only where it helps).</summary>
    public bool BiasCorrection { get; init; } = true;

    /// <summary>Equalize weight ranges of Conv→ReLU→Conv and Gemm→ReLU→Gemm chains before calibration (kept only where it helps).</summary>
    public bool CrossLayerEqualization { get; init; } = true;

    /// <summary>Node names left in float: no Q/DQ around them and their weights stay float (mixed precision).</summary>
    public IReadOnlySet<string> FloatNodes { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Seed of every random choice (which calibration samples are used when there are too many).</summary>
    public int Seed { get; init; }

    /// <summary>Calibration samples used at most; a larger set is subsampled deterministically from <see cref="Seed"/>.</summary>
    public int MaxCalibrationSamples { get; init; } = 2000;
}
