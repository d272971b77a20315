using CompressBuild.Core.Quantization;

namespace CompressBuild.Core.Tests.Quantization;

/// <summary>Cross-layer equalization keeps the function and equalizes per-channel weight ranges.</summary>
[TestClass]
public sealed class CrossLayerEqualizationTests
{
    // Conv(4→3)→Relu→Conv(3→2) whose first layer's channels differ in range by 100×.
    private static Model ConvReluConv(out string first, out string second)
    {
        var b = new ModelBuilder();
        var x = b.Input("x", DataType.Float, "N", 4, 6, 6);
        var w1 = RandomTensors.Normal(1, 1f, 3, 4, 3, 3);
        var f = w1.Floats;
        for (int i = 0; i < f.Length; i++) f[i] *= new[] { 0.01f, 1f, 0.3f }[i / 36];
        var c1 = b.Node("Conv", new[] { x, b.Initializer("w1", w1), b.Initializer("b1", new[] { 0.1f, -0.2f, 0.05f }, 3) }, NodeAttribute.Ints("pads", 1, 1, 1, 1));
        var r = b.Node("Relu", new[] { c1 });
        var c2 = b.Node("Conv", new[] { r, b.Initializer("w2", RandomTensors.Normal(2, 1f, 2, 3, 3, 3)), b.Initializer("b2", new[] { 0.3f, 0f }, 2) });
        b.Output(c2);
        var model = b.Build();
        first = model.Graph.Producer(c1)!.Name;
        second = model.Graph.Producer(c2)!.Name;
        return model;
    }

    [TestMethod]
    public void ConvReluConv_EqualizesRanges_AndKeepsTheFunction()
    {
        var model = ConvReluConv(out var first, out var second);
        var x = RandomTensors.Normal(3, 1f, 2, 4, 6, 6);
        var before = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), x)[0];
        var (out0, in0) = CrossLayerEqualization.ChannelRanges(model, first, second);
        Assert.IsTrue(out0.Max() / out0.Min() > 50, "the test model starts unequal");

        Assert.AreEqual(1, CrossLayerEqualization.Apply(model));

        var (out1, in1) = CrossLayerEqualization.ChannelRanges(model, first, second);
        for (int c = 0; c < out1.Length; c++)
        {
            Assert.AreEqual(out1[c], in1[c], 1e-5 * out1[c], $"channel {c}: both layers' ranges meet");
            Assert.AreEqual(Math.Sqrt(out0[c] * in0[c]), out1[c], 1e-5 * out1[c], $"channel {c}: at the geometric mean");
        }
        Assert.IsTrue(out1.Max() / out1.Min() < out0.Max() / out0.Min() / 5, "first layer's channel ranges are closer");
        var after = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), x)[0];
        Numerics.AssertClose(before, after, 0, 1e-4, "same function after CLE");
    }

    [TestMethod]
    public void LeNet5_EqualizesFourPairs_ThroughPoolingAndFlatten_AndKeepsTheFunction()
    {
        var model = QdqFixtures.Optimized("lenet5.onnx");
        var x = RandomTensors.Uniform(4, 0f, 1f, 8, 1, 28, 28);
        var before = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), x)[0];
        Assert.AreEqual(4, CrossLayerEqualization.Apply(model));
        var after = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), x)[0];
        Numerics.AssertClose(before, after, 0, 1e-4, "same function after CLE");
        var (o, i) = CrossLayerEqualization.ChannelRanges(model, "/c2/Conv", "/f1/Gemm");
        for (int c = 0; c < o.Length; c++) Assert.AreEqual(o[c], i[c], 1e-3 * o[c], $"channel {c}");
    }

    [TestMethod]
    public void ConvReluClip_IsNotAPair()
    {
        var b = new ModelBuilder();
        var x = b.Input("x", DataType.Float, 1, 2, 4, 4);
        var c1 = b.Node("Conv", new[] { x, b.Initializer("w1", RandomTensors.Normal(1, 1f, 2, 2, 1, 1)) });
        var clip = b.Node("Clip", new[] { c1, b.Initializer("lo", Tensor.Scalar(0f)), b.Initializer("hi", Tensor.Scalar(6f)) });
        b.Output(b.Node("Conv", new[] { clip, b.Initializer("w2", RandomTensors.Normal(2, 1f, 2, 2, 1, 1)) }));
        Assert.AreEqual(0, CrossLayerEqualization.Apply(b.Build()), "ReLU6 is not positively homogeneous");
    }
}
