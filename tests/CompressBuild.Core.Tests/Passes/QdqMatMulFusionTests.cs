using CompressBuild.Core.Execution;
using CompressBuild.Core.Passes;

namespace CompressBuild.Core.Tests.Passes;

/// <summary>
/// DQ → MatMul(DQ(w)) [→ Add(bias)] → Q with an activation of rank 1 or above 2 fuses into
/// Reshape → QGemm → Reshape on the quantized values. All scales are powers of two, so the float QDQ
/// path computes every product, sum and rescale exactly: fused and unfused must agree bit for bit.
/// </summary>
[TestClass]
public sealed class QdqMatMulFusionTests
{
    private const int K = 8, N = 5;
    private const float InputScale = 1f / 16, OutputScale = 1f / 4;

    // x → Q/DQ (uint8) → MatMul(DQ(int8 w, per-column scales 2^-5..2^-7)) [→ Add(b)] → Q/DQ → y.
    private static Model MatMul(object[] shape, bool bias, bool quantizeOutput = true)
    {
        var b = new ModelBuilder(13);
        var rng = new Random(5);
        var x = b.Input("x", DataType.Float, shape);
        string Scalar<T>(string name, T v) where T : unmanaged => b.Initializer(name, Tensor.FromArray(new[] { v }, []));
        var (xs, xz, ys, yz) = (Scalar("xs", InputScale), Scalar("xz", (byte)128), Scalar("ys", OutputScale), Scalar("yz", (byte)100));
        var scales = Enumerable.Range(0, N).Select(j => MathF.Pow(2, -5 - j % 3)).ToArray();
        var wq = Enumerable.Range(0, K * N).Select(_ => (sbyte)rng.Next(-64, 64)).ToArray();
        var w = b.Node("DequantizeLinear", [b.Initializer("wq", Tensor.FromArray(wq, K, N)), b.Initializer("ws", Tensor.FromArray(scales, N)),
            b.Initializer("wz", Tensor.FromArray(new sbyte[N], N))], NodeAttribute.Int("axis", 1));
        var xq = b.Node("DequantizeLinear", [b.Node("QuantizeLinear", [x, xs, xz]), xs, xz]);
        var y = b.Node("MatMul", [xq, w]);
        // Whole multiples of the accumulator's unit (input scale · column scale), as the quantizer stores biases.
        if (bias) y = b.Node("Add", [y, b.Initializer("b", Enumerable.Range(0, N).Select(j => rng.Next(-300, 300) * InputScale * scales[j]).ToArray(), N)]);
        b.Output(quantizeOutput ? b.Node("DequantizeLinear", [b.Node("QuantizeLinear", [y, ys, yz]), ys, yz]) : y);
        return b.Build();
    }

    private static Model Fused(Model qdq)
    {
        var fused = OnnxModel.Parse(OnnxModel.ToBytes(qdq));
        PassPipeline.IntegerInference().Run(fused);
        return fused;
    }

    private static List<string> Ops(Model m) => m.Graph.Nodes.Select(n => n.OpType).ToList();

    [TestMethod]
    [DataRow(false, new[] { 8 }, new[] { 8 }, DisplayName = "rank 1")]
    [DataRow(false, new[] { 2, 3, 8 }, new[] { 2, 3, 8 }, DisplayName = "rank 3")]
    [DataRow(true, new[] { -1, 3, 8 }, new[] { 4, 3, 8 }, DisplayName = "rank 3, free batch, bias Add")]
    [DataRow(true, new[] { 2, 2, 3, 8 }, new[] { 2, 2, 3, 8 }, DisplayName = "rank 4, bias Add")]
    public void MatMulOfAnotherRank_BecomesReshapedQGemm_ThatMatchesTheQdqModelExactly(bool bias, int[] declared, int[] actual)
    {
        var qdq = MatMul(declared.Select(d => d < 0 ? (object)"batch" : d).ToArray(), bias);
        var fused = Fused(qdq);
        CollectionAssert.AreEqual(new[] { "QuantizeLinear", "Reshape", "QGemm", "Reshape", "DequantizeLinear" }, Ops(fused), string.Join(", ", Ops(fused)));
        var qgemm = fused.Graph.Nodes.Single(n => n.OpType == "QGemm");
        Assert.AreEqual(bias, qgemm.HasInput(6), "the bias Add joins the accumulator");

        var x = RandomTensors.Uniform(9, -8f, 8f, actual);
        var expected = new Executor(qdq).Run(x)[0];
        var ours = new Executor(fused).Run(x)[0];
        CollectionAssert.AreEqual(expected.Shape, ours.Shape);
        Numerics.AssertClose(expected, ours, 0, 0, "fused vs QDQ (ours)");
        Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(qdq), x)[0], ours, 0, 0, "fused (ours) vs QDQ (ONNX Runtime)");
        Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(fused), x)[0], ours, 0, 0, "fused: ours vs ONNX Runtime");
        int inside = ours.Floats.Count(v => v > -100 * OutputScale && v < 155 * OutputScale);
        Assert.IsTrue(inside > ours.Length * 0.9, "outputs saturate: the comparison says little");
    }

    [TestMethod]
    public void BiasAdd_WithoutOutputQuantization_StaysAFloatAdd()
    {
        var fused = Fused(MatMul([2, 3, K], bias: true, quantizeOutput: false));
        CollectionAssert.AreEqual(new[] { "QuantizeLinear", "Reshape", "QGemm", "Reshape", "Add" }, Ops(fused), string.Join(", ", Ops(fused)));
    }
}
