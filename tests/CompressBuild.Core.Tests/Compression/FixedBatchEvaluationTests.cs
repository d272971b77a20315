using CompressBuild.Core.Compression;
using CompressBuild.Core.Data;
using CompressBuild.Core.Evaluation;
using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.Core.Tests.Compression;

/// <summary>
/// Models that fix their batch dimension (exporters' default batch 1) are evaluated on every sample,
/// with the same result as the same model with a free batch dimension.
/// </summary>
[TestClass]
public sealed class FixedBatchEvaluationTests
{
    private const int Samples = 203, Width = 16, Classes = 4;

    // x [batch, 16] → Gemm → Relu → Gemm → [batch, 4], the same seeded weights for every batch dimension.
    private static Model Classifier(object batch)
    {
        var b = new ModelBuilder();
        var x = b.Input("x", DataType.Float, batch, Width);
        var w1 = b.Initializer("w1", RandomTensors.Normal(1, 0.5f, Width, 32));
        var b1 = b.Initializer("b1", RandomTensors.Normal(2, 0.1f, 32));
        var w2 = b.Initializer("w2", RandomTensors.Normal(3, 0.5f, 32, Classes));
        var h = b.Node("Relu", [b.Node("Gemm", [x, w1, b1])]);
        b.Output(b.Node("Gemm", [h, w2]), DataType.Float, batch, Classes);
        return b.Build();
    }

    private static DataSet Data() => new(RandomTensors.Normal(4, 1f, Samples, Width),
        Enumerable.Range(0, Samples).Select(i => (long)(i * 7 % Classes)).ToArray());

    [TestMethod]
    [DataRow(1)]
    [DataRow(8)]
    public void Evaluator_OnAFixedBatchModel_CountsEverySample_AsTheFreeBatchModelDoes(int batch)
    {
        var (fixedModel, free, data) = (Classifier(batch), Classifier("N"), Data());
        // 203 is no multiple of 8: the tail of 3 runs as one padded batch.
        CollectionAssert.AreEqual(Evaluator.Predict(free, data), Evaluator.Predict(fixedModel, data));
        Assert.AreEqual(Evaluator.Top1(free, data), Evaluator.Top1(fixedModel, data));
        Assert.AreEqual(Samples, Evaluator.Top1(fixedModel, data).Total);
        var agreement = Evaluator.Compare(fixedModel, free, data);
        Assert.AreEqual(1.0, agreement.Agreement);
        Assert.AreEqual(0.0, agreement.MaxAbsError);
    }

    [TestMethod]
    [DataRow("int4", "")]
    [DataRow("int8", "int8")]
    public void Compressor_WithMaxAccuracyDrop_OnABatchOneModel_MeasuresAsOnTheFreeBatchModel(string quantize, string activations)
    {
        string dir = TestData.TempDirectory("fixed-batch-eval");
        var data = Data();
        string samples = Path.Combine(dir, "x.npy"), labels = Path.Combine(dir, "y.npy");
        NpyFile.Write(samples, data.Samples);
        NpyFile.Write(labels, Tensor.FromArray(data.Labels!, Samples));

        CompressionReport Compress(Model model, string name)
        {
            string path = Path.Combine(dir, name + ".onnx");
            OnnxModel.Save(model, path);
            return Compressor.Run(path, new CompressionSettings
            {
                ClassName = name,
                Quantize = quantize,
                Activations = activations,
                CalibrationData = activations.Length > 0 ? samples : "",
                EvaluationData = samples,
                EvaluationLabels = labels,
                MaxAccuracyDrop = 1.0,
            }).Report;
        }

        var fixedReport = Compress(Classifier(1), "BatchOne");
        var freeReport = Compress(Classifier("N"), "FreeBatch");
        CollectionAssert.AreEqual(freeReport.Metrics!.Original.ToList(), fixedReport.Metrics!.Original.ToList());
        CollectionAssert.AreEqual(freeReport.Metrics.Compressed.ToList(), fixedReport.Metrics.Compressed.ToList());
        string Mixed(CompressionReport r) => r.Steps.Single(s => s.StartsWith("mixed precision", StringComparison.Ordinal));
        StringAssert.Contains(Mixed(fixedReport), $"on {Samples} evaluation sample(s)");
        Assert.AreEqual(Mixed(freeReport), Mixed(fixedReport));
    }
}
