using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

[TestClass]
public sealed class MatMulTests
{
    // (A shape, B shape): 1-D promotion on either side, plain 2-D, batched with shared and broadcast batches.
    private static readonly (int[] A, int[] B)[] Shapes =
    {
        (new[] { 4 }, new[] { 4 }),
        (new[] { 4 }, new[] { 4, 3 }),
        (new[] { 5, 4 }, new[] { 4 }),
        (new[] { 5, 4 }, new[] { 4, 3 }),
        (new[] { 2, 5, 4 }, new[] { 4, 3 }),
        (new[] { 5, 4 }, new[] { 2, 4, 3 }),
        (new[] { 2, 5, 4 }, new[] { 2, 4, 3 }),
        (new[] { 2, 1, 5, 4 }, new[] { 3, 4, 6 }),
        (new[] { 4 }, new[] { 2, 3, 4, 5 }),
        (new[] { 2, 3, 5, 4 }, new[] { 4 }),
        (new[] { 1, 5, 4 }, new[] { 3, 1, 4, 2 }),
    };

    [TestMethod]
    public void MatMul_PromotionAndBatchBroadcast_MatchOnnxRuntime()
    {
        int seed = 1;
        foreach (var (sa, sb) in Shapes)
        {
            var a = RandomTensors.Uniform(seed++, -1f, 1f, sa);
            var b = RandomTensors.Uniform(seed++, -1f, 1f, sb);
            foreach (int opset in new[] { 1, 9, 13 })
                OpHarness.AssertMatchesOnnxRuntime("MatMul", opset, new[] { a, b });
        }
    }

    [TestMethod]
    public void MatMul_PromotionAndBatchBroadcast_GradientsMatchFiniteDifferences()
    {
        int seed = 100;
        foreach (var (sa, sb) in Shapes)
        {
            var a = RandomTensors.Uniform(seed++, -1f, 1f, sa);
            var b = RandomTensors.Uniform(seed++, -1f, 1f, sb);
            OpHarness.AssertGradients("MatMul", 13, new[] { a, b });
        }
    }

    [TestMethod]
    public void MatMul_LargeAndManySmallBatches_MatchOnnxRuntime()
    {
        // One big product (blocked, row-parallel SGEMM) and many small ones (parallel over batches).
        var a = RandomTensors.Uniform(20, -1f, 1f, 200, 300);
        var b = RandomTensors.Uniform(21, -1f, 1f, 300, 170);
        OpHarness.AssertMatchesOnnxRuntime("MatMul", 13, new[] { a, b }, atol: 1e-4);
        var sa = RandomTensors.Uniform(22, -1f, 1f, 64, 7, 9);
        var sb = RandomTensors.Uniform(23, -1f, 1f, 64, 9, 11);
        OpHarness.AssertMatchesOnnxRuntime("MatMul", 13, new[] { sa, sb });
        OpHarness.AssertGradients("MatMul", 13, new[] { sa, sb }, options: new RunOptions { MaxDegreeOfParallelism = 4 });
    }

    [TestMethod]
    public void MatMul_IntegerAndDoubleTypes_MatchOnnxRuntime()
    {
        var rng = new Random(30);
        var ai = Tensor.FromArray(Enumerable.Range(0, 24).Select(_ => rng.Next(-9, 10)).ToArray(), 2, 3, 4);
        var bi = Tensor.FromArray(Enumerable.Range(0, 20).Select(_ => rng.Next(-9, 10)).ToArray(), 4, 5);
        OpHarness.AssertMatchesOnnxRuntime("MatMul", 13, new[] { ai, bi });
        var al = Tensor.FromArray(ai.ArrayOf<int>().Select(v => (long)v).ToArray(), 2, 3, 4);
        var bl = Tensor.FromArray(bi.ArrayOf<int>().Select(v => (long)v).ToArray(), 4, 5);
        OpHarness.AssertMatchesOnnxRuntime("MatMul", 13, new[] { al, bl });
        var ad = Tensor.FromArray(Enumerable.Range(0, 12).Select(_ => rng.NextDouble()).ToArray(), 3, 4);
        var bd = Tensor.FromArray(Enumerable.Range(0, 8).Select(_ => rng.NextDouble()).ToArray(), 4, 2);
        OpHarness.AssertMatchesOnnxRuntime("MatMul", 9, new[] { ad, bd });
    }

    [TestMethod]
    public void MatMul_EmptyInnerDimension_GivesZeros()
    {
        var a = Tensor.Zeros(DataType.Float, new[] { 3, 0 });
        var b = Tensor.Zeros(DataType.Float, new[] { 0, 2 });
        var y = OpHarness.AssertMatchesOnnxRuntime("MatMul", 13, new[] { a, b });
        CollectionAssert.AreEqual(new float[6], y[0].Floats);
    }

    [TestMethod]
    public void MatMul_SymbolicBatch_InfersSymbolicOutput()
    {
        var batch = Dim.Symbolic("batch");
        var a = new ValueFacts(DataType.Float, new[] { batch, Dim.Of(16), Dim.Of(64) });
        var w = new ValueFacts(DataType.Float, new[] { Dim.Of(64), Dim.Of(10) });
        Assert.AreEqual("[batch,16,10]", Dim.Format(ReduceTests.InferShape("MatMul", 13, new[] { a, w }, Array.Empty<NodeAttribute>())));
        var bb = new ValueFacts(DataType.Float, new[] { Dim.Of(1), Dim.Of(64), Dim.Of(3) });
        Assert.AreEqual("[batch,16,3]", Dim.Format(ReduceTests.InferShape("MatMul", 13, new[] { a, bb }, Array.Empty<NodeAttribute>())));
        var v = new ValueFacts(DataType.Float, new[] { Dim.Of(64) });
        Assert.AreEqual("[batch,16]", Dim.Format(ReduceTests.InferShape("MatMul", 13, new[] { a, v }, Array.Empty<NodeAttribute>())));
    }

    [TestMethod]
    public void MatMul_MismatchedShapesOrTypes_ThrowCompressBuildErrors()
    {
        var a = RandomTensors.Uniform(40, -1f, 1f, 3, 4);
        var b = RandomTensors.Uniform(41, -1f, 1f, 5, 2);
        var inner = Assert.ThrowsExactly<CompressBuildException>(() => new Execution.Executor(OpHarness.SingleNode("MatMul", 13, new[] { a, b })).Run(a, b));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, inner.Code);
        var ba = RandomTensors.Uniform(42, -1f, 1f, 2, 3, 4);
        var bb = RandomTensors.Uniform(43, -1f, 1f, 3, 4, 2);
        var batch = Assert.ThrowsExactly<CompressBuildException>(() => new Execution.Executor(OpHarness.SingleNode("MatMul", 13, new[] { ba, bb })).Run(ba, bb));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, batch.Code);
        var h = Tensor.FromArray(new Half[12], 3, 4);
        var hb = Tensor.FromArray(new Half[8], 4, 2);
        var type = Assert.ThrowsExactly<CompressBuildException>(() => new Execution.Executor(OpHarness.SingleNode("MatMul", 13, new[] { h, hb })).Run(h, hb));
        Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, type.Code);
    }
}
