using CompressBuild.Core.Data;
using CompressBuild.Core.Evaluation;
using CompressBuild.Core.Execution;
using CompressBuild.Core.Quantization;

namespace CompressBuild.Core.Tests.Quantization;

/// <summary>
/// Static int8 QDQ quantization of the shared Fashion-MNIST models: ONNX Runtime runs the result
/// and agrees with our executor, accuracy stays within the issue's bound, and the options do what
/// they say.
/// </summary>
[TestClass]
public sealed class QdqQuantizerTests
{
    private const int OracleSamples = 256;

    [TestMethod]
    [DataRow("lenet5.onnx")]
    [DataRow("lenet300.onnx")]
    public void QdqModel_RunsInOnnxRuntime_AndAgreesWithTheExecutor(string file)
    {
        var result = QdqFixtures.Default(file);
        var images = QdqFixtures.TestSet().Batch(0, OracleSamples);
        var ours = new Executor(result.Model).Run(images)[0];
        var theirs = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(result.Model), images)[0];

        // ONNX Runtime fuses DequantizeLinear→Conv/Gemm→QuantizeLinear into integer kernels that
        // requantize with a float multiplier where our executor rounds the float result: the two may
        // round a value to neighbouring steps, so logits may differ by one output step, no more.
        float step = OutputStep(result.Model);
        double largest = ours.Floats.Zip(theirs.Floats, (x, y) => Math.Abs(x - y)).Max();
        Assert.IsTrue(largest <= step * 1.001, $"largest logit difference {largest} > one step of {step}");
        var a = Numerics.ArgMaxRows(ours);
        var b = Numerics.ArgMaxRows(theirs);
        double agreement = a.Zip(b, (x, y) => x == y ? 1.0 : 0.0).Average();
        Assert.IsTrue(agreement >= 0.99, $"argmax agreement with ONNX Runtime {agreement:P2}");
    }

    [TestMethod]
    [DataRow("lenet5.onnx")]
    [DataRow("lenet300.onnx")]
    public void StaticInt8_Minmax_LosesAtMostPoint3OfTop1(string file)
    {
        var result = QdqFixtures.Default(file);
        double before = QdqFixtures.FloatTop1(file);
        double after = Evaluator.Top1(result.Model, QdqFixtures.TestSet()).Accuracy;
        Assert.IsTrue(before - after <= 0.003, $"top-1 {before:F4} -> {after:F4}; steps: {string.Join("; ", result.Steps)}");
    }

    [TestMethod]
    public void QdqModel_HasTheOnnxRuntimeQdqForm()
    {
        var result = QdqFixtures.Default("lenet5.onnx");
        var graph = result.Model.Graph;
        foreach (var layer in graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm"))
        {
            var input = graph.Producer(layer.Inputs[0])!;
            var weight = graph.Producer(layer.Inputs[1])!;
            var bias = graph.Producer(layer.Inputs[2])!;
            Assert.AreEqual("DequantizeLinear", input.OpType, $"{layer.Name} input");
            Assert.AreEqual(DataType.UInt8, graph.Initializers[input.Inputs[2]].DataType, $"{layer.Name} activation zero point");
            Assert.AreEqual(DataType.Int8, graph.Initializers[weight.Inputs[0]].DataType, $"{layer.Name} weight");
            Assert.IsTrue(graph.Initializers[weight.Inputs[0]].Span<sbyte>().ToArray().All(v => v >= -127), "weights in [-127, 127]");
            Assert.AreEqual(0L, weight.Attribute("axis")!.AsInt(), $"{layer.Name} weight axis");
            Assert.AreEqual(DataType.Int32, graph.Initializers[bias.Inputs[0]].DataType, $"{layer.Name} bias");
            // The bias scale is the input scale times each weight scale, as integer kernels need.
            var expected = graph.Initializers[weight.Inputs[1]].Floats.Select(s => s * graph.Initializers[input.Inputs[1]].Floats[0]);
            CollectionAssert.AreEqual(expected.ToArray(), graph.Initializers[bias.Inputs[1]].Floats, $"{layer.Name} bias scale");
        }
        // A ReLU after a layer is quantized on its output only, which therefore has zero point 0.
        foreach (var relu in graph.Nodes.Where(n => n.OpType == "Relu"))
        {
            Assert.AreNotEqual("DequantizeLinear", graph.Producer(relu.Inputs[0])!.OpType, "pre-activation has no Q/DQ");
            var q = graph.Consumers(relu.Outputs[0]).Single();
            Assert.AreEqual("QuantizeLinear", q.OpType);
            Assert.AreEqual((byte)0, graph.Initializers[q.Inputs[2]].Span<byte>()[0]);
        }
        // MaxPool keeps its input's scale and zero point.
        foreach (var pool in graph.Nodes.Where(n => n.OpType == "MaxPool"))
        {
            var dq = graph.Producer(pool.Inputs[0])!;
            var q = graph.Consumers(pool.Outputs[0]).Single();
            Assert.AreEqual(dq.Inputs[1], q.Inputs[1]);
        }
        Assert.AreEqual("DequantizeLinear", graph.Producer("logits")!.OpType, "the output is dequantized");
        Assert.AreEqual(0, result.FloatOps.Count, string.Join(", ", result.FloatOps));
        Assert.IsTrue(result.Layers.All(l => l.Bits == 8 && l.Sqnr > 10 && l.MinScale > 0), string.Join("\n", result.Layers));
    }

    [TestMethod]
    public void Quantize_IsByteIdenticalForTheSameInputs()
    {
        TestData.RequireFashionMnist();
        var model = QdqFixtures.Optimized("lenet5.onnx");
        var options = new QdqOptions { Calibration = "entropy", MaxCalibrationSamples = 300, Seed = 7 };
        var a = QdqQuantizer.Quantize(model, QdqFixtures.Calibration(600), options);
        var b = QdqQuantizer.Quantize(model, QdqFixtures.Calibration(600), options);
        CollectionAssert.AreEqual(OnnxModel.ToBytes(a.Model), OnnxModel.ToBytes(b.Model));
        CollectionAssert.AreEqual(a.Steps.ToArray(), b.Steps.ToArray());
        StringAssert.Contains(a.Steps[0], "300 of 600");
    }

    [TestMethod]
    public void Quantize_LeavesItsInputModelAsItWas()
    {
        TestData.RequireFashionMnist();
        var model = QdqFixtures.Optimized("lenet300.onnx");
        var before = OnnxModel.ToBytes(model);
        QdqQuantizer.Quantize(model, QdqFixtures.Calibration(200), new QdqOptions());
        CollectionAssert.AreEqual(before, OnnxModel.ToBytes(model));
    }

    [TestMethod]
    public void PerTensor_StoresOneScalePerWeight_PerChannelOnePerOutputChannel()
    {
        TestData.RequireFashionMnist();
        var model = QdqFixtures.Optimized("lenet300.onnx");
        var perTensor = QdqQuantizer.Quantize(model, QdqFixtures.Calibration(200), new QdqOptions { PerChannel = false });
        var perChannel = QdqFixtures.Default("lenet300.onnx");
        Assert.IsTrue(perTensor.Layers.All(l => l.MinScale == l.MaxScale), string.Join("\n", perTensor.Layers));
        Assert.IsTrue(perChannel.Layers.All(l => l.MinScale < l.MaxScale), string.Join("\n", perChannel.Layers));
        var f1 = WeightDequantizer(perTensor.Model, "/f1/Gemm");
        Assert.IsNull(f1.Attribute("axis"));
        Assert.AreEqual(0, perTensor.Model.Graph.Initializers[f1.Inputs[1]].Rank);
        Assert.AreEqual(300, perChannel.Model.Graph.Initializers[WeightDequantizer(perChannel.Model, "/f1/Gemm").Inputs[1]].Length);
        // Per-tensor costs precision, not correctness: ONNX Runtime still runs it.
        var images = QdqFixtures.TestSet().Batch(0, 64);
        Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(perTensor.Model), images)[0], new Executor(perTensor.Model).Run(images)[0], 0, 3 * OutputStep(perTensor.Model));
    }

    [TestMethod]
    public void FloatNodes_LeavesThatLayerFloat()
    {
        TestData.RequireFashionMnist();
        var model = QdqFixtures.Optimized("lenet5.onnx");
        var result = QdqQuantizer.Quantize(model, QdqFixtures.Calibration(300), new QdqOptions { FloatNodes = new HashSet<string> { "/f2/Gemm" } });
        var graph = result.Model.Graph;
        var f2 = graph.Nodes.Single(n => n.Name == "/f2/Gemm");
        Assert.AreEqual(DataType.Float, graph.Initializers[f2.Inputs[1]].DataType, "weight stays float");
        Assert.AreEqual(DataType.Float, graph.Initializers[f2.Inputs[2]].DataType, "bias stays float");
        Assert.IsFalse(graph.Consumers(f2.Outputs[0]).Any(n => n.OpType == "QuantizeLinear"), "no Q on its output");
        var layer = result.Layers.Single(l => l.Node == "/f2/Gemm");
        Assert.AreEqual(32, layer.Bits);
        Assert.AreEqual(4L * (84 * 120 + 84), layer.Bytes);
        Assert.IsTrue(result.FloatOps.Contains("/f2/Gemm (Gemm)"));
        Assert.AreEqual(4, result.Layers.Count(l => l.Bits == 8));
        var images = QdqFixtures.TestSet().Batch(0, 64);
        Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(result.Model), images)[0], new Executor(result.Model).Run(images)[0], 0, 3 * OutputStep(result.Model));
    }

    [TestMethod]
    public void WeightOnly_NeedsNoCalibration_AndQuantizesOnlyWeights()
    {
        var model = QdqFixtures.Optimized("lenet300.onnx");
        var result = QdqQuantizer.Quantize(model, null, new QdqOptions { Activations = false });
        var graph = result.Model.Graph;
        Assert.AreEqual(3, graph.Nodes.Count(n => n.OpType == "DequantizeLinear"));
        Assert.AreEqual(0, graph.Nodes.Count(n => n.OpType == "QuantizeLinear"));
        Assert.IsTrue(result.Layers.All(l => l.Bits == 8 && double.IsNaN(l.Sqnr)));
        var x = RandomTensors.Uniform(3, 0f, 1f, 4, 1, 28, 28);
        Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(result.Model), x)[0], new Executor(result.Model).Run(x)[0], 1e-4, 1e-4);
    }

    [TestMethod]
    public void StaticInt8_WithoutCalibrationData_IsAnError()
    {
        var model = QdqFixtures.Optimized("lenet300.onnx");
        var e = Assert.ThrowsExactly<CompressBuildException>(() => QdqQuantizer.Quantize(model, null, new QdqOptions()));
        StringAssert.Contains(e.Message, "CalibrationData");
    }

    private static Node WeightDequantizer(Model model, string layer)
    {
        var node = model.Graph.Nodes.Single(n => n.Name == layer);
        return model.Graph.Producer(node.Inputs[1])!;
    }

    // The quantization step of the model's output: the scale of its final DequantizeLinear.
    private static float OutputStep(Model model)
    {
        var dq = model.Graph.Producer(model.Graph.Outputs[0].Name)!;
        return model.Graph.Initializers[dq.Inputs[1]].Floats[0];
    }
}
