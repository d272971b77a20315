using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

[TestClass]
public sealed class NormalizationTests
{
    private static readonly int[][] BnShapes = { new[] { 2, 3, 4, 5 }, new[] { 6, 3 }, new[] { 4, 5, 3 }, new[] { 2, 3, 2, 2, 2 } };

    // X, scale, B, mean, var for [N, C, ...] with `channels` parameters each (var > 0).
    private static Tensor[] BnInputs(int seed, int[] shape, int? channels = null)
    {
        int c = channels ?? (shape.Length == 1 ? 1 : shape[1]);
        return new[]
        {
            RandomTensors.Uniform(seed, -2f, 2f, shape),
            RandomTensors.Uniform(seed + 1, 0.5f, 1.5f, c),
            RandomTensors.Uniform(seed + 2, -0.5f, 0.5f, c),
            RandomTensors.Uniform(seed + 3, -0.3f, 0.3f, c),
            RandomTensors.Uniform(seed + 4, 0.5f, 2f, c),
        };
    }

    [TestMethod]
    public void BatchNorm_InferenceMode_EveryOpsetAndRank_MatchesOnnxRuntime()
    {
        int seed = 1;
        foreach (var shape in BnShapes)
            foreach (int opset in new[] { 7, 9, 14, 15 })
            {
                var inputs = BnInputs(seed += 10, shape);
                OpHarness.AssertMatchesOnnxRuntime("BatchNormalization", opset, inputs, new[] { NodeAttribute.Float("epsilon", 1e-3f) });
            }
    }

    [TestMethod]
    public void BatchNorm_TrainingMode_Opset14And15_MatchesOnnxRuntime()
    {
        int seed = 100;
        foreach (var shape in BnShapes)
            foreach (int opset in new[] { 14, 15 })
            {
                var inputs = BnInputs(seed += 10, shape);
                var attrs = new[] { NodeAttribute.Int("training_mode", 1), NodeAttribute.Float("momentum", 0.8f) };
                var ours = OpHarness.AssertMatchesOnnxRuntime("BatchNormalization", opset, inputs, attrs, outputs: 3);
                AssertMatchesReference(inputs, 1e-5f, 0.8f, training: true, ours);
            }
    }

    [TestMethod]
    public void BatchNorm_Opset7And9WithStatisticsOutputs_UseBatchStatistics_MatchOnnxRuntime()
    {
        // Before opset 14, asking for mean/var/saved_mean/saved_var is what selects training mode.
        foreach (int opset in new[] { 7, 9 })
            foreach (var shape in BnShapes)
            {
                var inputs = BnInputs(200 + opset, shape);
                var attrs = new[] { NodeAttribute.Float("momentum", 0.7f) };
                var ours = OpHarness.AssertMatchesOnnxRuntime("BatchNormalization", opset, inputs, attrs, outputs: 5);
                AssertMatchesReference(inputs, 1e-5f, 0.7f, training: true, ours);
            }
    }

    [TestMethod]
    public void BatchNorm_Opset6_IsTestSelectsStatistics()
    {
        var inputs = BnInputs(300, new[] { 3, 2, 4 });
        var test = new Executor(OpHarness.SingleNode("BatchNormalization", 6, inputs, new[] { NodeAttribute.Int("is_test", 1) })).Run(inputs);
        AssertMatchesReference(inputs, 1e-5f, 0.9f, training: false, test);
        var train = new Executor(OpHarness.SingleNode("BatchNormalization", 6, inputs, new[] { NodeAttribute.Int("is_test", 0) })).Run(inputs);
        AssertMatchesReference(inputs, 1e-5f, 0.9f, training: true, train);
    }

    [TestMethod]
    public void BatchNorm_RunOptionsTraining_UsesBatchStatistics()
    {
        var inputs = BnInputs(400, new[] { 5, 3, 4, 4 });
        var exec = new Executor(OpHarness.SingleNode("BatchNormalization", 15, inputs));
        var ours = exec.Run(inputs, new RunOptions { Training = true });
        AssertMatchesReference(inputs, 1e-5f, 0.9f, training: true, ours);
        var eval = exec.Run(inputs, RunOptions.Default);
        AssertMatchesReference(inputs, 1e-5f, 0.9f, training: false, eval);
    }

    [TestMethod]
    public void BatchNorm_SpatialFalse_NormalisesPerActivation()
    {
        // spatial=0 (opsets 6-7): parameters are [C, D...] and statistics are per activation.
        var shape = new[] { 4, 3, 2 };
        var inputs = BnInputs(500, shape, channels: 6);
        for (int i = 1; i < 5; i++) inputs[i] = inputs[i].Reshape(3, 2);
        var attrs = new[] { NodeAttribute.Int("spatial", 0) };
        var ours = new Executor(OpHarness.SingleNode("BatchNormalization", 7, inputs, attrs)).Run(inputs);
        var flat = inputs.Select((t, i) => i == 0 ? t.Reshape(4, 6) : t.Reshape(6)).ToArray();
        AssertMatchesReference(flat, 1e-5f, 0.9f, training: false, new[] { ours[0].Reshape(4, 6) });
        OpHarness.AssertGradients("BatchNormalization", 7, inputs, attrs);
    }

