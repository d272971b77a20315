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

    /// <summary>Every runtime kernel file as the generator emits it (a compilation gets the ones its plans use).</summary>
    [TestMethod]
    public void RuntimeKernels()
    {
        var all = PredictorGenerator.RuntimeKernels.All;
        CollectionAssert.AreEquivalent(
            new[] { "Activations", "Conv", "ElementMath", "Elementwise", "FixedPoint", "Gemm", "Layout", "Normalization", "Pooling", "Quantized", "QuantizedConv", "QuantizedGemm", "Recurrent", "Reduce", "Resize", "Simd", "WeightReader" }.Select(n => $"CompressBuild.Runtime.{n}.g.cs").ToList(),
            all.Select(f => f.HintName).ToList());
        Baselines.Verify(nameof(RuntimeKernels), all);
    }

    [TestMethod]
    public void RuntimeKernels_EmittedAreOnlyThoseThePlansUse_AndTheirDependencies()
    {
        static List<string> Emitted(params OpCase[] models)
        {
            var texts = models.SelectMany((m, i) => Baselines.PlanTexts(m.Build(), $"Model{i}")).ToList();
            var (_, result, output) = GeneratorHarness.Run(texts);
            Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
            var errors = output.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToList();
            Assert.AreEqual(0, errors.Count, string.Join("\n", errors.Take(5)));
            return result.Results[0].GeneratedSources.Select(s => s.HintName).Where(h => !IsClass(h))
                .Select(h => h.Substring("CompressBuild.Runtime.".Length, h.Length - "CompressBuild.Runtime.".Length - ".g.cs".Length)).ToList();
        }

        var relu = Emitted(TestModels.ReluInput);
        CollectionAssert.Contains(relu, "Activations");
        foreach (var unused in new[] { "Conv", "Gemm", "Pooling", "Quantized", "QuantizedConv", "QuantizedGemm", "Recurrent", "Resize" })
            CollectionAssert.DoesNotContain(relu, unused, $"a Relu model got {unused}");

        // Two plans in one compilation get the union.
        var both = Emitted(TestModels.ReluInput, TestModels.ConvPad);
        CollectionAssert.IsSubsetOf(relu, both);
        CollectionAssert.Contains(both, "Conv");
        CollectionAssert.DoesNotContain(both, "Recurrent");
    }
}
