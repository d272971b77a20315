namespace CompressBuild.Core.Tests.Operators;

[TestClass]
public sealed class TemplateOperatorTests
{
    [TestMethod]
    public void Relu_MatchesOnnxRuntime_AndGradientMatchesFiniteDifferences()
    {
        // Values at least 0.05 away from the kink at 0 keep central differences exact.
        var x = RandomTensors.Uniform(1, -1f, 1f, 3, 4, 5);
        foreach (ref float v in x.Floats.AsSpan()) if (MathF.Abs(v) < 0.05f) v = 0.3f;
        OpHarness.AssertMatchesOnnxRuntime("Relu", 14, new[] { x });
        OpHarness.AssertGradients("Relu", 14, new[] { x });
    }

    [TestMethod]
    public void Gemm_WithTransposesAndBroadcastBias_MatchesOnnxRuntime_AndGradients()
    {
        foreach (var (ta, tb) in new[] { (0, 0), (1, 0), (0, 1), (1, 1) })
        {
            var a = RandomTensors.Uniform(2, -1f, 1f, ta == 1 ? new[] { 7, 5 } : new[] { 5, 7 });
            var b = RandomTensors.Uniform(3, -1f, 1f, tb == 1 ? new[] { 9, 7 } : new[] { 7, 9 });
            var c = RandomTensors.Uniform(4, -1f, 1f, 9);
            var attrs = new[] { NodeAttribute.Int("transA", ta), NodeAttribute.Int("transB", tb), NodeAttribute.Float("alpha", 0.7f), NodeAttribute.Float("beta", 1.3f) };
            OpHarness.AssertMatchesOnnxRuntime("Gemm", 13, new[] { a, b, c }, attrs);
            OpHarness.AssertGradients("Gemm", 13, new[] { a, b, c }, attrs);
        }
    }

    [TestMethod]
    public void Gemm_LargeEnoughForTheBlockedKernel_MatchesOnnxRuntime()
    {
        var a = RandomTensors.Uniform(5, -1f, 1f, 130, 300);
        var b = RandomTensors.Uniform(6, -1f, 1f, 100, 300);
        var c = RandomTensors.Uniform(7, -1f, 1f, 100);
        OpHarness.AssertMatchesOnnxRuntime("Gemm", 13, new[] { a, b, c }, new[] { NodeAttribute.Int("transB", 1) }, rtol: 1e-4, atol: 1e-4);
    }

    [TestMethod]
    public void Flatten_NegativeAxis_MatchesOnnxRuntime_AndGradients()
    {
        var x = RandomTensors.Uniform(8, -1f, 1f, 2, 3, 4);
        OpHarness.AssertMatchesOnnxRuntime("Flatten", 13, new[] { x }, new[] { NodeAttribute.Int("axis", -1) });
        OpHarness.AssertGradients("Flatten", 13, new[] { x }, new[] { NodeAttribute.Int("axis", -1) });
    }
}
