using CompressBuild.Generator.Tests.Harness;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Tests;

/// <summary>
/// The generated code, file by file, against reviewed baselines (one small model per op family,
/// literal and resource weights, and the runtime kernels once).
/// </summary>
[TestClass]
public sealed class BaselineTests
{
    private static bool IsClass(string hint) => !hint.StartsWith("CompressBuild.Runtime.", StringComparison.Ordinal);

    private static void Check(string test, OpCase c, string quantize = "none", WeightStorage? storage = null)
    {
        var (_, result, _) = GeneratorHarness.Run(Baselines.PlanTexts(c.Build(), test, quantize, storage));
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
        Baselines.Verify(test, result, IsClass);
    }

    [TestMethod]
    public void GemmLiteralWeights() => Check(nameof(GemmLiteralWeights), TestModels.GemmRelu);

    [TestMethod]
    public void GemmResourceWeights() => Check(nameof(GemmResourceWeights), TestModels.GemmRelu, storage: WeightStorage.Resource);

    [TestMethod]
    public void GemmInt8() => Check(nameof(GemmInt8), TestModels.GemmTransA, "int8");

    [TestMethod]
    public void MatMulFp16() => Check(nameof(MatMulFp16), TestModels.MatMulBatched, "fp16");

    [TestMethod]
    public void ConvInt8() => Check(nameof(ConvInt8), TestModels.ConvPad, "int8");

    [TestMethod]
    public void ConvDepthwise() => Check(nameof(ConvDepthwise), TestModels.ConvDepthwise);

    [TestMethod]
    public void MaxPool() => Check(nameof(MaxPool), TestModels.MaxPoolPadCeil);

    [TestMethod]
    public void AveragePool() => Check(nameof(AveragePool), TestModels.AvgPoolInclude);

    [TestMethod]
    public void GlobalAveragePool() => Check(nameof(GlobalAveragePool), TestModels.GlobalAvgPool);

    [TestMethod]
    public void AddBroadcast() => Check(nameof(AddBroadcast), TestModels.AddChannelBias);

    [TestMethod]
    public void SubTwoInputs() => Check(nameof(SubTwoInputs), TestModels.SubTwoInputs);

    [TestMethod]
    public void Softmax() => Check(nameof(Softmax), TestModels.Softmax11);

    [TestMethod]
    public void Relu() => Check(nameof(Relu), TestModels.ReluInput);

    /// <summary>A plan from the real engine (Compressor on the shared LeNet-300-100, int8 weights, resource storage).</summary>
    [TestMethod]
    public void LeNet300Int8()
    {
        var output = EndToEnd.Compress(TestData.Model("lenet300.onnx"), "LeNet300", "int8");
        var plan = output.Plan.Plan with { Namespace = "Baselines.Models" };
        var (_, result, _) = GeneratorHarness.Run(new[] { new MemoryAdditionalText("/baselines/LeNet300.plan", CompressBuild.Plan.PlanText.Write(plan)) });
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
        Baselines.Verify(nameof(LeNet300Int8), result, IsClass);
    }

    [TestMethod]
    public void RuntimeKernels()
    {
        var (_, result, _) = GeneratorHarness.Run(Baselines.PlanTexts(TestModels.ReluInput.Build(), "Runtime"));
        var runtime = result.Results[0].GeneratedSources.Where(s => !IsClass(s.HintName)).Select(s => s.HintName).ToList();
        CollectionAssert.AreEquivalent(
            new[] { "Activations", "Conv", "ElementMath", "Elementwise", "FixedPoint", "Gemm", "Layout", "Normalization", "Pooling", "Quantized", "QuantizedConv", "QuantizedGemm", "Recurrent", "Reduce", "Resize", "Simd", "WeightReader" }.Select(n => $"CompressBuild.Runtime.{n}.g.cs").ToList(),
            runtime);
        Baselines.Verify(nameof(RuntimeKernels), result, hint => !IsClass(hint));
    }
}
