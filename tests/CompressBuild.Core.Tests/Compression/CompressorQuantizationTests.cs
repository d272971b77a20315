using CompressBuild.Core.Compression;
using CompressBuild.Plan;
using CompressBuild.TestSupport;

namespace CompressBuild.Core.Tests.Compression;

/// <summary>
/// The quantization settings through <see cref="Compressor"/> as the build runs them, on the shared
/// Fashion-MNIST models: accuracy on the 10,000 test images (the report's metrics, measured by the
/// executor on the compressed ONNX model), sizes, mixed precision and bad settings.
/// </summary>
[TestClass]
public sealed class CompressorQuantizationTests
{
    private static string Fm(string file) => Path.Combine(TestData.RequireFashionMnist(), file);

    private static CompressionSettings Settings(string model, params (string Name, string Value)[] values)
    {
        var all = values.ToList();
        all.Add(("EvaluationData", Fm("t10k-images-idx3-ubyte.gz")));
        all.Add(("EvaluationLabels", Fm("t10k-labels-idx1-ubyte.gz")));
        return CompressionSettings.Parse(all.Select(v => new KeyValuePair<string, string>(v.Name, v.Value)), model);
    }

    private static (double Original, double Compressed) Top1(CompressionReport r) => (r.Metrics!.Original["top1"], r.Metrics.Compressed["top1"]);

    [TestMethod]
    [DataRow("lenet5.onnx")]
    [DataRow("lenet300.onnx")]
    public void StaticInt8_LosesAtMostAThirdOfAPoint_AndStoresAQuarterOfTheBytes(string model)
    {
        var output = Compressor.Run(TestData.Model(model), Settings(model, ("Quantize", "int8"), ("Activations", "int8"), ("CalibrationData", Fm("train-images-idx3-ubyte.gz"))));
        var (original, compressed) = Top1(output.Report);
        Assert.IsTrue(original - compressed <= 0.003, $"top-1 {original:F4} -> {compressed:F4}");
        Assert.IsTrue(output.Report.CompressedBytes <= 0.27 * output.Report.OriginalBytes, $"{output.Report.CompressedBytes} of {output.Report.OriginalBytes} bytes");
        // The predictor runs integer kernels, and the ONNX output is QDQ.
        CollectionAssert.IsSubsetOf(new[] { "QuantizeLinear", "DequantizeLinear" }, output.CompressedModel.Graph.Nodes.Select(n => n.OpType).Distinct().ToList());
        Assert.IsTrue(output.Plan.Plan.Steps.Any(s => s.Op is "QLinearConv" or "QGemm"), string.Join(", ", output.Plan.Plan.Steps.Select(s => s.Op)));
        Assert.IsTrue(output.Report.Layers.All(l => l.Bits == 8 && l.ScaleMin > 0 && l.SqnrDb > 20), string.Join("; ", output.Report.Layers));
    }

    [TestMethod]
    public void Int4_OnLeNet300_LosesAtMostOnePoint_InAtMostFifteenPercentOfTheBytes()
    {
        var output = Compressor.Run(TestData.Model("lenet300.onnx"), Settings("lenet300.onnx", ("Quantize", "int4")));
        var (original, compressed) = Top1(output.Report);
        Assert.IsTrue(original - compressed <= 0.01, $"top-1 {original:F4} -> {compressed:F4}");
        Assert.IsTrue(output.Report.CompressedBytes <= 0.15 * output.Report.OriginalBytes, $"{output.Report.CompressedBytes} of {output.Report.OriginalBytes} bytes");
    }

    [TestMethod]
    public void MaxAccuracyDrop_WithInt2_KeepsTheMostSensitiveLayersAtInt8_AndHoldsTheBound()
    {
        var output = Compressor.Run(TestData.Model("lenet5.onnx"), Settings("lenet5.onnx", ("Quantize", "int2"), ("MaxAccuracyDrop", "2.0")));
        var (original, compressed) = Top1(output.Report);
        Assert.IsTrue(original - compressed <= 0.02, $"top-1 {original:F4} -> {compressed:F4}");
        var kept = output.Report.Layers.Where(l => l.Bits == 8).Select(l => l.Name).ToList();
        Assert.IsTrue(kept.Count > 0, "int2 alone misses a 2-point bound on LeNet-5, so some layer must stay at int8");
        Assert.IsTrue(output.Report.Layers.All(l => l.Sensitivity is not null), "every layer's sensitivity is reported");
        // The most sensitive layer is among those kept.
        Assert.IsTrue(kept.Contains(output.Report.Layers.MaxBy(l => l.Sensitivity)!.Name));
        StringAssert.Contains(string.Join("\n", output.Report.Steps), "kept at int8: ");
    }

    [TestMethod]
    public void StaticInt8_IsDeterministic()
    {
        var s = CompressionSettings.Parse(new Dictionary<string, string> { ["Activations"] = "int8", ["CalibrationData"] = Fm("t10k-images-idx3-ubyte.gz"), ["Seed"] = "7" }, "lenet5.onnx");
        var a = Compressor.Run(TestData.Model("lenet5.onnx"), s);
        var b = Compressor.Run(TestData.Model("lenet5.onnx"), s);
        CollectionAssert.AreEqual(OnnxModel.ToBytes(a.CompressedModel), OnnxModel.ToBytes(b.CompressedModel));
        Assert.AreEqual(PlanText.Write(a.Plan.Plan), PlanText.Write(b.Plan.Plan));
        CollectionAssert.AreEqual(a.Plan.Weights, b.Plan.Weights);
    }

    [TestMethod]
    [DataRow("Activations=int8", "CB6003", "needs CalibrationData")]
    [DataRow("Activations=int8;Quantize=int4;CalibrationData=x", "CB6001", "cannot be combined with Quantize=int4")]
    [DataRow("Quantize=int4;MaxAccuracyDrop=0.5", "CB6003", "MaxAccuracyDrop needs EvaluationData")]
    [DataRow("Calibration=minmax:3", "CB6001", "only percentile takes a parameter")]
    public void BadQuantizationSettings_AreErrorsWithCodes(string settings, string code, string message)
    {
        var e = Assert.ThrowsExactly<CompressBuildException>(() =>
        {
            var s = CompressionSettings.Parse(settings.Split(';').Select(kv => kv.Split('=')).Select(kv => new KeyValuePair<string, string>(kv[0], kv[1])), "lenet5.onnx");
            Compressor.Run(TestData.Model("lenet5.onnx"), s);
        });
        Assert.AreEqual(code, e.Code);
        StringAssert.Contains(e.Message, message);
    }

    [TestMethod]
    public void PercentileCalibration_TakesItsPercentile()
    {
        var s = CompressionSettings.Parse(new Dictionary<string, string> { ["Calibration"] = "percentile:99.9" }, "m.onnx");
        Assert.AreEqual("percentile", s.Calibration);
        Assert.AreEqual(99.9, s.CalibrationPercentile);
    }
}
