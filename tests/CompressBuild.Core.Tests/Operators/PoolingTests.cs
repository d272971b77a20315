using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

[TestClass]
public sealed class PoolingTests
{
    private static NodeAttribute Ints(string name, params long[] v) => NodeAttribute.Ints(name, v);

    private static NodeAttribute Int(string name, long v) => NodeAttribute.Int(name, v);

    private static NodeAttribute AutoPad(string mode) => NodeAttribute.String("auto_pad", mode);

    // Distinct values at least 0.05 apart, so finite differences never swap a maximum.
    private static Tensor Separated(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var v = Enumerable.Range(0, ShapeMath.ElementCount(shape)).Select(i => 0.05f * i - 3f).OrderBy(_ => rng.Next()).ToArray();
        return Tensor.FromArray(v, shape);
    }

    // ONNX Runtime has no double kernels for AveragePool and the global pools: our double result must match its float one.
    private static void DoubleMatchesFloatOnnxRuntime(string op, int opset, Tensor x, params NodeAttribute[] attrs)
    {
        var expected = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(OpHarness.SingleNode(op, opset, [x], attrs)), x)[0];
        var xd = Tensor.FromArray(x.Floats.Select(v => (double)v).ToArray(), x.Shape);
        var actual = new Executor(OpHarness.SingleNode(op, opset, [xd], attrs)).Run(xd)[0];
        Assert.AreEqual(DataType.Double, actual.DataType);
        Numerics.AssertClose(expected, Tensor.FromArray(actual.ArrayOf<double>().Select(v => (float)v).ToArray(), actual.Shape), 1e-6, 1e-6);
    }

    private static void Pool(string op, int opset, Tensor x, params NodeAttribute[] attrs) =>
        OpHarness.AssertMatchesOnnxRuntime(op, opset, [x], attrs);

    [TestMethod]
    [DataRow("MaxPool", 12)]
    [DataRow("AveragePool", 11)]
    public void Pool_1D2D3DWithPadsAndStrides_MatchOnnxRuntime(string op, int opset)
    {
        Pool(op, opset, RandomTensors.Uniform(1, -1f, 1f, 2, 3, 17), Ints("kernel_shape", 3), Ints("strides", 2), Ints("pads", 1, 1));
        Pool(op, opset, RandomTensors.Uniform(2, -1f, 1f, 2, 3, 9, 10), Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        Pool(op, opset, RandomTensors.Uniform(3, -1f, 1f, 2, 3, 9, 10), Ints("kernel_shape", 3, 2), Ints("pads", 1, 0, 2, 1), Ints("strides", 2, 3));
        Pool(op, opset, RandomTensors.Uniform(4, -1f, 1f, 1, 2, 6, 7, 8), Ints("kernel_shape", 2, 3, 2), Ints("strides", 2, 1, 2), Ints("pads", 1, 1, 0, 0, 1, 1));
        Pool(op, opset, RandomTensors.Uniform(5, -1f, 1f, 2, 2, 5, 5), Ints("kernel_shape", 5, 5), Ints("pads", 2, 2, 2, 2));
    }

    [TestMethod]
    [DataRow("MaxPool", 12, "SAME_UPPER")]
    [DataRow("MaxPool", 12, "SAME_LOWER")]
    [DataRow("MaxPool", 12, "VALID")]
    [DataRow("AveragePool", 11, "SAME_UPPER")]
    [DataRow("AveragePool", 11, "SAME_LOWER")]
    [DataRow("AveragePool", 11, "VALID")]
    [DataRow("AveragePool", 7, "SAME_UPPER")]
    [DataRow("MaxPool", 8, "SAME_LOWER")]
    public void Pool_AutoPad_MatchesOnnxRuntime(string op, int opset, string mode)
    {
        var x = RandomTensors.Uniform(6, -1f, 1f, 2, 3, 10, 9);
        Pool(op, opset, x, AutoPad(mode), Ints("kernel_shape", 3, 2));
        Pool(op, opset, x, AutoPad(mode), Ints("kernel_shape", 3, 4), Ints("strides", 2, 3));
        Pool(op, opset, RandomTensors.Uniform(7, -1f, 1f, 1, 2, 7), AutoPad(mode), Ints("kernel_shape", 2), Ints("strides", 3));
    }

    [TestMethod]
    [DataRow("MaxPool", 12)]
    [DataRow("MaxPool", 10)]
    [DataRow("AveragePool", 11)]
    [DataRow("AveragePool", 10)]
    public void Pool_CeilMode_MatchesOnnxRuntime(string op, int opset)
    {
        var x = RandomTensors.Uniform(8, -1f, 1f, 2, 2, 10, 11);
        Pool(op, opset, x, Int("ceil_mode", 1), Ints("kernel_shape", 3, 3), Ints("strides", 2, 2));
        Pool(op, opset, x, Int("ceil_mode", 1), Ints("kernel_shape", 2, 3), Ints("strides", 3, 2), Ints("pads", 1, 0, 1, 1));
        // Input 4, kernel 2, stride 2, pads 1/1: ceil gives 3 windows starting at -1, 1, 3; the spec
        // also admits one starting at 5, in the end padding, which must be dropped.
        Pool(op, opset, RandomTensors.Uniform(9, -1f, 1f, 1, 2, 4, 4), Int("ceil_mode", 1), Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1));
        // Input 5, kernel 3, stride 3, pads 0/2: ceil((5 + 2 - 3) / 3) + 1 = 3, but the third window would start at 6,
        // in the end padding, so there are 2.
        Pool(op, opset, RandomTensors.Uniform(10, -1f, 1f, 1, 2, 5), Int("ceil_mode", 1), Ints("kernel_shape", 3), Ints("strides", 3), Ints("pads", 0, 2));
    }

    [TestMethod]
    public void Pool_CeilModeLastWindowStartingInEndPadding_IsDropped()
    {
        // in 4 + pads 1/1, kernel 2, stride 2: ceil((4 + 2 - 2) / 2) + 1 = 3; no window starts at 5 ≥ 4 + 1.
        // in 5 + pads 0/3, kernel 2, stride 3: ceil((5 + 3 - 2) / 3) + 1 = 3, but the third window would
        // start at 6 ≥ 5 + 0, so there are 2.
        var x = RandomTensors.Uniform(11, -1f, 1f, 1, 1, 5);
        var attrs = new[] { Int("ceil_mode", 1), Ints("kernel_shape", 2), Ints("strides", 3), Ints("pads", 0, 3) };
        foreach (var op in new[] { "MaxPool", "AveragePool" })
        {
            var y = new Executor(OpHarness.SingleNode(op, 12, [x], attrs)).Run(x)[0];
            CollectionAssert.AreEqual(new[] { 1, 1, 2 }, y.Shape, op);
        }
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    public void AveragePool_CountIncludePadWithPadsAndCeilMode_MatchesOnnxRuntime(int countPad)
    {
        var x = RandomTensors.Uniform(12, -1f, 1f, 2, 3, 9, 8);
        Pool("AveragePool", 11, x, Int("count_include_pad", countPad), Ints("kernel_shape", 3, 3), Ints("pads", 1, 2, 2, 1));
        Pool("AveragePool", 11, x, Int("count_include_pad", countPad), Ints("kernel_shape", 3, 2), Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2), Int("ceil_mode", 1));
        Pool("AveragePool", 7, x, Int("count_include_pad", countPad), Ints("kernel_shape", 2, 2), Ints("pads", 1, 1, 0, 0));
        Pool("AveragePool", 11, RandomTensors.Uniform(13, -1f, 1f, 1, 2, 5, 4, 6), Int("count_include_pad", countPad), Ints("kernel_shape", 2, 3, 3), Ints("pads", 1, 1, 1, 0, 1, 1));
        Pool("AveragePool", 11, x, Int("count_include_pad", countPad), Ints("kernel_shape", 3, 4), AutoPad("SAME_LOWER"), Ints("strides", 2, 1));
    }

    [TestMethod]
    public void MaxPool_Dilations_MatchOnnxRuntime()
    {
        var x = RandomTensors.Uniform(14, -1f, 1f, 2, 2, 11, 10);
        Pool("MaxPool", 12, x, Ints("kernel_shape", 2, 3), Ints("dilations", 2, 2));
        Pool("MaxPool", 12, x, Ints("kernel_shape", 3, 2), Ints("dilations", 3, 2), Ints("strides", 2, 1), Ints("pads", 2, 1, 2, 1));
        Pool("MaxPool", 10, x, Ints("kernel_shape", 2, 2), Ints("dilations", 2, 3), Int("ceil_mode", 1), Ints("strides", 2, 2));
        Pool("MaxPool", 12, RandomTensors.Uniform(15, -1f, 1f, 1, 2, 9), Ints("kernel_shape", 3), Ints("dilations", 2), Ints("pads", 1, 1));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    public void MaxPool_IndicesInStorageOrder_MatchOnnxRuntime(int order)
    {
        var attrs = new[] { Int("storage_order", order), Ints("kernel_shape", 3, 2), Ints("strides", 2, 2), Ints("pads", 1, 0, 1, 1) };
        OpHarness.AssertMatchesOnnxRuntime("MaxPool", 12, [Separated(16, 2, 3, 7, 6)], attrs, outputs: 2);
        OpHarness.AssertMatchesOnnxRuntime("MaxPool", 8, [Separated(17, 2, 2, 5, 6)], [Int("storage_order", order), Ints("kernel_shape", 2, 2)], outputs: 2);
        OpHarness.AssertMatchesOnnxRuntime("MaxPool", 12, [Separated(18, 1, 2, 4, 5, 6)],
            [Int("storage_order", order), Ints("kernel_shape", 2, 2, 3), Ints("strides", 1, 2, 2)], outputs: 2);
        OpHarness.AssertMatchesOnnxRuntime("MaxPool", 12, [Separated(19, 2, 2, 9)], [Int("storage_order", order), Ints("kernel_shape", 3), Ints("dilations", 2)], outputs: 2);
    }

    [TestMethod]
    public void Pools_IntegerDoubleAndHalfTypes_MatchOnnxRuntime()
    {
        var rng = new Random(20);
        var u8 = Tensor.FromArray(Enumerable.Range(0, 2 * 2 * 6 * 7).Select(_ => (byte)rng.Next(256)).ToArray(), 2, 2, 6, 7);
        var i8 = Tensor.FromArray(Enumerable.Range(0, 2 * 2 * 6 * 7).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray(), 2, 2, 6, 7);
        var f64 = Tensor.FromArray(Enumerable.Range(0, 2 * 2 * 6 * 7).Select(_ => rng.NextDouble() - 0.5).ToArray(), 2, 2, 6, 7);
        var f32 = RandomTensors.Uniform(24, -1f, 1f, 2, 2, 6, 7);
        var f16 = Tensor.FromArray(Enumerable.Range(0, 2 * 2 * 6 * 7).Select(_ => (Half)(rng.NextDouble() - 0.5)).ToArray(), 2, 2, 6, 7);
        var attrs = new[] { Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 1) };
        foreach (var x in new[] { u8, i8, f64, f16 }) OpHarness.AssertMatchesOnnxRuntime("MaxPool", 12, [x], attrs);
        DoubleMatchesFloatOnnxRuntime("AveragePool", 11, f32, attrs);
        // int8/uint8 arrived in opset 12.
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("MaxPool", 11, [u8], attrs)).Run(u8));
    }

    [TestMethod]
    public void MaxPool_OpsetGatedAttributes_AreRejectedBeforeTheirOpset()
    {
        var x = RandomTensors.Uniform(21, -1f, 1f, 1, 1, 4, 4);
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("MaxPool", 8, [x], [Ints("kernel_shape", 2, 2), Int("ceil_mode", 1)])));
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("MaxPool", 8, [x], [Ints("kernel_shape", 2, 2), Ints("dilations", 1, 1)])));
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("MaxPool", 7, [x], [Ints("kernel_shape", 2, 2), Int("storage_order", 1)])));
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("AveragePool", 11, [x], [Ints("kernel_shape", 2, 2), Ints("dilations", 1, 1)])));
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("AveragePool", 11, [x], [Ints("strides", 2, 2)])));
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("MaxPool", 12, [x], [Ints("kernel_shape", 2)])).Run(x));
    }

    [TestMethod]
    [DataRow("GlobalAveragePool")]
    [DataRow("GlobalMaxPool")]
    public void GlobalPool_1D2D3DAndDouble_MatchOnnxRuntime(string op)
    {
        foreach (var shape in new[] { new[] { 2, 3, 7 }, new[] { 2, 3, 5, 6 }, new[] { 1, 4, 3, 4, 5 } })
            Pool(op, 1, RandomTensors.Uniform(22, -1f, 1f, shape));
        DoubleMatchesFloatOnnxRuntime(op, 1, RandomTensors.Uniform(23, -1f, 1f, 2, 3, 4, 5));
    }

    [TestMethod]
    public void Pools_SymbolicBatch_InferOutputShapes()
    {
        var cases = new (string Op, NodeAttribute[] Attrs, Dim[] X, string Expected)[]
        {
            ("MaxPool", [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)], [Dim.Symbolic("N"), 6, 28, 28], "[N,6,14,14]"),
            ("AveragePool", [Ints("kernel_shape", 3), Int("ceil_mode", 1), Ints("strides", 2)], [Dim.Symbolic("N"), 3, 10], "[N,3,5]"),
            ("GlobalAveragePool", [], [Dim.Symbolic("N"), 8, Dim.Symbolic("H"), 7], "[N,8,1,1]"),
            ("GlobalMaxPool", [], [Dim.Symbolic("N"), 8, 5, 7, 2], "[N,8,1,1,1]"),
        };
        foreach (var (op, attrs, x, expected) in cases)
        {
            var node = new Node(op, ["x"], ["y"]);
            node.Attributes.AddRange(attrs);
            var kernel = OperatorRegistry.Create(node, 13, "test");
            var ctx = new ShapeContext(kernel, [new ValueFacts(DataType.Float, x)], 1);
            kernel.InferShapes(ctx);
            Assert.AreEqual(expected, Dim.Format(ctx.Output(0)!.Shape!), op);
        }
        var pool = OperatorRegistry.Create(new Node("MaxPool", ["x"], ["y"]) { Attributes = { Ints("kernel_shape", 2, 2) } }, 13, "test");
        var symbolic = new ShapeContext(pool, [new ValueFacts(DataType.Float, [Dim.Symbolic("N"), 3, Dim.Symbolic("H"), 8])], 1);
        StringAssert.Contains(Assert.ThrowsExactly<UnresolvedDimException>(() => pool.InferShapes(symbolic)).Message, "spatial");
    }

    [TestMethod]
    public void MaxPool_Gradient_RoutesThroughTheArgmax()
    {
        OpHarness.AssertGradients("MaxPool", 12, [Separated(30, 2, 2, 6, 7)], [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)]);
        OpHarness.AssertGradients("MaxPool", 12, [Separated(31, 2, 2, 7, 6)], [Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Ints("dilations", 1, 2), Int("ceil_mode", 1), Ints("strides", 2, 2)]);
        OpHarness.AssertGradients("MaxPool", 12, [Separated(32, 1, 2, 4, 5, 4)], [Ints("kernel_shape", 2, 2, 2), Int("storage_order", 1)], outputs: 2);
        OpHarness.AssertGradients("MaxPool", 12, [Separated(33, 2, 3, 11)], [Ints("kernel_shape", 3), Ints("strides", 2), AutoPad("SAME_UPPER")]);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    public void AveragePool_Gradient_DividesByTheForwardCounts(int countPad)
    {
        OpHarness.AssertGradients("AveragePool", 11, [RandomTensors.Uniform(34, -1f, 1f, 2, 2, 7, 6)],
            [Ints("kernel_shape", 3, 2), Ints("pads", 1, 1, 2, 0), Ints("strides", 2, 1), Int("count_include_pad", countPad), Int("ceil_mode", 1)]);
        OpHarness.AssertGradients("AveragePool", 11, [RandomTensors.Uniform(35, -1f, 1f, 1, 2, 4, 5, 3)],
            [Ints("kernel_shape", 2, 2, 2), Ints("pads", 1, 0, 1, 0, 1, 1), Int("count_include_pad", countPad)]);
        OpHarness.AssertGradients("AveragePool", 11, [RandomTensors.Uniform(36, -1f, 1f, 2, 3, 9)],
            [Ints("kernel_shape", 4), AutoPad("SAME_LOWER"), Int("count_include_pad", countPad)]);
    }

    [TestMethod]
    public void GlobalPools_Gradients_MatchFiniteDifferences()
    {
        OpHarness.AssertGradients("GlobalAveragePool", 1, [RandomTensors.Uniform(37, -1f, 1f, 2, 3, 4, 5)]);
        OpHarness.AssertGradients("GlobalAveragePool", 1, [RandomTensors.Uniform(38, -1f, 1f, 2, 3, 7)]);
        OpHarness.AssertGradients("GlobalMaxPool", 1, [Separated(39, 2, 3, 4, 5)]);
        OpHarness.AssertGradients("GlobalMaxPool", 1, [Separated(40, 1, 2, 3, 2, 4)]);
    }

    [TestMethod]
    public void Pools_LargeBatchOnAllCores_MatchOnnxRuntime()
    {
        var x = RandomTensors.Uniform(41, -1f, 1f, 32, 6, 28, 28);
        Pool("MaxPool", 12, x, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        Pool("AveragePool", 11, x, Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1));
        OpHarness.AssertGradients("MaxPool", 12, [Separated(42, 16, 4, 12, 12)], [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)],
            options: new RunOptions { MaxDegreeOfParallelism = 3 });
    }
}
