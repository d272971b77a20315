using CompressBuild.Core.Data;
using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;
using CompressBuild.Core.Passes;
using CompressBuild.Core.Quantization;

namespace CompressBuild.Core.Tests.Passes;

/// <summary>
/// QDQ models written by hand (as ONNX Runtime's quantizer lays them out) turned into integer
/// operators: the graph that results, and its outputs in our executor and ONNX Runtime against the
/// QDQ model it came from.
/// </summary>
[TestClass]
public sealed class QdqFusionPassTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Writes QuantizeLinear/DequantizeLinear pairs and quantized weights into a ModelBuilder.</summary>
    internal sealed class QdqBuilder(ModelBuilder b)
    {
        private int _id;

        public ModelBuilder B => b;

        // Per-tensor parameters as initializers; returns (scale, zero point) names.
        public (string Scale, string Zero) Params(float scale, byte zero) =>
            (b.Initializer($"s{_id}", Tensor.Scalar(scale)), b.Initializer($"z{_id++}", Tensor.Scalar(zero)));

        public string Q(string x, (string Scale, string Zero) p) => b.Node("QuantizeLinear", [x, p.Scale, p.Zero]);

        public string Dq(string q, (string Scale, string Zero) p) => b.Node("DequantizeLinear", [q, p.Scale, p.Zero]);

        public string QDq(string x, (string Scale, string Zero) p) => Dq(Q(x, p), p);

        // Symmetric int8 weights (7-bit: ONNX Runtime's AVX2 u8·s8 kernel is exact only there) and scales
        // per channel along axis, or one scale (the scales returned are then that one, per channel).
        public string Weights(int seed, int[] shape, int axis, out float[] scales, bool perTensor = false)
        {
            var rng = new Random(seed);
            var w = Enumerable.Range(0, ShapeMath.ElementCount(shape)).Select(_ => (sbyte)rng.Next(-64, 64)).ToArray();
            scales = Enumerable.Range(0, shape[axis]).Select(_ => 0.004f + 0.01f * (float)rng.NextDouble()).ToArray();
            if (perTensor)
            {
                Array.Fill(scales, 0.008f);
                return b.Node("DequantizeLinear", [b.Initializer($"w{_id}", Tensor.FromArray(w, shape)), b.Initializer($"ws{_id}", Tensor.Scalar(0.008f)),
                    b.Initializer($"wz{_id++}", Tensor.Scalar((sbyte)0))]);
            }
            int n = scales.Length;
            return b.Node("DequantizeLinear", [b.Initializer($"w{_id}", Tensor.FromArray(w, shape)), b.Initializer($"ws{_id}", Tensor.FromArray(scales, n)),
                b.Initializer($"wz{_id++}", Tensor.FromArray(new sbyte[n], n))], NodeAttribute.Int("axis", axis));
        }

        // An int32 bias at the accumulator's scale (input scale · weight scale), as the quantizer stores it.
        public string Bias(int seed, float inputScale, float[] weightScales)
        {
            var rng = new Random(seed);
            int n = weightScales.Length;
            var q = Enumerable.Range(0, n).Select(_ => rng.Next(-2000, 2000)).ToArray();
            var s = weightScales.Select(ws => inputScale * ws).ToArray();
            return b.Node("DequantizeLinear", [b.Initializer($"b{_id}", Tensor.FromArray(q, n)), b.Initializer($"bs{_id}", Tensor.FromArray(s, n)),
                b.Initializer($"bz{_id++}", Tensor.FromArray(new int[n], n))], NodeAttribute.Int("axis", 0));
        }
    }

    internal const float InputScale = 2f / 255f, HiddenScale = 0.008f, OutputScale = 0.05f;

    // x → Q/DQ → Conv(3x3, pad 1) → activation → Q/DQ → MaxPool → Q/DQ → Flatten → Q/DQ → Gemm → Q/DQ → y.
    internal static Model ConvNet(Func<QdqBuilder, string, string>? activation = null, byte hiddenZero = 0, float hiddenScale = HiddenScale, bool perTensor = false)
    {
        var q = new QdqBuilder(new ModelBuilder(13));
        var b = q.B;
        var x = b.Input("x", DataType.Float, "batch", 1, 8, 8);
        var input = q.Params(InputScale, 128);
        var hidden = q.Params(hiddenScale, hiddenZero);
        var w1 = q.Weights(1, [4, 1, 3, 3], 0, out var ws1, perTensor);
        var conv = b.Node("Conv", [q.QDq(x, input), w1, q.Bias(2, InputScale, ws1)], NodeAttribute.Ints("pads", 1, 1, 1, 1));
        var act = (activation ?? ((qb, v) => qb.B.Node("Relu", [v])))(q, conv);
        var pool = b.Node("MaxPool", [q.QDq(act, hidden)], NodeAttribute.Ints("kernel_shape", 2, 2), NodeAttribute.Ints("strides", 2, 2));
        var flat = b.Node("Flatten", [q.QDq(pool, hidden)]);
        var w2 = q.Weights(3, [10, 64], 0, out var ws2, perTensor);
        var gemm = b.Node("Gemm", [q.QDq(flat, hidden), w2, q.Bias(4, hiddenScale, ws2)], NodeAttribute.Int("transB", 1));
        b.Output(q.QDq(gemm, q.Params(OutputScale, 128)), DataType.Float, "batch", 10);
        return b.Build();
    }

    internal static Model Fused(Model qdq)
    {
        var fused = OnnxModel.Parse(OnnxModel.ToBytes(qdq));
        PassPipeline.IntegerInference().Run(fused);
        return fused;
    }

    private static string[] Ops(Model m) => m.Graph.TopologicalOrder().Select(n => n.OpType).ToArray();

    private static Tensor Images(int seed, int count) => RandomTensors.Uniform(seed, -1f, 1f, count, 1, 8, 8);

    // The model's single output over a large input, in executor batches of 1,000.
    private static Tensor Logits(Model m, Tensor x)
    {
        var executor = new Executor(m);
        var data = new DataSet(x);
        var parts = Enumerable.Range(0, (data.Count + 999) / 1000).Select(i => executor.Run(data.Batch(i * 1000, Math.Min(1000, data.Count - i * 1000)))[0]).ToList();
        return Tensor.FromArray(parts.SelectMany(p => p.Floats).ToArray(), [data.Count, .. parts[0].Shape[1..]]);
    }

    private static Tensor Ours(Model m, Tensor x) => new Executor(m).Run([x], new RunOptions { MaxDegreeOfParallelism = 2 })[0];

    private static Tensor Ort(Model m, Tensor x) => OnnxRuntimeOracle.Run(OnnxModel.ToBytes(m), x)[0];

    // Fraction of outputs that differ, after asserting none differs by more than one quantization step.
    private static double MismatchRate(Tensor expected, Tensor actual, float step, string what)
    {
        var e = expected.Floats;
        var a = actual.Floats;
        Assert.AreEqual(e.Length, a.Length, what);
        int differ = 0;
        for (int i = 0; i < e.Length; i++)
        {
            float d = Math.Abs(e[i] - a[i]);
            Assert.IsTrue(d <= step * 1.001f, $"{what}: output {i} is {a[i]}, expected {e[i]} (more than one step {step})");
            if (d > 0) differ++;
        }
        return (double)differ / e.Length;
    }

    [TestMethod]
    public void ConvReluPoolFlattenGemm_BecomesIntegerOps_WithoutFloatWeights()
    {
        var fused = Fused(ConvNet());
        CollectionAssert.AreEqual(new[] { "QuantizeLinear", "QLinearConv", "MaxPool", "Flatten", "QGemm", "DequantizeLinear" }, Ops(fused));
        Assert.AreEqual("com.microsoft", fused.Graph.Nodes.Single(n => n.OpType == "QGemm").Domain);
        Assert.AreEqual(1L, fused.OpsetImports["com.microsoft"]);
        Assert.IsFalse(fused.Graph.Initializers.Values.Any(t => t.DataType == DataType.Float && t.Length > 10), "float weights remain");
    }

    [TestMethod]
    public void FusedModel_MatchesOnnxRuntimeExactly_AndTheQdqModelWithinOneStep()
    {
        var qdq = ConvNet();
        var fused = Fused(qdq);
        var x = Images(7, 256);
        var ours = Ours(fused, x);
        Numerics.AssertClose(Ort(fused, x), ours, 0, 0, "fused model: ours vs ONNX Runtime");
        double vsOurQdq = MismatchRate(Ours(qdq, x), ours, OutputScale, "fused vs QDQ (ours)");
        double vsOrtQdq = MismatchRate(Ort(qdq, x), ours, OutputScale, "fused vs QDQ (ONNX Runtime)");
        TestContext.WriteLine($"outputs differing by one step: {vsOurQdq:P2} vs our QDQ run, {vsOrtQdq:P2} vs ONNX Runtime's QDQ run");
        Assert.IsTrue(vsOurQdq <= 0.02, $"{vsOurQdq:P2} of outputs differ from the QDQ model");
        int inside = ours.Floats.Count(v => Math.Abs(v) < 127 * OutputScale);
        Assert.IsTrue(inside > ours.Length * 0.9, "outputs saturate: the comparison says little");
    }

    [TestMethod]
    public void PerTensorWeights_FuseToo()
    {
        var qdq = ConvNet(perTensor: true);
        var fused = Fused(qdq);
        CollectionAssert.AreEqual(new[] { "QuantizeLinear", "QLinearConv", "MaxPool", "Flatten", "QGemm", "DequantizeLinear" }, Ops(fused));
        var x = Images(11, 64);
        Numerics.AssertClose(Ort(fused, x), Ours(fused, x), 0, 0, "ours vs ONNX Runtime");
        Assert.IsTrue(MismatchRate(Ort(qdq, x), Ours(fused, x), OutputScale, "fused vs QDQ") <= 0.02);
    }

    [TestMethod]
    public void ClipAtTheOutputRange_IsAbsorbed()
    {
        // Clip(0, 6) before a uint8 output with scale 6/255 and zero point 0 is exactly the saturation.
        float scale = 6f / 255f;
        var qdq = ConvNet((q, v) => q.B.Node("Clip", [v, q.B.Initializer("lo", Tensor.Scalar(0f)), q.B.Initializer("hi", Tensor.Scalar(6f))]), 0, scale);
        var fused = Fused(qdq);
        CollectionAssert.AreEqual(new[] { "QuantizeLinear", "QLinearConv", "MaxPool", "Flatten", "QGemm", "DequantizeLinear" }, Ops(fused));
        var x = Images(8, 64);
        Numerics.AssertClose(Ort(fused, x), Ours(fused, x), 0, 0, "ours vs ONNX Runtime");
        MismatchRate(Ours(qdq, x), Ours(fused, x), OutputScale, "fused vs QDQ");
    }

    [TestMethod]
    public void ReluBeforeNonzeroZeroPoint_StaysFloat()
    {
        // With zero point 10, quantized 0 is not the lowest code: saturation cannot stand in for Relu.
        var qdq = ConvNet(hiddenZero: 10);
        var fused = Fused(qdq);
        var ops = Ops(fused);
        CollectionAssert.Contains(ops, "Conv");
        CollectionAssert.Contains(ops, "Relu");
        CollectionAssert.DoesNotContain(ops, "QLinearConv");
        CollectionAssert.Contains(ops, "QGemm");
        var x = Images(9, 64);
        MismatchRate(Ours(qdq, x), Ours(fused, x), OutputScale, "fused vs QDQ");
        Numerics.AssertClose(Ort(fused, x), Ours(fused, x), 0, 0, "ours vs ONNX Runtime");
    }

    [TestMethod]
    public void GemmWithoutOutputQuantization_BecomesFloatQGemm()
    {
        var q = new QdqBuilder(new ModelBuilder(13));
        var b = q.B;
        var x = b.Input("x", DataType.Float, "batch", 24);
        var p = q.Params(0.01f, 128);
        var w = q.Weights(5, [24, 7], 1, out _);
        b.Output(b.Node("MatMul", [q.QDq(x, p), w]), DataType.Float, "batch", 7);
        var qdq = b.Build();
        var fused = Fused(qdq);
        CollectionAssert.AreEqual(new[] { "QuantizeLinear", "QGemm" }, Ops(fused));
        var input = RandomTensors.Uniform(10, -1f, 1f, 32, 24);
        var ours = Ours(fused, input);
        Numerics.AssertClose(Ours(qdq, input), ours, 1e-5, 1e-6, "float QGemm vs QDQ MatMul");
        Numerics.AssertClose(Ort(fused, input), ours, 1e-6, 0, "ours vs ONNX Runtime");
    }

    [TestMethod]
    public void Fusion_IsDeterministic()
    {
        var a = OnnxModel.ToBytes(Fused(ConvNet()));
        var b = OnnxModel.ToBytes(Fused(ConvNet()));
        CollectionAssert.AreEqual(a, b);
    }

    private static readonly Lazy<(Model Qdq, Model Fused)> LeNet5Models = new(() =>
    {
        var (train, _) = TestData.FashionMnistTrain();
        var model = OnnxModel.Load(TestData.Model("lenet5.onnx"));
        PassPipeline.Optimize().Run(model);
        var qdq = QdqQuantizer.Quantize(model, new DataSet(new DataSet(train).Batch(0, 1000)), new QdqOptions()).Model;
        return (qdq, Fused(qdq));
    });

    /// <summary>The shared LeNet-5 quantized by <see cref="QdqQuantizer"/> (1,000 training images), and fused.</summary>
    internal static (Model Qdq, Model Fused) LeNet5()
    {
        TestData.RequireFashionMnist();
        return LeNet5Models.Value;
    }

    [TestMethod]
    public void LeNet5_QuantizedThenFused_KeepsTop1_AndAgreesWithOnnxRuntime()
    {
        var (qdq, fused) = LeNet5();
        var (test, labels) = TestData.FashionMnistTest();
        var ops = Ops(fused);
        Assert.AreEqual(2, ops.Count(o => o == "QLinearConv"), string.Join(" ", ops));
        Assert.AreEqual(3, ops.Count(o => o == "QGemm"), string.Join(" ", ops));
        CollectionAssert.DoesNotContain(ops, "Conv");
        CollectionAssert.DoesNotContain(ops, "Gemm");

        var qdqLogits = Logits(qdq, test);
        var ours = Logits(fused, test);
        double qdqTop1 = Numerics.Top1(qdqLogits, labels), fusedTop1 = Numerics.Top1(ours, labels);
        var predicted = Numerics.ArgMaxRows(ours);
        double Agreement(Model m) => predicted.Zip(Numerics.ArgMaxRows(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(m), test)[0])).Count(p => p.First == p.Second) / (double)predicted.Length;
        double withQdq = Agreement(qdq), withFused = Agreement(fused);
        // The logits leave through one DequantizeLinear: count the quantization steps they moved by.
        var output = fused.Graph.Nodes.Single(n => n.OpType == "DequantizeLinear");
        float step = fused.Graph.Initializers[output.Inputs[1]].Floats[0];
        var moved = qdqLogits.Floats.Zip(ours.Floats).Select(p => (int)MathF.Round(Math.Abs(p.First - p.Second) / step)).ToArray();
        TestContext.WriteLine($"LeNet-5 top-1: QDQ {qdqTop1:P2}, fused {fusedTop1:P2}; logits moved by one step {moved.Count(d => d == 1) / (double)moved.Length:P2}, by more {moved.Count(d => d > 1) / (double)moved.Length:P2} (max {moved.Max()}); " +
            $"argmax agreement with ONNX Runtime running the QDQ model {withQdq:P2}, the fused model {withFused:P2}");
        Assert.IsTrue(Math.Abs(fusedTop1 - qdqTop1) <= 0.001, $"fused top-1 {fusedTop1:P2} vs QDQ {qdqTop1:P2}");
        Assert.IsTrue(withQdq >= 0.99, $"argmax agrees with ONNX Runtime's run of the QDQ model on {withQdq:P2}");
        // ONNX Runtime runs explicit QLinearConv/QGemm with int8 weights through its AVX2 u8·s8 kernel, whose
        // saturating int16 pair sums are inexact for 8-bit weights (exact for 7-bit ones, see the tests above);
        // for QDQ models it shifts the weights to uint8 first, which is why the QDQ run is the oracle.
        Assert.IsTrue(withFused >= 0.95, $"argmax agrees with ONNX Runtime's run of the fused model on {withFused:P2}");
    }
}
