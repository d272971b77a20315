using CompressBuild.Core.Compression;
using CompressBuild.Core.Data;
using CompressBuild.Core.Evaluation;
using CompressBuild.Core.Execution;
using CompressBuild.Core.Planning;

namespace CompressBuild.Core.Tests.Quantization;

/// <summary>Int4 / int2 weight-only quantization in the engine: packing, the scale search, the compressed ONNX model, accuracy.</summary>
[TestClass]
public sealed class LowBitWeightTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(4)]
    [DataRow(2)]
    public void Pack_ThenUnpack_GivesTheLevelsBack(int bits)
    {
        var rng = new Random(5);
        // Odd lengths: the last byte is partly used.
        foreach (int n in new[] { 1, 3, 7, 37, 1001 })
        {
            var values = Enumerable.Range(0, n).Select(_ => (sbyte)rng.Next(LowBitQuantizer.MinLevel(bits), LowBitQuantizer.MaxLevel(bits) + 1)).ToArray();
            var packed = LowBitQuantizer.Pack(values, bits);
            Assert.AreEqual((n * bits + 7) / 8, packed.Length);
            CollectionAssert.AreEqual(values, LowBitQuantizer.Unpack(packed, n, bits));
        }
    }

    [TestMethod]
    public void Pack_PutsTheFirstValueInTheLowBits()
    {
        CollectionAssert.AreEqual(new byte[] { 0x8F, 0x01 }, LowBitQuantizer.Pack(new sbyte[] { -1, -8, 1 }, 4));
        CollectionAssert.AreEqual(new byte[] { 0b01_00_10_11 }, LowBitQuantizer.Pack(new sbyte[] { -1, -2, 0, 1 }, 2));
    }

    [TestMethod]
    public void Layout_IndexesScalesPerChannelAndBlock()
    {
        // Gemm transB [N=3, K=70], block 32: three blocks per row, the last of 6.
        var rows = LowBitLayout.Of(new[] { 3, 70 }, 0, 32)!.Value;
        Assert.AreEqual(3, rows.Blocks);
        Assert.AreEqual(9, rows.ScaleCount);
        Assert.AreEqual(1 * 3 + 2, rows.ScaleIndex(1 * 70 + 69));
        // MatMul [K=40, N=5]: blocks run down the columns.
        var columns = LowBitLayout.Of(new[] { 40, 5 }, 1, 32)!.Value;
        Assert.AreEqual(10, columns.ScaleCount);
        Assert.AreEqual(1 * 5 + 4, columns.ScaleIndex(33 * 5 + 4));
        // A block past the reduction length means one scale per channel; ConvTranspose weights are not packed.
        Assert.AreEqual(75, LowBitLayout.Of(new[] { 6, 3, 5, 5 }, 0, 128)!.Value.Block);
        Assert.IsNull(LowBitLayout.Of(new[] { 4, 6, 3, 3 }, 1, 32));
    }

    [TestMethod]
    [DataRow(4)]
    [DataRow(2)]
    public void ScaleSearch_NeverLosesToRoundToNearest_AndScalesAreExactInFp16(int bits)
    {
        var w = RandomTensors.Normal(17, 0.1f, 64, 96).Floats;
        // A few outliers, as trained weights have: clipping them is what the search is for.
        for (int i = 0; i < w.Length; i += 97) w[i] *= 6f;
        var layout = LowBitLayout.Of(new[] { 64, 96 }, 0, 32)!.Value;
        var (values, scales) = LowBitQuantizer.Quantize(w, layout, bits);
        double searched = 0, nearest = 0;
        for (int k = 0; k < w.Length; k++)
        {
            float s = (float)scales[layout.ScaleIndex(k)];
            Assert.IsTrue(values[k] >= LowBitQuantizer.MinLevel(bits) && values[k] <= LowBitQuantizer.MaxLevel(bits));
            Assert.AreEqual(LowBitQuantizer.Level(w[k], s, bits), values[k]);
            searched += Math.Pow(w[k] - values[k] * s, 2);
        }
        for (int g = 0; g < layout.ScaleCount; g++)
        {
            var block = w.AsSpan(g * 32, 32);
            float rtn = (float)(Half)(block.ToArray().Max(Math.Abs) / LowBitQuantizer.MaxLevel(bits));
            foreach (float x in block) nearest += Math.Pow(x - LowBitQuantizer.Level(x, rtn, bits) * rtn, 2);
        }
        TestContext.WriteLine($"int{bits}: squared error searched {searched:G4}, round-to-nearest from max |w| {nearest:G4}");
        Assert.IsTrue(searched < nearest, $"searched {searched} vs round-to-nearest {nearest}");
    }

    [TestMethod]
    public void Encodings_PackWhatTheKernelsRead_AndFallBackToInt8Elsewhere()
    {
        var b = new ModelBuilder();
        string x = b.Input("x", DataType.Float, "N", 4, 6, 6);
        string c = b.Node("Conv", new[] { x, b.Initializer("conv_w", RandomTensors.Normal(1, 0.5f, 8, 4, 3, 3)) });
        string t = b.Node("ConvTranspose", new[] { c, b.Initializer("deconv_w", RandomTensors.Normal(2, 0.5f, 8, 2, 3, 3)) });
        b.Output(t, DataType.Float, "N", 2, 6, 6);
        var model = b.Build();
        var encodings = WeightQuantization.Encodings(model, "int4", perChannel: true);
        Assert.AreEqual(new ConstantEncoding(ConstantStorage.Int4, 0, WeightQuantization.DefaultInt4Block), encodings["conv_w"]);
        Assert.AreEqual(ConstantEncoding.Int8PerChannel(1), encodings["deconv_w"]);
        Assert.AreEqual(new ConstantEncoding(ConstantStorage.Int2, 0, -1), WeightQuantization.Encodings(model, "int2", perChannel: false)["conv_w"]);
    }

    private static string Eval(string name) => Path.Combine(TestData.RequireFashionMnist(), name);

    private static CompressionOutput Compress(string model, string quantize, string granularity = "per-channel") =>
        Compressor.Run(TestData.Model(model), new CompressionSettings
        {
            ClassName = "M",
            Quantize = quantize,
            Granularity = granularity,
            EvaluationData = Eval("t10k-images-idx3-ubyte.gz"),
            EvaluationLabels = Eval("t10k-labels-idx1-ubyte.gz"),
        });

    /// <summary>
    /// The compressed ONNX model (int8 levels, Cast, Mul by block scales, Reshape) runs in ONNX
    /// Runtime and computes what the executor computes, for every packed weight layout of the shared models.
    /// </summary>
    [TestMethod]
    [DataRow("lenet5.onnx", "int4")]
    [DataRow("lenet5.onnx", "int2")]
    [DataRow("lenet300.onnx", "int4")]
    [DataRow("lenet300.onnx", "int2")]
    public void CompressedOnnx_RunsInOnnxRuntime_AndMatchesTheExecutor(string model, string quantize)
    {
        var compressed = Compressor.Run(TestData.Model(model), new CompressionSettings { ClassName = "M", Quantize = quantize }).CompressedModel;
        Assert.IsFalse(compressed.Graph.Nodes.Any(n => n.OpType is "Gemm" or "Conv" && compressed.Graph.Initializers.ContainsKey(n.Inputs[1])), "a weight is still a float initializer");
        var input = RandomTensors.Uniform(4, 0f, 1f, 8, 1, 28, 28);
        var ort = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(compressed), input)[0];
        Numerics.AssertClose(ort, new Executor(compressed).Run(input)[0], 1e-5, 1e-6, $"{model} {quantize}");
    }

    /// <summary>
    /// The 10,000 Fashion-MNIST test images through the executor: LeNet-300-100 int4 loses at most 1.0
    /// point in at most 15% of the fp32 weight bytes; the report states bits and bytes per layer.
    /// </summary>
    [TestMethod]
    public void LeNet300_Int4_LosesAtMostOnePoint_In15PercentOfTheBytes()
    {
        var output = Compress("lenet300.onnx", "int4");
        var r = output.Report;
        double before = r.Metrics!.Original["top1"], after = r.Metrics.Compressed["top1"];
        TestContext.WriteLine($"LeNet-300-100 int4: {before:F4} -> {after:F4}, {r.CompressedBytes} of {r.OriginalBytes} bytes");
        Assert.AreEqual(0.8900, before, 0.0005);
        Assert.IsTrue(before - after <= 0.010, $"top-1 {before:F4} -> {after:F4}");
        Assert.IsTrue(r.CompressedBytes <= 0.15 * r.OriginalBytes, $"{r.CompressedBytes} bytes of {r.OriginalBytes}");
        Assert.IsTrue(r.Layers.All(l => l.Bits == 4), string.Join(", ", r.Layers.Select(l => $"{l.Name}: {l.Bits}")));
        Assert.AreEqual(r.CompressedBytes, r.Layers.Sum(l => l.Bytes), 48.0 * r.Layers.Count, "per-layer bytes do not add up to the blob (beyond alignment)");
    }

    /// <summary>The other figures (no bound in the issue): printed, and checked against the measured values so a regression shows.</summary>
    [TestMethod]
    [DataRow("lenet300.onnx", "int2", "per-channel", 0.015)]
    [DataRow("lenet5.onnx", "int4", "per-channel", 0.005)]
    [DataRow("lenet5.onnx", "int2", "per-channel", 0.05)]
    [DataRow("lenet300.onnx", "int4", "per-tensor", 0.05)]
    public void FashionMnist_Figures(string model, string quantize, string granularity, double maxDrop)
    {
        var r = Compress(model, quantize, granularity).Report;
        double before = r.Metrics!.Original["top1"], after = r.Metrics.Compressed["top1"];
        TestContext.WriteLine($"{model} {quantize} {granularity}: {before:F4} -> {after:F4} ({(before - after) * 100:F2} pt), {r.CompressedBytes} of {r.OriginalBytes} bytes ({100.0 * r.CompressedBytes / r.OriginalBytes:F1}%)");
        Assert.IsTrue(before - after <= maxDrop, $"top-1 {before:F4} -> {after:F4}");
    }

    /// <summary>The plan stores packed values and fp16 scales the ONNX model's levels and scales agree with; its text round-trips.</summary>
    [TestMethod]
    public void Plan_StoresThePackedLevelsAndScales_AndItsTextRoundTrips()
    {
        var output = Compressor.Run(TestData.Model("lenet300.onnx"), new CompressionSettings { ClassName = "M", Quantize = "int4" });
        var plan = output.Plan.Plan;
        var q4 = plan.Constants.Where(c => c.Storage == CompressBuild.Plan.PlanStorages.Q4).ToList();
        Assert.AreEqual(3, q4.Count);
        Assert.IsTrue(q4.All(c => c.Block == WeightQuantization.DefaultInt4Block && c.Axis == 0));
        var f1 = q4.Single(c => c.Shape[0] == 300);
        Assert.AreEqual(300 * 784 / 2, f1.Bytes);
        var levels = LowBitQuantizer.Unpack(output.Plan.Weights.AsSpan((int)f1.Offset, (int)f1.Bytes), 300 * 784, 4);
        var scales = plan.Constants.Single(c => c.Id == f1.Scale);
        Assert.AreEqual(300 * 25 * 2, scales.Bytes);
        var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(output.Plan.Weights.AsSpan((int)scales.Offset, (int)scales.Bytes));
        // The ONNX model holds the same levels ([300, 25, 32, 1], zero-padded) and scales.
        var onnxLevels = output.CompressedModel.Graph.Initializers.Single(kv => kv.Key.StartsWith("f1.weight_int4", StringComparison.Ordinal)).Value;
        var onnxScales = output.CompressedModel.Graph.Initializers.Single(kv => kv.Key.StartsWith("f1.weight_scale", StringComparison.Ordinal)).Value.Floats;
        CollectionAssert.AreEqual(new[] { 300, 25, 32, 1 }, onnxLevels.Shape);
        var padded = onnxLevels.ToInt64Array();
        for (int o = 0; o < 300; o++)
            for (int r = 0; r < 784; r++)
                Assert.AreEqual(levels[o * 784 + r], padded[o * 800 + r]);
        for (int i = 0; i < halves.Length; i++) Assert.AreEqual((float)halves[i], onnxScales[i]);

        var text = CompressBuild.Plan.PlanText.Write(plan);
        StringAssert.Contains(text, " q4 ");
        StringAssert.Contains(text, "block=32");
        var back = CompressBuild.Plan.PlanText.Parse(text);
        Assert.AreEqual(plan, back);
        Assert.AreEqual(text, CompressBuild.Plan.PlanText.Write(back));
    }

    [TestMethod]
    public void Compress_TwiceGivesIdenticalBytes()
    {
        var a = Compressor.Run(TestData.Model("lenet5.onnx"), new CompressionSettings { ClassName = "M", Quantize = "int2" });
        var b = Compressor.Run(TestData.Model("lenet5.onnx"), new CompressionSettings { ClassName = "M", Quantize = "int2" });
        CollectionAssert.AreEqual(a.Plan.Weights, b.Plan.Weights);
        CollectionAssert.AreEqual(OnnxModel.ToBytes(a.CompressedModel), OnnxModel.ToBytes(b.CompressedModel));
    }

    [TestMethod]
    public void Report_NamesTheRepresentation_AndTheInt8Fallbacks()
    {
        var b = new ModelBuilder();
        string x = b.Input("x", DataType.Float, "N", 4, 6, 6);
        string t = b.Node("ConvTranspose", new[] { x, b.Initializer("deconv_w", RandomTensors.Normal(2, 0.5f, 4, 2, 3, 3)) });
        b.Output(b.Node("Relu", new[] { t }), DataType.Float, "N", 2, 8, 8);
        string path = Path.Combine(TestData.TempDirectory("lowbit"), "deconv.onnx");
        OnnxModel.Save(b.Build(), path);
        var report = Compressor.Run(path, new CompressionSettings { ClassName = "M", Quantize = "int4" }).Report;
        var step = report.Steps.Single(s => s.StartsWith("quantize weights", StringComparison.Ordinal));
        StringAssert.Contains(step, "int8 for weights the packed kernels cannot read: deconv_w");
        Assert.AreEqual(8, report.Layers.Single().Bits);
    }
}
