using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

[TestClass]
public sealed class ReduceTests
{
    private static readonly long[][] AxesCases = { new long[] { 1 }, new long[] { 0, 2 }, new long[] { -1 }, new long[] { 0, 1, 2 }, new long[] { -3, -1 } };

    // Axes go where the op's opset puts them: an input from 13 (ReduceSum) or 18 (the others).
    private static Tensor[] Reduce(string op, int opset, Tensor x, long[] axes, int keepdims, out NodeAttribute[] attrs)
    {
        bool asInput = opset >= (op == "ReduceSum" ? 13 : 18);
        attrs = Attrs(asInput ? null : axes, keepdims);
        return asInput ? new[] { x, Tensor.Int64Vector(axes) } : new[] { x };
    }

    // Distinct values at least 0.1 apart, so finite differences never swap a maximum.
    private static Tensor Separated(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var v = Enumerable.Range(0, ShapeMath.ElementCount(shape)).Select(i => 0.1f * i - 2f).OrderBy(_ => rng.Next()).ToArray();
        return Tensor.FromArray(v, shape);
    }

    private static NodeAttribute[] Attrs(long[]? axes, int keepdims)
    {
        var a = new List<NodeAttribute> { NodeAttribute.Int("keepdims", keepdims) };
        if (axes is not null) a.Add(NodeAttribute.Ints("axes", axes));
        return a.ToArray();
    }

