using CompressBuild.Core.Data;
using CompressBuild.Core.Quantization;

namespace CompressBuild.Core.Tests.Quantization;

/// <summary>The range methods on calibration statistics of known distributions.</summary>
[TestClass]
public sealed class RangeEstimatorTests
{
    // x[N, 64] → Sigmoid: calibration statistics of the input and of the output.
    private static IReadOnlyDictionary<string, TensorStatistics> Statistics(Tensor samples)
    {
        var b = new ModelBuilder();
        var x = b.Input("x", DataType.Float, "N", 64);
        var y = b.Node("Sigmoid", new[] { x });
        b.Output(y);
        return Calibrator.Collect(b.Build(), new DataSet(samples), new[] { x, y });
    }

    [TestMethod]
    public void Entropy_OfValuesFarFromZero_KeepsThemAll()
    {
        // Sigmoid of positive inputs lies in [0.5, 0.98]: a threshold below 0.5 would clip every value.
        var stats = Statistics(RandomTensors.Uniform(1, 0f, 4f, 512, 64));
        var y = stats.Single(kv => kv.Key != "x").Value;
        var (min, max) = RangeEstimator.Range(y, CalibrationMethod.Entropy);
        Assert.AreEqual(0f, min);
        Assert.IsTrue(max >= 0.95 * y.Max, $"entropy range [{min}, {max}] of values in [{y.Min}, {y.Max}]");
    }

    [TestMethod]
    public void Entropy_OfAGaussian_ClipsTheTails()
    {
        var x = Statistics(RandomTensors.Normal(2, 1f, 4096, 64))["x"];
        var (min, max) = RangeEstimator.Range(x, CalibrationMethod.Entropy);
        Assert.IsTrue(max < 0.9 * x.Max && min > 0.9 * x.Min && max > 2.5, $"entropy range [{min}, {max}] of N(0, 1) in [{x.Min}, {x.Max}]");
    }
}
