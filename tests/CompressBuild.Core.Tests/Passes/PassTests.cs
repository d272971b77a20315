using CompressBuild.Core.Passes;
using CompressBuild.Core.Shapes;

namespace CompressBuild.Core.Tests.Passes;

/// <summary>
/// Every pass keeps the model's outputs: the model before and after gives the same outputs in ONNX
/// Runtime, and the rewrite it exists for actually happens.
/// </summary>
[TestClass]
public sealed class PassTests
{
    private static void AssertSameOutputsInOnnxRuntime(Model before, Model after, Tensor input, double rtol = 1e-5, double atol = 1e-5)
    {
        var expected = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(before), input);
        var actual = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(after), input);
        Assert.AreEqual(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Numerics.AssertClose(expected[i], actual[i], rtol, atol, $"output {i} after the pass");
    }

    private static Model Clone(Model m) => OnnxModel.Parse(OnnxModel.ToBytes(m));

    private static int Count(Model m, string op) => m.Graph.Nodes.Count(n => n.OpType == op);

    // x [batch,3,8,8] → Conv(4) → BatchNormalization → Identity → Dropout → Relu → Flatten →
    // PyTorch's view chain (Shape→Gather→Unsqueeze→Concat→Reshape) → MatMul + Add → y
    private static Model ExporterStyleModel()
    {
        var b = new ModelBuilder(13);
        var x = b.Input("x", DataType.Float, "batch", 3, 8, 8);
        var w = b.Initializer("w", RandomTensors.Normal(1, 0.3f, 4, 3, 3, 3));
        var cb = b.Initializer("cb", RandomTensors.Normal(2, 0.1f, 4));
        var conv = b.Node("Conv", new[] { x, w, cb }, NodeAttribute.Ints("pads", 1, 1, 1, 1));
        var scale = b.Initializer("bn_scale", RandomTensors.Uniform(3, 0.5f, 1.5f, 4));
        var bias = b.Initializer("bn_bias", RandomTensors.Normal(4, 0.2f, 4));
        var mean = b.Initializer("bn_mean", RandomTensors.Normal(5, 0.2f, 4));
        var variance = b.Initializer("bn_var", RandomTensors.Uniform(6, 0.5f, 2f, 4));
        var bn = b.Node("BatchNormalization", new[] { conv, scale, bias, mean, variance }, NodeAttribute.Float("epsilon", 1e-3f));
        var id = b.Node("Identity", new[] { bn });
        var drop = b.Node("Dropout", new[] { id });
        var relu = b.Node("Relu", new[] { drop });
        var shape = b.Node("Shape", new[] { relu });
        var zero = b.Initializer("zero", Tensor.Scalar(0L));
        var batch = b.Node("Gather", new[] { shape, zero }, NodeAttribute.Int("axis", 0));
        var axes = b.Initializer("axes0", Tensor.Int64Vector(0));
        var batch1 = b.Node("Unsqueeze", new[] { batch, axes });
        var minus1 = b.Initializer("minus1", Tensor.Int64Vector(-1));
        var target = b.Node("Concat", new[] { batch1, minus1 }, NodeAttribute.Int("axis", 0));
        var flat = b.Node("Reshape", new[] { relu, target });
        var fw = b.Initializer("fw", RandomTensors.Normal(7, 0.05f, 256, 10));
        var fb = b.Initializer("fb", RandomTensors.Normal(8, 0.1f, 10));
        var mm = b.Node("MatMul", new[] { flat, fw });
        var y = b.Node("Add", new[] { mm, fb });
        b.Output(y, DataType.Float, "batch", 10);
        return b.Build();
    }

    [TestMethod]
    public void RemoveIdentity_DropsIdentityAndInferenceDropout_KeepingOutputs()
    {
        var before = ExporterStyleModel();
        var after = Clone(before);
        Assert.AreEqual(2, new RemoveIdentityPass().Run(after));
        Assert.AreEqual(0, Count(after, "Identity") + Count(after, "Dropout"));
        AssertSameOutputsInOnnxRuntime(before, after, RandomTensors.Uniform(9, -1f, 1f, 2, 3, 8, 8));
    }

    [TestMethod]
    public void ConstantFolding_ResolvesThePyTorchViewChain_ToAConstantShape()
    {
        var before = ExporterStyleModel();
        var after = Clone(before);
        new PassPipeline("t", new ConstantFoldingPass(), new DeadCodeEliminationPass()).Run(after);
        foreach (var op in new[] { "Shape", "Gather", "Unsqueeze", "Concat" }) Assert.AreEqual(0, Count(after, op), $"{op} should be folded away");
        var reshape = after.Graph.Nodes.Single(n => n.OpType == "Reshape");
        CollectionAssert.AreEqual(new[] { -1L, 256L }, after.Graph.Initializers[reshape.Inputs[1]].ToInt64Array());
        AssertSameOutputsInOnnxRuntime(before, after, RandomTensors.Uniform(10, -1f, 1f, 3, 3, 8, 8));
    }

    [TestMethod]
    public void FuseBatchNorm_FoldsIntoTheConv()
    {
        var before = ExporterStyleModel();
        var after = Clone(before);
        Assert.AreEqual(1, new FuseBatchNormPass().Run(after));
        Assert.AreEqual(0, Count(after, "BatchNormalization"));
        AssertSameOutputsInOnnxRuntime(before, after, RandomTensors.Uniform(11, -1f, 1f, 2, 3, 8, 8), 1e-4, 1e-5);
    }

    [TestMethod]
    public void FuseBatchNorm_FoldsIntoGemmAndTwoDimensionalMatMul()
    {
        foreach (var producer in new[] { "Gemm", "MatMul" })
        {
            var b = new ModelBuilder(13);
            var x = b.Input("x", DataType.Float, "batch", 6);
            var w = b.Initializer("w", RandomTensors.Normal(1, 0.5f, producer == "Gemm" ? new[] { 5, 6 } : new[] { 6, 5 }));
            var mmInputs = producer == "Gemm" ? new[] { x, w, b.Initializer("c", RandomTensors.Normal(2, 0.1f, 5)) } : new[] { x, w };
            var attrs = producer == "Gemm" ? new[] { NodeAttribute.Int("transB", 1), NodeAttribute.Float("beta", 0.5f) } : Array.Empty<NodeAttribute>();
            var h = b.Node(producer, mmInputs, attrs);
            var bn = b.Node("BatchNormalization", new[] { h, b.Initializer("s", RandomTensors.Uniform(3, 0.5f, 1.5f, 5)),
                b.Initializer("bb", RandomTensors.Normal(4, 0.2f, 5)), b.Initializer("m", RandomTensors.Normal(5, 0.2f, 5)),
                b.Initializer("v", RandomTensors.Uniform(6, 0.5f, 2f, 5)) });
            b.Output(bn, DataType.Float, "batch", 5);
            var before = b.Build();
            var after = Clone(before);
            Assert.AreEqual(1, new FuseBatchNormPass().Run(after), producer);
            Assert.AreEqual(0, Count(after, "BatchNormalization"), producer);
            AssertSameOutputsInOnnxRuntime(before, after, RandomTensors.Uniform(7, -1f, 1f, 4, 6), 1e-4, 1e-5);
        }
    }

    [TestMethod]
    public void MatMulAdd_BecomesGemm_WhenTheInputIsTwoDimensional()
    {
        var before = ExporterStyleModel();
        var after = Clone(before);
        PassPipeline.Optimize().Run(after);
        Assert.AreEqual(0, Count(after, "MatMul") + Count(after, "Add"));
        Assert.AreEqual(1, Count(after, "Gemm"));
        AssertSameOutputsInOnnxRuntime(before, after, RandomTensors.Uniform(12, -1f, 1f, 5, 3, 8, 8), 1e-4, 1e-5);
    }

    [TestMethod]
    public void Optimize_LeavesConvReluReshapeGemm_AndStaticShapesResolveWithSymbolicBatch()
    {
        var model = ExporterStyleModel();
        PassPipeline.Optimize().Run(model);
        CollectionAssert.AreEqual(new[] { "Conv", "Relu", "Reshape", "Gemm" }, model.Graph.TopologicalOrder().Select(n => n.OpType).ToArray());
        var shapes = ShapeInference.Run(model, strict: true);
        Assert.AreEqual("[batch,10]", Dim.Format(shapes.ShapeOf(model.Graph.Outputs[0].Name)!));
    }

    [TestMethod]
    public void StrictShapeInference_NamesTheValue_WhenANonBatchDimIsSymbolic()
    {
        var b = new ModelBuilder(13);
        var x = b.Input("x", DataType.Float, "batch", "width");
        var y = b.Node("Relu", new[] { x });
        b.Output(y);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => ShapeInference.Run(b.Build(), strict: true));
        Assert.AreEqual(ErrorCodes.UnresolvedShape, e.Code);
        StringAssert.Contains(e.Message, y);
        StringAssert.Contains(e.Message, "width");
    }

    [TestMethod]
    [DataRow("lenet5.onnx")]
    [DataRow("lenet300.onnx")]
    public void OptimizePipeline_KeepsTheSharedPyTorchModels_EquivalentInOnnxRuntime(string file)
    {
        var before = OnnxModel.Load(TestData.Model(file));
        var after = OnnxModel.Load(TestData.Model(file));
        PassPipeline.Optimize().Run(after);
        AssertSameOutputsInOnnxRuntime(before, after, RandomTensors.Uniform(13, 0f, 1f, 3, 1, 28, 28), 1e-5, 1e-5);
    }

    [TestMethod]
    public void OptimizePipeline_KeepsEveryPyTorchSuiteModel_MatchingTheSuitesExpectedOutputs()
    {
        // ONNX Runtime cannot run these opset-6 exports; the suite's expected outputs are the reference.
        string root = TestData.RequireOnnxSuite();
        int checkedModels = 0;
        var failures = new List<string>();
        foreach (var folder in new[] { "pytorch-converted", "pytorch-operator" })
        {
            foreach (var dir in Directory.GetDirectories(Path.Combine(root, folder)).OrderBy(d => d, StringComparer.Ordinal))
            {
                Model model;
                try
                {
                    model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
                    if (model.Graph.Nodes.Any(n => !CompressBuild.Core.Operators.OperatorRegistry.IsSupported(n, model.Opset))) continue;
                    PassPipeline.Optimize().Run(model);
                }
                catch (CompressBuildException e)
                {
                    failures.Add($"{Path.GetFileName(dir)}: {e.Message}");
                    continue;
                }
                var set = Path.Combine(dir, "test_data_set_0");
                var inputs = Directory.GetFiles(set, "input_*.pb").OrderBy(f => f, StringComparer.Ordinal).Select(CompressBuild.Onnx.DataFiles.TensorFile.Read).ToArray();
                var expected = Directory.GetFiles(set, "output_*.pb").OrderBy(f => f, StringComparer.Ordinal).Select(CompressBuild.Onnx.DataFiles.TensorFile.Read).ToArray();
                var outputs = new CompressBuild.Core.Execution.Executor(model).Run(inputs);
                for (int i = 0; i < expected.Length; i++)
                    if (Numerics.Compare(expected[i], outputs[i], 1e-3, 1e-5) is { } problem) failures.Add($"{Path.GetFileName(dir)} output {i}: {problem}");
                checkedModels++;
            }
        }
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures));
        Assert.IsTrue(checkedModels > 100, $"only {checkedModels} models checked");
    }
}
