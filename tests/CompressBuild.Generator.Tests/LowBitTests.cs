using CompressBuild.Core.Compression;
using CompressBuild.Core.Execution;
using CompressBuild.Generator.Tests.Harness;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Tests;

/// <summary>
/// Int4 and int2 weight-only predictors: packed kernels (every SIMD width) against ONNX Runtime on
/// the compressed ONNX model, the shared Fashion-MNIST models' accuracy and size, baselines.
/// </summary>
[TestClass]
public sealed class LowBitTests
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly string[] Precisions = { "int4", "int2" };

    private static readonly string[] Targets = { "generic", "scalar", "arm64", "x64-avx2", "x64-avx512" };

    // Outputs agree with ONNX Runtime up to fp32 summation order (the kernels sum each scale block, then scale).
    private const double Rtol = 1e-4, Atol = 1e-5;

    private static string W(ModelBuilder b, string name, params int[] shape) =>
        b.Initializer(name, RandomTensors.Normal(name.Length * 977 + shape.Aggregate(7, (h, d) => h * 31 + d), 0.5f, shape));

    /// <summary>A symbolic batch axis, then <paramref name="shape"/>.</summary>
    private static object[] Batch(params int[] shape) => shape.Cast<object>().Prepend("N").ToArray();

    /// <summary>Small models covering each packed kernel path: rows that start mid-byte, tails shorter than a vector, blocks cut short.</summary>
    private static readonly Dictionary<string, (Func<Model> Build, int[] Input)> Models = new(StringComparer.Ordinal)
    {
        // B [N,K] with K = 37: odd rows (int4 rows start mid-byte), a short last block, a scalar tail.
        ["GemmTransB"] = (() =>
        {
            var b = new ModelBuilder();
            string x = b.Input("x", DataType.Float, Batch(37));
            string h = b.Node("Gemm", new[] { x, W(b, "w", 6, 37), W(b, "bias", 6) }, NodeAttribute.Int("transB", 1));
            b.Output(b.Node("Relu", new[] { h }), DataType.Float, Batch(6));
            return b.Build();
        }, new[] { 3, 37 }),
        // B [K,N] with N = 13 (vector columns and scalar ones), K = 40 (a short last block: the ONNX model slices the padding off).
        ["GemmKN"] = (() =>
        {
            var b = new ModelBuilder();
            string x = b.Input("x", DataType.Float, Batch(40));
            b.Output(b.Node("Gemm", new[] { x, W(b, "w", 40, 13), W(b, "bias", 13) }, NodeAttribute.Float("alpha", 0.5f)), DataType.Float, Batch(13));
            return b.Build();
        }, new[] { 2, 40 }),
        // Batched A, shared [K,N] B.
        ["MatMulKN"] = (() =>
        {
            var b = new ModelBuilder();
            string x = b.Input("x", DataType.Float, Batch(3, 24));
            b.Output(b.Node("MatMul", new[] { x, W(b, "w", 24, 18) }), DataType.Float, Batch(3, 18));
            return b.Build();
        }, new[] { 2, 3, 24 }),
        // 27 taps per output channel: one short block (int4) or a full and a short one (int2).
        ["Conv2D"] = (() =>
        {
            var b = new ModelBuilder();
            string x = b.Input("x", DataType.Float, Batch(3, 10, 12));
            string h = b.Node("Conv", new[] { x, W(b, "w", 5, 3, 3, 3), W(b, "bias", 5) }, NodeAttribute.Ints("pads", 1, 1, 1, 1));
            b.Output(b.Node("Relu", new[] { h }), DataType.Float, Batch(5, 10, 12));
            return b.Build();
        }, new[] { 2, 3, 10, 12 }),
        ["Conv1D"] = (() =>
        {
            var b = new ModelBuilder();
            string x = b.Input("x", DataType.Float, Batch(4, 21));
            b.Output(b.Node("Conv", new[] { x, W(b, "w", 6, 4, 5) }, NodeAttribute.Ints("strides", 2)), DataType.Float, Batch(6, 9));
            return b.Build();
        }, new[] { 2, 4, 21 }),
    };

    public static IEnumerable<object[]> SmallCases =>
        Models.Keys.SelectMany(m => Precisions.Select(q => new object[] { m, q }));

    private static CompressionOutput Compress(Model model, string className, string quantize, string target = "generic")
    {
        string path = Path.Combine(TestData.TempDirectory("lowbit"), className + ".onnx");
        OnnxModel.Save(model, path);
        return Compressor.Run(path, new CompressionSettings { ClassName = className, Namespace = EndToEnd.Namespace, Quantize = quantize, Target = target });
    }

    private static string ClassName(string model, string quantize, string target = "generic") =>
        model + (quantize == "int4" ? "Int4" : "Int2") + (target == "generic" ? "" : CSharpNames.Type(target));

    [TestMethod]
    [DynamicData(nameof(SmallCases))]
    public void PackedKernels_MatchOnnxRuntimeOnTheCompressedModel_OnEveryTarget(string model, string quantize)
    {
        var (build, shape) = Models[model];
        var outputs = Targets.Select(t => Compress(build(), ClassName(model, quantize, t), quantize, t)).ToList();
        string storage = quantize == "int4" ? PlanStorages.Q4 : PlanStorages.Q2;
        Assert.IsTrue(outputs[0].Plan.Plan.Constants.Any(c => c.Storage == storage), $"{model}: the plan has no {storage} weights");
        var assembly = EndToEnd.Build(outputs);
        var input = RandomTensors.Uniform(3, -1f, 1f, shape);
        var ort = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(outputs[0].CompressedModel), input)[0];
        var engine = new Executor(outputs[0].CompressedModel).Run(input)[0];
        Numerics.AssertClose(ort, engine, Rtol, Atol, $"{model} {quantize}: executor vs ONNX Runtime");
        foreach (var o in outputs)
        {
            var actual = assembly.Create(o.Plan.Plan.ClassName).Run(new[] { input })[0];
            Numerics.AssertClose(ort, actual, Rtol, Atol, $"{o.Plan.Plan.ClassName} vs ONNX Runtime");
        }
    }

    private static readonly Lazy<(GeneratedAssembly Assembly, Dictionary<string, CompressionOutput> Outputs)> LeNets = new(() =>
    {
        var outputs = new Dictionary<string, CompressionOutput>();
        foreach (var model in new[] { "lenet5", "lenet300" })
            foreach (var q in Precisions.Append("none"))
            {
                string name = LeNetName(model, q);
                outputs[name] = EndToEnd.Compress(TestData.Model(model + ".onnx"), name, q);
            }
        return (EndToEnd.Build(outputs.Values.ToList()), outputs);
    });

    private static string LeNetName(string model, string quantize) =>
        (model == "lenet5" ? "LowBitLeNet5" : "LowBitLeNet300") + quantize switch { "int4" => "Int4", "int2" => "Int2", _ => "Fp32" };

    public static IEnumerable<object[]> LeNetCases =>
        new[] { "lenet5", "lenet300" }.SelectMany(m => Precisions.Select(q => new object[] { m, q }));

    [TestMethod]
    [DynamicData(nameof(LeNetCases))]
    public void LeNet_MatchesOnnxRuntime_AndAllocatesNothing(string model, string quantize)
    {
        var (assembly, outputs) = LeNets.Value;
        var output = outputs[LeNetName(model, quantize)];
        var predictor = assembly.Create(output.Plan.Plan.ClassName);
        var input = RandomTensors.Uniform(11, 0f, 1f, 4, 1, 28, 28);
        var ort = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(output.CompressedModel), input)[0];
        Numerics.AssertClose(ort, predictor.Run(new[] { input })[0], Rtol, Atol, $"{model} {quantize} vs ONNX Runtime");
        Assert.AreEqual(0L, predictor.Allocated(new[] { new float[784] }, 100), $"{model} {quantize} allocated during Predict");
    }

    /// <summary>
    /// The bounds on the 10,000 test images through the generated predictors: LeNet-300-100
    /// int4 loses at most 1.0 point in at most 15% of the fp32 bytes. The other figures are printed
    /// (int2 has no bound) and only checked to be far better than chance.
    /// </summary>
    [TestMethod]
    public void FashionMnist_Int4LeNet300_WithinOnePoint_In15PercentOfTheBytes()
    {
        var (images, labels) = TestData.FashionMnistTest();
        var (assembly, outputs) = LeNets.Value;
        foreach (var model in new[] { "lenet300", "lenet5" })
        {
            var fp32 = assembly.Create(LeNetName(model, "none"));
            double baseline = Numerics.Top1(fp32.Run(new[] { images })[0], labels);
            long fp32Bytes = fp32.Constant<long>("WeightBytes");
            foreach (var q in Precisions)
            {
                var p = assembly.Create(LeNetName(model, q));
                double top1 = Numerics.Top1(p.Run(new[] { images })[0], labels);
                long bytes = p.Constant<long>("WeightBytes");
                TestContext.WriteLine($"{model} {q}: top-1 {baseline:F4} -> {top1:F4} ({(baseline - top1) * 100:F2} pt), WeightBytes {bytes:N0} = {100.0 * bytes / fp32Bytes:F1}% of fp32");
                Assert.IsTrue(top1 > 0.5, $"{model} {q}: top-1 {top1:F4}");
                if (model == "lenet300" && q == "int4")
                {
                    Assert.IsTrue(baseline - top1 <= 0.010, $"LeNet-300-100 int4 loses {(baseline - top1) * 100:F2} points (bound 1.0)");
                    Assert.IsTrue(bytes <= 0.15 * fp32Bytes, $"LeNet-300-100 int4 WeightBytes {bytes} is more than 15% of fp32 {fp32Bytes}");
                }
            }
        }
    }

    [TestMethod]
    public void Compress_IsByteIdenticalTwice()
    {
        foreach (var q in Precisions)
        {
            var a = EndToEnd.Compress(TestData.Model("lenet5.onnx"), "Twice", q);
            var b = EndToEnd.Compress(TestData.Model("lenet5.onnx"), "Twice", q);
            CollectionAssert.AreEqual(a.Plan.Weights, b.Plan.Weights, $"{q}: weight blobs differ");
            Assert.AreEqual(PlanText.Write(a.Plan.Plan), PlanText.Write(b.Plan.Plan), $"{q}: plans differ");
            CollectionAssert.AreEqual(OnnxModel.ToBytes(a.CompressedModel), OnnxModel.ToBytes(b.CompressedModel), $"{q}: compressed ONNX differs");
        }
    }

    private static void CheckBaseline(string test, string model, string quantize)
    {
        var (_, result, _) = GeneratorHarness.Run(Baselines.PlanTexts(Models[model].Build(), test, quantize));
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
        Baselines.Verify(test, result, hint => !hint.StartsWith("CompressBuild.Runtime.", StringComparison.Ordinal));
    }

    [TestMethod]
    public void GemmInt4() => CheckBaseline(nameof(GemmInt4), "GemmTransB", "int4");

    [TestMethod]
    public void MatMulInt2() => CheckBaseline(nameof(MatMulInt2), "MatMulKN", "int2");

    [TestMethod]
    public void ConvInt4() => CheckBaseline(nameof(ConvInt4), "Conv2D", "int4");

    [TestMethod]
    public void ConvInt2() => CheckBaseline(nameof(ConvInt2), "Conv2D", "int2");
}
