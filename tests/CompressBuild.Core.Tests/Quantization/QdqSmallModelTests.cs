using CompressBuild.Core.Data;
using CompressBuild.Core.Execution;
using CompressBuild.Core.Quantization;

namespace CompressBuild.Core.Tests.Quantization;

/// <summary>The QDQ quantizer on small models built in code: ops without an int8 path, old opsets.</summary>
[TestClass]
public sealed class QdqSmallModelTests
{
    // x[N,2,6,6] → Conv(2→3) → <middle op> → Flatten → Gemm(108→4).
    private static Model ConvThenGemm(int opset, string middle)
    {
        var b = new ModelBuilder(opset);
        var x = b.Input("x", DataType.Float, "N", 2, 6, 6);
        var conv = b.Node("Conv", new[] { x, b.Initializer("w1", RandomTensors.Normal(1, 0.5f, 3, 2, 3, 3)), b.Initializer("b1", new[] { 0.1f, 0f, -0.1f }, 3) },
            NodeAttribute.Ints("pads", 1, 1, 1, 1));
        var mid = b.Node(middle, new[] { conv });
        var flat = b.Node("Flatten", new[] { mid });
        b.Output(b.Node("Gemm", new[] { flat, b.Initializer("w2", RandomTensors.Normal(2, 0.2f, 4, 108)), b.Initializer("b2", new[] { 0f, 0.5f, 1f, -1f }, 4) },
            NodeAttribute.Int("transB", 1)));
        return b.Build();
    }

    private static DataSet Samples(int count, int seed) => new(RandomTensors.Uniform(seed, -1f, 1f, count, 2, 6, 6));

    [TestMethod]
    public void OpWithoutInt8Path_RunsInFloatBetweenDequantizeAndQuantize_AndIsListed()
    {
        var result = QdqQuantizer.Quantize(ConvThenGemm(13, "Sigmoid"), Samples(64, 1), new QdqOptions());
        var graph = result.Model.Graph;
        var sigmoid = graph.Nodes.Single(n => n.OpType == "Sigmoid");
        Assert.AreEqual("DequantizeLinear", graph.Producer(sigmoid.Inputs[0])!.OpType, "reads the dequantized Conv output");
        CollectionAssert.AreEqual(new[] { $"{sigmoid.Name} (Sigmoid)" }, result.FloatOps.ToArray());
        StringAssert.Contains(string.Join("\n", result.Steps), "run in float between DequantizeLinear and QuantizeLinear");
        // Flatten after the float Sigmoid: its output is quantized for the Gemm, Flatten itself runs in float.
        Assert.AreEqual(2, result.Layers.Count(l => l.Bits == 8));
        var x = Samples(8, 2).Samples;
        Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(result.Model), x)[0], new Executor(result.Model).Run(x)[0], 0, 0.05);
    }

    [TestMethod]
    public void Opset11Model_IsRaisedTo13_ForPerChannelWeights()
    {
        var result = QdqQuantizer.Quantize(ConvThenGemm(11, "Relu"), Samples(64, 3), new QdqOptions());
        Assert.AreEqual(13, result.Model.Opset);
        StringAssert.Contains(result.Steps[0], "opset 11 -> 13");
        Assert.IsTrue(result.Layers.All(l => l.MinScale < l.MaxScale), "per-channel scales");
        var x = Samples(8, 4).Samples;
        Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(result.Model), x)[0], new Executor(result.Model).Run(x)[0], 0, 0.05);
    }

    [TestMethod]
    public void Opset11ModelWithAnOpThatChangedIn13_StaysAt11_WithPerTensorWeights()
    {
        var b = new ModelBuilder(11);
        var x = b.Input("x", DataType.Float, "N", 8);
        var y = b.Node("Gemm", new[] { x, b.Initializer("w", RandomTensors.Normal(1, 1f, 8, 4)) });
        b.Output(b.Node("Softmax", new[] { y }, NodeAttribute.Int("axis", 1)));
        var result = QdqQuantizer.Quantize(b.Build(), new DataSet(RandomTensors.Normal(2, 1f, 32, 8)), new QdqOptions());
        Assert.AreEqual(11, result.Model.Opset);
        StringAssert.Contains(result.Steps[0], "per-tensor weights");
        Assert.AreEqual(result.Layers[0].MinScale, result.Layers[0].MaxScale);
        var input = RandomTensors.Normal(3, 1f, 4, 8);
        Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(result.Model), input)[0], new Executor(result.Model).Run(input)[0], 0, 0.02);
    }

    [TestMethod]
    public void Concat_OfInputsSharingParameters_KeepsThem_AndRunsOnUInt8()
    {
        var b = new ModelBuilder();
        var x = b.Input("x", DataType.Float, "N", 2, 6, 6);
        var relu = b.Node("Relu", new[] { b.Node("Conv", new[] { x, b.Initializer("w1", RandomTensors.Normal(1, 0.5f, 3, 2, 1, 1)) }) });
        var pool = b.Node("MaxPool", new[] { relu }, NodeAttribute.Ints("kernel_shape", 2, 2), NodeAttribute.Ints("strides", 2, 2));
        var concat = b.Node("Concat", new[] { relu, relu }, NodeAttribute.Int("axis", 1));
        b.Output(b.Node("Conv", new[] { concat, b.Initializer("w2", RandomTensors.Normal(2, 0.5f, 2, 6, 1, 1)) }));
        b.Output(pool);
        var result = QdqQuantizer.Quantize(b.Build(), Samples(32, 5), new QdqOptions());
        var graph = result.Model.Graph;
        var concatNode = graph.Nodes.Single(n => n.OpType == "Concat");
        var q = graph.Consumers(concatNode.Outputs[0]).Single(n => n.OpType == "QuantizeLinear");
        Assert.AreEqual(graph.Producer(concatNode.Inputs[0])!.Inputs[1], q.Inputs[1], "Concat output shares its inputs' scale");
        Assert.AreEqual(0, result.FloatOps.Count, string.Join(", ", result.FloatOps));
        var input = Samples(4, 6).Samples;
        var ours = new Executor(result.Model).Run(input);
        var theirs = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(result.Model), input);
        for (int i = 0; i < ours.Length; i++) Numerics.AssertClose(theirs[i], ours[i], 0, 0.05);
    }
}
