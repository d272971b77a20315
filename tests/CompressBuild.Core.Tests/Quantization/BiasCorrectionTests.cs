using CompressBuild.Core.Quantization;

namespace CompressBuild.Core.Tests.Quantization;

/// <summary>Bias correction removes the per-channel mean shift quantization adds to layer outputs.</summary>
[TestClass]
public sealed class BiasCorrectionTests
{
    [TestMethod]
    public void Measure_RemovesTheMeanShiftOfEveryLayer()
    {
        TestData.RequireFashionMnist();
        var model = QdqFixtures.Optimized("lenet5.onnx");
        var data = QdqFixtures.Calibration(500);
        var plan = QdqPlan.Build(model, new HashSet<string>(), activations: true);
        var parameters = Calibrator.Collect(model, data, plan.Calibrated.ToList(), histograms: false).ToDictionary(kv => kv.Key, kv =>
        {
            var (scale, zero) = RangeEstimator.UInt8(kv.Value.Min, kv.Value.Max);
            return new ActivationParams(scale, zero);
        });
        // Per-tensor weights shift the means the most.
        Model Build(IReadOnlyDictionary<string, float[]>? shifts) => QdqCandidate.Build(model, plan, parameters, perChannel: false, shifts).Qdq;

        var shifts = BiasCorrection.Measure(model, plan, data, Build);

        CollectionAssert.AreEqual(plan.Layers.ToArray(), shifts.Keys.ToArray());
        var reference = BiasCorrection.ChannelMeans(model, plan.Layers, data);
        var before = BiasCorrection.ChannelMeans(Build(null), plan.Layers, data);
        var after = BiasCorrection.ChannelMeans(Build(shifts), plan.Layers, data);
        foreach (var layer in plan.Layers)
        {
            double shiftBefore = Rms(before[layer], reference[layer]), shiftAfter = Rms(after[layer], reference[layer]);
            Assert.IsTrue(shiftAfter < shiftBefore / 10, $"{layer}: mean shift {shiftBefore:G3} -> {shiftAfter:G3}");
        }
    }

    private static double Rms(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Average());
}
