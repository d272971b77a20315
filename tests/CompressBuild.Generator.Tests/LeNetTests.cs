using System.Diagnostics;
using CompressBuild.Core.Compression;
using CompressBuild.Core.Execution;
using CompressBuild.Generator.Tests.Harness;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Tests;

/// <summary>The shared Fashion-MNIST models through the whole chain, in fp32, fp16 and int8.</summary>
[TestClass]
public sealed class LeNetTests
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly string[] Precisions = { "none", "fp16", "int8" };

    private static readonly Lazy<(GeneratedAssembly Assembly, Dictionary<string, CompressionOutput> Outputs)> Models = new(() =>
    {
        var outputs = new Dictionary<string, CompressionOutput>();
        foreach (var model in new[] { "lenet5", "lenet300" })
            foreach (var q in Precisions)
                outputs[ClassName(model, q)] = EndToEnd.Compress(TestData.Model(model + ".onnx"), ClassName(model, q), q);
        // Not collectible: the latency test measures what an application would see.
        return (EndToEnd.Build(outputs.Values.ToList(), collectible: false), outputs);
    });

    private static string ClassName(string model, string quantize) =>
        (model == "lenet5" ? "LeNet5" : "LeNet300") + quantize switch { "fp16" => "Fp16", "int8" => "Int8", _ => "Fp32" };

    public static IEnumerable<object[]> Cases =>
        new[] { "lenet5", "lenet300" }.SelectMany(m => Precisions.Select(q => new object[] { m, q }));

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void MatchesExecutorAndOnnxRuntime(string model, string quantize)
    {
        var (assembly, outputs) = Models.Value;
        string name = ClassName(model, quantize);
        var output = outputs[name];
        var input = RandomTensors.Uniform(11, 0f, 1f, 4, 1, 28, 28);
        var actual = assembly.Create(name).Run(new[] { input })[0];
        var engine = new Executor(output.CompressedModel).Run(input)[0];
        var ort = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(output.CompressedModel), input)[0];
        Numerics.AssertClose(engine, actual, 1e-4, 1e-5, $"{name} vs executor");
        Numerics.AssertClose(ort, actual, 1e-4, 1e-5, $"{name} vs ONNX Runtime");
    }

    [TestMethod]
    public void WeightBytes_ShrinkWithPrecision()
    {
        var (assembly, _) = Models.Value;
        foreach (var model in new[] { "lenet5", "lenet300" })
        {
            long fp32 = assembly.Create(ClassName(model, "none")).Constant<long>("WeightBytes");
            long fp16 = assembly.Create(ClassName(model, "fp16")).Constant<long>("WeightBytes");
            long int8 = assembly.Create(ClassName(model, "int8")).Constant<long>("WeightBytes");
            Assert.IsTrue(fp16 <= 0.51 * fp32, $"{model}: fp16 {fp16} B is more than 51% of fp32 {fp32} B");
            Assert.IsTrue(int8 <= 0.27 * fp32, $"{model}: int8 {int8} B is more than 27% of fp32 {fp32} B");
        }
    }

    [TestMethod]
    public void LeNet5_FashionMnistAccuracy_MatchesPyTorch()
    {
        var (images, labels) = TestData.FashionMnistTest();
        var (assembly, _) = Models.Value;
        var accuracy = Precisions.ToDictionary(q => q, q => Numerics.Top1(assembly.Create(ClassName("lenet5", q)).Run(new[] { images })[0], labels));
        TestContext.WriteLine($"LeNet-5 top-1: fp32 {accuracy["none"]:F4}, fp16 {accuracy["fp16"]:F4}, int8 {accuracy["int8"]:F4}");
        Assert.AreEqual(0.8947, accuracy["none"], 0.0005, "fp32 top-1 differs from PyTorch's 0.8947");
        Assert.AreEqual(accuracy["none"], accuracy["fp16"], 0.001, "fp16 loses more than 0.1 point");
        Assert.AreEqual(accuracy["none"], accuracy["int8"], 0.005, "int8 loses more than 0.5 point");
    }

    [TestMethod]
    public void Predict_AllocatesNothing()
    {
        var (assembly, _) = Models.Value;
        foreach (var name in Models.Value.Outputs.Keys)
            Assert.AreEqual(0L, assembly.Create(name).Allocated(new[] { new float[784] }, 100), $"{name} allocated during Predict");
    }

    [TestMethod]
    public void ResourceWeights_WithoutUnsafeCode_AreCopied_AndGiveTheSameResults()
    {
        var output = Models.Value.Outputs[ClassName("lenet300", "int8")];
        var copied = EndToEnd.Build(new[] { output }, allowUnsafe: false);
        var input = RandomTensors.Uniform(5, 0f, 1f, 3, 1, 28, 28);
        var expected = Models.Value.Assembly.Create(output.Plan.Plan.ClassName).Run(new[] { input })[0];
        var actual = copied.Create(output.Plan.Plan.ClassName).Run(new[] { input })[0];
        CollectionAssert.AreEqual(expected.Floats, actual.Floats);
    }

    [TestMethod]
    public void MissingWeightsResource_ThrowsAClearException()
    {
        var output = Models.Value.Outputs[ClassName("lenet300", "none")];
        var (texts, _) = EndToEnd.Inputs(new[] { output });
        var (_, _, compilation) = GeneratorHarness.Run(texts, GeneratorHarness.NewCompilation(true, EndToEnd.HostSource(output.Plan.Plan)));
        var assembly = new GeneratedAssembly(GeneratorHarness.EmitAndLoad(compilation), new Dictionary<string, ModelPlan> { [output.Plan.Plan.ClassName] = output.Plan.Plan });
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => assembly.Create(output.Plan.Plan.ClassName));
        StringAssert.Contains(e.Message, output.Plan.Plan.Weights.ResourceName);
        StringAssert.Contains(e.Message, "is missing");
    }

    /// <summary>How long the compiler takes for LeNet-5 (fp32, 246,824 weight bytes) with literal and with resource weights; printed.</summary>
    [TestMethod]
    public void CompileTime_LiteralVersusResource_IsReported()
    {
        // Warm Roslyn up so the first measurement is not mostly JIT time.
        GeneratorHarness.EmitAndLoad(GeneratorHarness.Run(Baselines.PlanTexts(TestModels.GemmRelu.Build(), "Warm")).Output);
        foreach (var storage in new[] { WeightStorage.Literal, WeightStorage.Resource })
        {
            var planned = Baselines.PlanOf(OnnxModel.Load(TestData.Model("lenet5.onnx")), "LeNet5", "none", storage);
            var texts = new List<Microsoft.CodeAnalysis.AdditionalText> { new MemoryAdditionalText("/t/LeNet5.plan", PlanText.Write(planned.Plan)) };
            var resources = new List<Microsoft.CodeAnalysis.ResourceDescription>();
            if (storage == WeightStorage.Literal) texts.Add(new MemoryAdditionalText("/t/" + planned.Plan.Weights.File, Compressor.Base64Lines(planned.Weights)));
            else resources.Add(new Microsoft.CodeAnalysis.ResourceDescription(planned.Plan.Weights.ResourceName, () => new MemoryStream(planned.Weights), true));
            var sw = Stopwatch.StartNew();
            var (_, result, compilation) = GeneratorHarness.Run(texts);
            double generate = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var assembly = GeneratorHarness.EmitAndLoad(compilation, resources);
            double compile = sw.Elapsed.TotalMilliseconds;
            long sourceChars = result.GeneratedTrees.Sum(t => (long)t.Length);
            TestContext.WriteLine($"LeNet-5 fp32, {storage} weights: generator {generate:F0} ms, compile+emit {compile:F0} ms, {sourceChars:N0} characters of generated source");
            Assert.IsNotNull(assembly.GetType("Baselines.Models.LeNet5"));
        }
    }

    /// <summary>Not a benchmark (the lead runs BenchmarkDotNet): a rough Stopwatch figure, printed.</summary>
    [TestMethod]
    public void Latency_Batch1_IsReported()
    {
        var (assembly, _) = Models.Value;
        var input = RandomTensors.Uniform(3, 0f, 1f, 784).Floats;
        foreach (var name in Models.Value.Outputs.Keys)
        {
            var (best, median) = assembly.Create(name).MicrosPerCall(new[] { input }, 10_000);
            TestContext.WriteLine($"{name}: {best:F2} µs (fastest batch) / {median:F2} µs (median batch) per Predict; batch 1, 10,000 calls in batches of 50 after 3,000 warm-up calls");
            Assert.IsTrue(best < 5_000, $"{name} takes {best} µs per sample");
        }
    }
}
