using CompressBuild.Core.Compression;
using CompressBuild.Core.Data;
using CompressBuild.Core.Execution;
using CompressBuild.Core.Quantization;
using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.Core.Tests.Quantization;

/// <summary>
/// Static int8 on model forms the int8 op sweep brought up: a fixed batch dimension (exporters'
/// default batch 1), no float output, unnamed nodes.
/// </summary>
[TestClass]
public sealed class QdqModelFormTests
{
    // x[batch, 8] → Gemm(8→6) → Reshape [batch, 2, 3] → Softmax → output: the Reshape fixes the batch.
    private static Model FixedBatch(int batch)
    {
        var b = new ModelBuilder();
        var x = b.Input("x", DataType.Float, batch, 8);
        var y = b.Node("Gemm", new[] { x, b.Initializer("w", RandomTensors.Normal(1, 0.5f, 8, 6)), b.Initializer("c", RandomTensors.Normal(2, 0.1f, 6)) });
        var r = b.Node("Reshape", new[] { y, b.Initializer("shape", Tensor.Int64Vector(batch, 2, 3)) });
        b.Output(b.Node("Softmax", new[] { r }, NodeAttribute.Int("axis", -1)), DataType.Float, batch, 2, 3);
        return b.Build();
    }

    [TestMethod]
    public void FixedBatchOfOne_IsCalibratedOneSampleAtATime()
    {
        var result = QdqQuantizer.Quantize(FixedBatch(1), new DataSet(RandomTensors.Normal(3, 1f, 64, 8)), new QdqOptions());
        StringAssert.Contains(string.Join("\n", result.Steps), "calibrate: 64 sample(s)");
        var x = RandomTensors.Normal(4, 1f, 1, 8);
        Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(result.Model), x)[0], new Executor(result.Model).Run(x)[0], 0, 1e-5);
    }

    [TestMethod]
    public void FixedBatchOfTwo_LeavesOutAShorterTail_AndSaysSo()
    {
        var result = QdqQuantizer.Quantize(FixedBatch(2), new DataSet(RandomTensors.Normal(3, 1f, 5, 8)), new QdqOptions());
        StringAssert.Contains(string.Join("\n", result.Steps), "calibration samples: 4 of 5 (whole batches of the model's fixed batch size 2)");
        Assert.AreEqual(1, result.Layers.Count(l => l.Bits == 8));
    }

    [TestMethod]
    public void ModelWithoutFloatOutput_IsQuantized()
    {
        var b = new ModelBuilder();
        var x = b.Input("x", DataType.Float, "N", 8);
        var y = b.Node("Gemm", new[] { x, b.Initializer("w", RandomTensors.Normal(1, 0.5f, 8, 6)) });
        b.Output(b.Node("ArgMax", new[] { y }, NodeAttribute.Int("axis", 1)), DataType.Int64);
        var result = QdqQuantizer.Quantize(b.Build(), new DataSet(RandomTensors.Normal(2, 1f, 64, 8)), new QdqOptions());
        Assert.AreEqual(1, result.Layers.Count(l => l.Bits == 8));
        var input = RandomTensors.Normal(3, 1f, 16, 8);
        CollectionAssert.AreEqual(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(result.Model), input)[0].ToInt64Array(), new Executor(result.Model).Run(input)[0].ToInt64Array());
    }

    [TestMethod]
    public void UnnamedLayers_AreReportedAtInt8_UnderTheirOutputNames()
    {
        var b = new ModelBuilder();
        var x = b.Input("x", DataType.Float, "N", 2, 6, 6);
        var conv = b.Node("Conv", new[] { x, b.Initializer("w1", RandomTensors.Normal(1, 0.5f, 3, 2, 3, 3)) });
        var flat = b.Node("Flatten", new[] { b.Node("Relu", new[] { conv }) });
        b.Output(b.Node("Gemm", new[] { flat, b.Initializer("w2", RandomTensors.Normal(2, 0.2f, 48, 4)) }));
        var model = b.Build();
        foreach (var n in model.Graph.Nodes) n.Name = "";
        string dir = TestData.TempDirectory("unnamed");
        OnnxModel.Save(model, Path.Combine(dir, "m.onnx"));
        NpyFile.Write(Path.Combine(dir, "x.npy"), RandomTensors.Uniform(3, -1f, 1f, 64, 2, 6, 6));

        var output = Compressor.Run(Path.Combine(dir, "m.onnx"), new CompressionSettings { Activations = "int8", CalibrationData = Path.Combine(dir, "x.npy") });
        var layers = output.Report.Layers.ToDictionary(l => l.Op, l => l);
        Assert.AreEqual(conv, layers["Conv"].Name);
        Assert.AreEqual(8, layers["Conv"].Bits, string.Join("; ", output.Report.Layers));
        Assert.AreEqual(8, layers["Gemm"].Bits, string.Join("; ", output.Report.Layers));
        Assert.IsNotNull(layers["Gemm"].SqnrDb);
    }
}