    [TestMethod]
    public void BatchNorm_InferenceMode_GradientsForAllInputs()
    {
        int seed = 600;
        foreach (var shape in BnShapes.Append(new[] { 7 }))
            OpHarness.AssertGradients("BatchNormalization", 15, BnInputs(seed += 10, shape));
    }

    [TestMethod]
    public void BatchNorm_TrainingMode_GradientsIncludingRunningStatistics()
    {
        int seed = 700;
        var attrs = new[] { NodeAttribute.Int("training_mode", 1), NodeAttribute.Float("momentum", 0.6f) };
        foreach (var shape in BnShapes)
        {
            OpHarness.AssertGradients("BatchNormalization", 15, BnInputs(seed += 10, shape), attrs, outputs: 3);
            OpHarness.AssertGradients("BatchNormalization", 15, BnInputs(seed += 10, shape), options: new RunOptions { Training = true, MaxDegreeOfParallelism = 1 });
        }
        OpHarness.AssertGradients("BatchNormalization", 9, BnInputs(seed + 10, new[] { 3, 2, 4 }), outputs: 5);
    }

    [TestMethod]
    public void BatchNorm_InvalidCombinations_ThrowCompressBuildErrors()
    {
        var inputs = BnInputs(800, new[] { 2, 3, 4 });
        var outputs = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("BatchNormalization", 15, inputs, outputs: 3)));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, outputs.Code);
        var wrong = BnInputs(801, new[] { 2, 4, 4 }, channels: 3);
        var shape = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("BatchNormalization", 15, wrong)).Run(wrong));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, shape.Code);
        var d = inputs.Select(t => Tensor.FromArray(t.Floats.Select(v => (double)v).ToArray(), t.Shape)).ToArray();
        var type = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("BatchNormalization", 15, d)).Run(d));
        Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, type.Code);
    }

    [TestMethod]
    public void BatchNorm_SymbolicBatch_KeepsTheBatchDim()
    {
        var batch = Dim.Symbolic("batch");
        var x = new ValueFacts(DataType.Float, new[] { batch, Dim.Of(3), Dim.Of(8), Dim.Of(8) });
        var p = new ValueFacts(DataType.Float, new[] { Dim.Of(3) });
        var inputs = new[] { x, p, p, p, p };
        var attrs = new[] { NodeAttribute.Int("training_mode", 1) };
        Assert.AreEqual("[batch,3,8,8]", Dim.Format(ReduceTests.InferShape("BatchNormalization", 15, inputs, attrs, 0, 3)));
        Assert.AreEqual("[3]", Dim.Format(ReduceTests.InferShape("BatchNormalization", 15, inputs, attrs, 2, 3)));
    }

    [TestMethod]
    public void LayerNorm_EveryAxis_WithAndWithoutBias_MatchesOnnxRuntime()
    {
        var x = RandomTensors.Uniform(900, -2f, 2f, 2, 3, 4, 5);
        for (int axis = -4; axis < 4; axis++)
        {
            int a = axis < 0 ? axis + 4 : axis;
            var norm = x.Shape[a..];
            var scale = RandomTensors.Uniform(901 + a, 0.5f, 1.5f, norm);
            var bias = RandomTensors.Uniform(911 + a, -0.5f, 0.5f, norm);
            var attrs = new[] { NodeAttribute.Int("axis", axis), NodeAttribute.Float("epsilon", 1e-3f) };
            OpHarness.AssertMatchesOnnxRuntime("LayerNormalization", 17, new[] { x, scale, bias }, attrs, outputs: 3);
            OpHarness.AssertMatchesOnnxRuntime("LayerNormalization", 17, new[] { x, scale }, attrs, outputs: 1);
        }
        // Default axis -1, default epsilon.
        OpHarness.AssertMatchesOnnxRuntime("LayerNormalization", 17, new[] { x, RandomTensors.Uniform(920, 0.5f, 1.5f, 5) });
    }

    [TestMethod]
    public void LayerNorm_BroadcastScaleAndBias_MatchesOnnxRuntime()
    {
        var x = RandomTensors.Uniform(930, -2f, 2f, 3, 4, 6);
        var scale = RandomTensors.Uniform(931, 0.5f, 1.5f, 6);
        var bias = RandomTensors.Uniform(932, -0.5f, 0.5f, 4, 1);
        var attrs = new[] { NodeAttribute.Int("axis", 1) };
        OpHarness.AssertMatchesOnnxRuntime("LayerNormalization", 17, new[] { x, scale, bias }, attrs, outputs: 3);
        OpHarness.AssertGradients("LayerNormalization", 17, new[] { x, scale, bias }, attrs, outputs: 3);
    }

    [TestMethod]
    public void LayerNorm_Gradients_MatchFiniteDifferences()
    {
        var x = RandomTensors.Uniform(940, -2f, 2f, 3, 4, 5);
        foreach (int axis in new[] { -1, 1, 0 })
        {
            int a = axis < 0 ? axis + 3 : axis;
            var scale = RandomTensors.Uniform(941, 0.5f, 1.5f, x.Shape[a..]);
            var bias = RandomTensors.Uniform(942, -0.5f, 0.5f, x.Shape[a..]);
            var attrs = new[] { NodeAttribute.Int("axis", axis) };
            OpHarness.AssertGradients("LayerNormalization", 17, new[] { x, scale, bias }, attrs, outputs: 3);
            OpHarness.AssertGradients("LayerNormalization", 17, new[] { x, scale }, attrs);
        }
        // Many rows: the parallel path with per-chunk parameter gradients.
        var big = RandomTensors.Uniform(943, -2f, 2f, 512, 32);
        OpHarness.AssertGradients("LayerNormalization", 17, new[] { big, RandomTensors.Uniform(944, 0.5f, 1.5f, 32), RandomTensors.Uniform(945, -1f, 1f, 32) },
            options: new RunOptions { MaxDegreeOfParallelism = 4 });
    }

    [TestMethod]
    public void LayerNorm_SymbolicBatchAndInvalidAttributes()
    {
        var batch = Dim.Symbolic("batch");
        var x = new ValueFacts(DataType.Float, new[] { batch, Dim.Of(8), Dim.Of(16) });
        var s = new ValueFacts(DataType.Float, new[] { Dim.Of(16) });
        Assert.AreEqual("[batch,8,16]", Dim.Format(ReduceTests.InferShape("LayerNormalization", 17, new[] { x, s }, Array.Empty<NodeAttribute>(), 0, 3)));
        Assert.AreEqual("[batch,8,1]", Dim.Format(ReduceTests.InferShape("LayerNormalization", 17, new[] { x, s }, Array.Empty<NodeAttribute>(), 1, 3)));
        var xs = RandomTensors.Uniform(950, -1f, 1f, 2, 4);
        var sc = RandomTensors.Uniform(951, -1f, 1f, 4);
        var stash = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("LayerNormalization", 17, new[] { xs, sc }, new[] { NodeAttribute.Int("stash_type", 11) })));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, stash.Code);
        var bad = RandomTensors.Uniform(952, -1f, 1f, 3);
        var shape = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("LayerNormalization", 17, new[] { xs, bad })).Run(xs, bad));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, shape.Code);
    }

    // Double-precision reference of the spec's formulas: Y, running mean, running var.
    private static (Tensor Y, Tensor RunMean, Tensor RunVar) Reference(Tensor[] inputs, float eps, float momentum, bool training)
    {
        var x = inputs[0];
        int n = x.Shape[0], c = x.Rank == 1 ? 1 : x.Shape[1];
        int inner = x.Length / Math.Max(n * c, 1);
        var (scale, bias, mean, var) = (inputs[1].Floats, inputs[2].Floats, inputs[3].Floats, inputs[4].Floats);
        var bm = new float[c];
        var bv = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0, ss = 0;
            for (int i = 0; i < n; i++)
                for (int k = 0; k < inner; k++) s += x.Floats[(i * c + ch) * inner + k];
            double mu = s / (n * inner);
            for (int i = 0; i < n; i++)
                for (int k = 0; k < inner; k++) ss += Math.Pow(x.Floats[(i * c + ch) * inner + k] - mu, 2);
            bm[ch] = (float)mu;
            bv[ch] = (float)(ss / (n * inner));
        }
        var y = new float[x.Length];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int k = 0; k < inner; k++)
                {
                    int at = (i * c + ch) * inner + k;
                    double mu = training ? bm[ch] : mean[ch], v = training ? bv[ch] : var[ch];
                    y[at] = (float)(scale[ch] * (x.Floats[at] - mu) / Math.Sqrt(v + eps) + bias[ch]);
                }
        var rm = mean.Select((m, ch) => training ? m * momentum + bm[ch] * (1 - momentum) : m).ToArray();
        var rv = var.Select((v, ch) => training ? v * momentum + bv[ch] * (1 - momentum) : v).ToArray();
        return (Tensor.FromArray(y, x.Shape), Tensor.FromArray(rm, c), Tensor.FromArray(rv, c));
    }

    private static void AssertMatchesReference(Tensor[] inputs, float eps, float momentum, bool training, Tensor[] ours)
    {
        var r = Reference(inputs, eps, momentum, training);
        Numerics.AssertClose(r.Y, ours[0], 1e-4, 1e-5, "Y vs reference");
        if (ours.Length > 1) Numerics.AssertClose(r.RunMean, ours[1], 1e-5, 1e-6, "running mean vs reference");
        if (ours.Length > 2) Numerics.AssertClose(r.RunVar, ours[2], 1e-5, 1e-6, "running var vs reference");
    }
}
