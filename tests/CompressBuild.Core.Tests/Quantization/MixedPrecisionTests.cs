using CompressBuild.Core.Quantization;

namespace CompressBuild.Core.Tests.Quantization;

[TestClass]
public sealed class MixedPrecisionTests
{
    // Layers whose low-precision losses add up: a, b, c, d lose 0.1, 1.5, 0.4, 0.05 points.
    private static readonly Dictionary<string, double> Loss = new() { ["a"] = 0.1, ["b"] = 1.5, ["c"] = 0.4, ["d"] = 0.05 };
    private static readonly string[] Layers = { "a", "b", "c", "d" };
    private static double Metric(IReadOnlySet<string> high) => 90 - Layers.Where(l => !high.Contains(l)).Sum(l => Loss[l]);

    [TestMethod]
    public void Search_KeepsTheMostSensitiveLayersHigh_UntilTheBoundHolds()
    {
        var r = MixedPrecision.Search(Layers, Metric, 90, maxDrop: 0.2);
        CollectionAssert.AreEqual(new[] { "b", "c", "a", "d" }, r.Layers.Select(l => l.Layer).ToArray());
        CollectionAssert.AreEquivalent(new[] { "b", "c" }, r.HighPrecision.ToArray());
        Assert.IsTrue(r.BoundHolds);
        Assert.AreEqual(90 - 0.15, r.Metric, 1e-9);
        Assert.AreEqual(1.5, r.Layers[0].Drop, 1e-9);
    }

    [TestMethod]
    public void Search_KeepsEverythingLow_WhenTheBoundAlreadyHolds()
    {
        var r = MixedPrecision.Search(Layers, Metric, 90, maxDrop: 5);
        Assert.AreEqual(0, r.HighPrecision.Count);
        Assert.AreEqual(Layers.Length + 1, r.Evaluations);
    }

    [TestMethod]
    public void Search_ReportsABoundThatCannotHold()
    {
        var r = MixedPrecision.Search(Layers, _ => 80, 90, maxDrop: 0.5);
        Assert.IsFalse(r.BoundHolds);
        Assert.AreEqual(Layers.Length, r.HighPrecision.Count);
    }
}