    [TestMethod]
    [DataRow("ReduceSum", 11)]
    [DataRow("ReduceMean", 13)]
    [DataRow("ReduceMax", 13)]
    [DataRow("ReduceSum", 1)]
    [DataRow("ReduceMean", 1)]
    public void Reduce_AxesAttribute_KeepAndDropDims_MatchesOnnxRuntime(string op, int opset)
    {
        var x = RandomTensors.Uniform(1, -2f, 2f, 3, 4, 5);
        foreach (var axes in AxesCases.Append(null))
            foreach (int keep in new[] { 0, 1 })
            {
                if (opset < 11 && axes is not null && axes.Any(a => a < 0)) continue;
                OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x }, Attrs(axes, keep));
            }
    }

    [TestMethod]
    [DataRow("ReduceSum", 13)]
    [DataRow("ReduceMean", 18)]
    [DataRow("ReduceMax", 18)]
    public void Reduce_AxesInput_KeepAndDropDims_MatchesOnnxRuntime(string op, int opset)
    {
        var x = RandomTensors.Uniform(2, -2f, 2f, 3, 4, 5);
        foreach (var axes in AxesCases)
            foreach (int keep in new[] { 0, 1 })
                OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x, Tensor.Int64Vector(axes) }, Attrs(null, keep));
        // No axes input: every axis.
        OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x }, Attrs(null, 0));
    }

    [TestMethod]
    [DataRow("ReduceSum", 13)]
    [DataRow("ReduceMean", 18)]
    [DataRow("ReduceMax", 18)]
    public void Reduce_EmptyAxesInput_NoopOrAll_MatchesOnnxRuntime(string op, int opset)
    {
        var x = RandomTensors.Uniform(3, -2f, 2f, 3, 2, 2);
        var empty = Tensor.FromArray(Array.Empty<long>(), 0);
        var noop = OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x, empty }, new[] { NodeAttribute.Int("noop_with_empty_axes", 1) });
        CollectionAssert.AreEqual(x.Floats, noop[0].Floats, "noop_with_empty_axes=1 with empty axes is the identity");
        var all = OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x, empty }, new[] { NodeAttribute.Int("keepdims", 1) });
        CollectionAssert.AreEqual(new[] { 1, 1, 1 }, all[0].Shape);
    }

    [TestMethod]
    public void Reduce_NchwSpatialAndBatchAxes_MatchOnnxRuntime()
    {
        // The shapes BatchNorm-like and global-pool-like graphs reduce over.
        var x = RandomTensors.Uniform(4, -1f, 1f, 8, 6, 7, 9);
        foreach (var axes in new[] { new long[] { 2, 3 }, new long[] { 0, 2, 3 }, new long[] { 0 }, new long[] { 1, 3 } })
            foreach (var op in new[] { "ReduceSum", "ReduceMean", "ReduceMax" })
                OpHarness.AssertMatchesOnnxRuntime(op, 13, Reduce(op, 13, x, axes, 1, out var attrs), attrs, atol: 1e-4);
    }

    [TestMethod]
    public void Reduce_LargeLeadingAxis_SplitsInnerTilesAndMatchesOnnxRuntime()
    {
        // Outer = 1 with a long inner run exercises the tiled, parallel path.
        var x = RandomTensors.Uniform(5, -1f, 1f, 40, 9000);
        foreach (var op in new[] { "ReduceSum", "ReduceMean", "ReduceMax" })
        {
            OpHarness.AssertMatchesOnnxRuntime(op, 13, Reduce(op, 13, x, new long[] { 0 }, 0, out var a0), a0, atol: 1e-4);
            OpHarness.AssertMatchesOnnxRuntime(op, 13, Reduce(op, 13, x, new long[] { 1 }, 0, out var a1), a1, rtol: 1e-4, atol: 1e-3);
        }
    }

    [TestMethod]
    public void Reduce_IntegerTypes_MatchOnnxRuntime()
    {
        var rng = new Random(6);
        var l = Tensor.FromArray(Enumerable.Range(0, 60).Select(_ => (long)rng.Next(-1000, 1000)).ToArray(), 3, 4, 5);
        var i = Tensor.FromArray(Enumerable.Range(0, 60).Select(_ => rng.Next(-1000, 1000)).ToArray(), 3, 4, 5);
        foreach (var x in new[] { l, i })
        {
            OpHarness.AssertMatchesOnnxRuntime("ReduceSum", 13, new[] { x, Tensor.Int64Vector(1) }, Attrs(null, 0));
            OpHarness.AssertMatchesOnnxRuntime("ReduceMax", 13, new[] { x }, Attrs(new long[] { 0, 2 }, 1));
            OpHarness.AssertMatchesOnnxRuntime("ReduceMean", 13, new[] { x }, Attrs(new long[] { -1 }, 0));
        }
        var i8 = Tensor.FromArray(Enumerable.Range(0, 24).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray(), 2, 3, 4);
        OpHarness.AssertMatchesOnnxRuntime("ReduceMax", 13, new[] { i8 }, Attrs(new long[] { 1 }, 0));
    }

    [TestMethod]
    public void Reduce_DoubleInput_MatchesOnnxRuntime()
    {
        var x = Tensor.FromArray(RandomTensors.Uniform(7, -1f, 1f, 4, 6).Floats.Select(v => (double)v).ToArray(), 4, 6);
        foreach (var op in new[] { "ReduceSum", "ReduceMean", "ReduceMax" })
            OpHarness.AssertMatchesOnnxRuntime(op, 13, Reduce(op, 13, x, new long[] { 1 }, 1, out var attrs), attrs);
    }

    [TestMethod]
    public void Reduce_OverEmptyDim_GivesTheIdentityOfEachReduction()
    {
        // The spec fixes sum 0 and max -inf; it leaves the mean undefined and we follow ONNX Runtime's 0.
        var x = Tensor.Zeros(DataType.Float, new[] { 0, 3 });
        var sum = RunSingle("ReduceSum", 11, x, Attrs(new long[] { 0 }, 0));
        var max = RunSingle("ReduceMax", 13, x, Attrs(new long[] { 0 }, 0));
        var mean = RunSingle("ReduceMean", 13, x, Attrs(new long[] { 0 }, 0));
        CollectionAssert.AreEqual(new[] { 0f, 0f, 0f }, sum.Floats);
        CollectionAssert.AreEqual(new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity }, max.Floats);
        CollectionAssert.AreEqual(new[] { 0f, 0f, 0f }, mean.Floats);
        var keep = RunSingle("ReduceSum", 11, x, Attrs(new long[] { 1 }, 1));
        CollectionAssert.AreEqual(new[] { 0, 1 }, keep.Shape);
        OpHarness.AssertMatchesOnnxRuntime("ReduceSum", 13, new[] { x, Tensor.Int64Vector(0) }, Attrs(null, 0));
        OpHarness.AssertMatchesOnnxRuntime("ReduceMax", 18, new[] { x, Tensor.Int64Vector(0) }, Attrs(null, 0));
        OpHarness.AssertMatchesOnnxRuntime("ReduceMean", 18, new[] { x, Tensor.Int64Vector(0) }, Attrs(null, 0));
    }

    [TestMethod]
    [DataRow("ReduceSum")]
    [DataRow("ReduceMean")]
    [DataRow("ReduceMax")]
    public void Reduce_Gradients_MatchFiniteDifferences(string op)
    {
        var x = Separated(8, 3, 4, 5);
        foreach (var axes in AxesCases.Append(null))
            foreach (int keep in new[] { 0, 1 })
                OpHarness.AssertGradients(op, 11, new[] { x }, Attrs(axes, keep));
        int opset = op == "ReduceSum" ? 13 : 18;
        OpHarness.AssertGradients(op, opset, new[] { x, Tensor.Int64Vector(0, -1) }, Attrs(null, 0), wrt: new[] { 0 });
        OpHarness.AssertGradients(op, opset, new[] { x, Tensor.FromArray(Array.Empty<long>(), 0) }, new[] { NodeAttribute.Int("noop_with_empty_axes", 1) }, wrt: new[] { 0 });
    }

    [TestMethod]
    public void ReduceMax_TiedMaxima_ShareTheGradient()
    {
        var x = Tensor.FromArray(new[] { 1f, 3f, 3f, 2f }, 4);
        var model = OpHarness.SingleNode("ReduceMax", 13, new[] { x }, Attrs(null, 0));
        var exec = new Executor(model);
        var inputs = new Dictionary<string, Tensor> { ["x0"] = x };
        var record = exec.Forward(inputs);
        var g = exec.Backward(record, new Dictionary<string, Tensor> { [model.Graph.Outputs[0].Name] = Tensor.Scalar(1f) }, new[] { "x0" });
        CollectionAssert.AreEqual(new[] { 0f, 0.5f, 0.5f, 0f }, g["x0"].Floats);
    }

    [TestMethod]
    public void Reduce_SymbolicBatch_StaysSymbolicWhenKept()
    {
        var batch = Dim.Symbolic("batch");
        var x = new ValueFacts(DataType.Float, new[] { batch, Dim.Of(3), Dim.Of(4) });
        Assert.AreEqual("[batch,3,1]", Dim.Format(InferShape("ReduceMean", 13, new[] { x }, Attrs(new long[] { 2 }, 1))));
        Assert.AreEqual("[batch]", Dim.Format(InferShape("ReduceMax", 13, new[] { x }, Attrs(new long[] { -1, 1 }, 0))));
        Assert.AreEqual("[1,3,4]", Dim.Format(InferShape("ReduceSum", 11, new[] { x }, Attrs(new long[] { 0 }, 1))));
        var axes = ValueFacts.Of(Tensor.Int64Vector(1));
        Assert.AreEqual("[batch,4]", Dim.Format(InferShape("ReduceSum", 13, new[] { x, axes }, Attrs(null, 0))));
        Assert.AreEqual("[batch,1,4]", Dim.Format(InferShape("ArgMax", 13, new[] { x }, new[] { NodeAttribute.Int("axis", 1) })));
    }

    [TestMethod]
    public void Reduce_InvalidAxesOrAttributes_ThrowCompressBuildErrors()
    {
        var x = RandomTensors.Uniform(9, -1f, 1f, 2, 3);
        var bad = Assert.ThrowsExactly<CompressBuildException>(() => RunSingle("ReduceSum", 11, x, Attrs(new long[] { 2 }, 1)));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, bad.Code);
        var twice = Assert.ThrowsExactly<CompressBuildException>(() => RunSingle("ReduceMax", 13, x, Attrs(new long[] { 1, -1 }, 1)));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, twice.Code);
        var attr = Assert.ThrowsExactly<CompressBuildException>(() => RunSingle("ReduceSum", 13, x, Attrs(new long[] { 1 }, 1)));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, attr.Code);
        var noop = Assert.ThrowsExactly<CompressBuildException>(() => RunSingle("ReduceMean", 13, x, new[] { NodeAttribute.Int("noop_with_empty_axes", 1) }));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, noop.Code);
        var str = Tensor.FromArray(new[] { "a", "b" }, 2);
        var type = Assert.ThrowsExactly<CompressBuildException>(() => RunSingle("ReduceSum", 11, str, Attrs(null, 1)));
        Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, type.Code);
    }

    [TestMethod]
    public void ArgMax_AxisKeepdimsAndSelectLastIndex_MatchOnnxRuntime()
    {
        // Values on a coarse grid produce ties, so first and last index differ.
        var rng = new Random(10);
        var x = Tensor.FromArray(Enumerable.Range(0, 60).Select(_ => (float)rng.Next(0, 4)).ToArray(), 3, 4, 5);
        foreach (int axis in new[] { 0, 1, 2, -1, -3 })
            foreach (int keep in new[] { 0, 1 })
                foreach (int last in new[] { 0, 1 })
                {
                    var attrs = new[] { NodeAttribute.Int("axis", axis), NodeAttribute.Int("keepdims", keep), NodeAttribute.Int("select_last_index", last) };
                    OpHarness.AssertMatchesOnnxRuntime("ArgMax", 13, new[] { x }, attrs);
                }
        OpHarness.AssertMatchesOnnxRuntime("ArgMax", 11, new[] { x }, new[] { NodeAttribute.Int("axis", -2) });
        OpHarness.AssertMatchesOnnxRuntime("ArgMax", 1, new[] { x }, new[] { NodeAttribute.Int("keepdims", 0) });
    }

    [TestMethod]
    public void ArgMax_IntegerAndDoubleInputs_MatchOnnxRuntime()
    {
        var rng = new Random(11);
        var i = Tensor.FromArray(Enumerable.Range(0, 24).Select(_ => rng.Next(-3, 3)).ToArray(), 4, 6);
        var d = Tensor.FromArray(Enumerable.Range(0, 24).Select(_ => rng.NextDouble()).ToArray(), 4, 6);
        foreach (var x in new[] { i, d })
            foreach (int last in new[] { 0, 1 })
                OpHarness.AssertMatchesOnnxRuntime("ArgMax", 13, new[] { x }, new[] { NodeAttribute.Int("axis", 1), NodeAttribute.Int("select_last_index", last) });
    }

    [TestMethod]
    public void ArgMax_SelectLastIndexBeforeOpset12_IsInvalid()
    {
        var x = RandomTensors.Uniform(12, -1f, 1f, 2, 3);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => RunSingle("ArgMax", 11, x, new[] { NodeAttribute.Int("select_last_index", 1) }));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, e.Code);
    }

    [TestMethod]
    public void Softmax_Opset13_EveryAxis_MatchesOnnxRuntime_AndGradients()
    {
        var x = RandomTensors.Uniform(13, -3f, 3f, 2, 3, 4, 5);
        foreach (var op in new[] { "Softmax", "LogSoftmax" })
        {
            OpHarness.AssertMatchesOnnxRuntime(op, 13, new[] { x });
            OpHarness.AssertGradients(op, 13, new[] { x });
            foreach (int axis in new[] { 0, 1, 2, 3, -2 })
            {
                var attrs = new[] { NodeAttribute.Int("axis", axis) };
                OpHarness.AssertMatchesOnnxRuntime(op, 13, new[] { x }, attrs);
                OpHarness.AssertGradients(op, 13, new[] { x }, attrs);
            }
        }
    }

    [TestMethod]
    public void Softmax_BeforeOpset13_CoercesTo2D_MatchesOnnxRuntime_AndGradients()
    {
        var x = RandomTensors.Uniform(14, -3f, 3f, 2, 3, 4, 5);
        foreach (var op in new[] { "Softmax", "LogSoftmax" })
            foreach (int opset in new[] { 1, 11 })
            {
                // Default axis 1: each sample's whole [3,4,5] block is one distribution.
                OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x });
                OpHarness.AssertGradients(op, opset, new[] { x });
                foreach (int axis in new[] { 0, 2, 3 })
                {
                    var attrs = new[] { NodeAttribute.Int("axis", axis) };
                    OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x }, attrs);
                    OpHarness.AssertGradients(op, opset, new[] { x }, attrs);
                }
                if (opset >= 11) OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x }, new[] { NodeAttribute.Int("axis", -2) });
            }
    }

    [TestMethod]
    public void Softmax_LargeInputs_StayFinite_AndBatchMatchesOnnxRuntime()
    {
        // Subtracting the maximum keeps exp from overflowing.
        var big = Tensor.FromArray(new[] { 10000f, 10001f, 10002f, -10000f, 0f, 10000f }, 2, 3);
        foreach (var op in new[] { "Softmax", "LogSoftmax" })
        {
            var y = OpHarness.AssertMatchesOnnxRuntime(op, 13, new[] { big });
            Assert.IsTrue(y[0].Floats.All(float.IsFinite), $"{op} overflowed");
        }
        // Many rows (the classifier head of a training batch) run in parallel.
        var logits = RandomTensors.Uniform(15, -5f, 5f, 4096, 10);
        OpHarness.AssertMatchesOnnxRuntime("Softmax", 13, new[] { logits });
        OpHarness.AssertMatchesOnnxRuntime("LogSoftmax", 13, new[] { logits });
    }

    [TestMethod]
    public void Softmax_DoubleInput_MatchesOnnxRuntime()
    {
        var x = Tensor.FromArray(RandomTensors.Uniform(16, -3f, 3f, 3, 7).Floats.Select(v => (double)v).ToArray(), 3, 7);
        OpHarness.AssertMatchesOnnxRuntime("Softmax", 13, new[] { x });
        OpHarness.AssertMatchesOnnxRuntime("LogSoftmax", 11, new[] { x });
    }

    private static Tensor RunSingle(string op, int opset, Tensor x, NodeAttribute[] attrs) =>
        new Executor(OpHarness.SingleNode(op, opset, new[] { x }, attrs)).Run(x)[0];

    internal static Dim[] InferShape(string op, int opset, ValueFacts[] inputs, NodeAttribute[] attrs, int output = 0, int outputs = 1)
    {
        var node = new Node(op, inputs.Select((_, i) => $"x{i}"), Enumerable.Range(0, outputs).Select(i => $"y{i}"), "n");
        node.Attributes.AddRange(attrs);
        var kernel = OperatorRegistry.Create(node, opset, "test");
        var ctx = new ShapeContext(kernel, inputs, outputs);
        kernel.InferShapes(ctx);
        return ctx.Output(output)!.Shape!;
    }
}
