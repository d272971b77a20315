using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

[TestClass]
public sealed class RnnTests
{
    private static readonly string[] Directions = { "forward", "reverse", "bidirectional" };

    /// <summary>Random inputs of an LSTM (8 slots) or GRU (6 slots); null where omitted.</summary>
    private static Tensor?[] Inputs(string op, string direction, int seq, int batch, int input, int hidden, bool batchFirst,
        int seed, bool bias = true, int[]? lengths = null, bool initialH = true, bool initialC = true, bool peepholes = true, float weightScale = 0.6f)
    {
        int dirs = direction == "bidirectional" ? 2 : 1;
        int gates = op == "LSTM" ? 4 : 3;
        var state = batchFirst ? new[] { batch, dirs, hidden } : new[] { dirs, batch, hidden };
        var list = new List<Tensor?>
        {
            RandomTensors.Uniform(seed, -1f, 1f, batchFirst ? new[] { batch, seq, input } : new[] { seq, batch, input }),
            RandomTensors.Uniform(seed + 1, -weightScale, weightScale, dirs, gates * hidden, input),
            RandomTensors.Uniform(seed + 2, -weightScale, weightScale, dirs, gates * hidden, hidden),
            bias ? RandomTensors.Uniform(seed + 3, -0.5f, 0.5f, dirs, 2 * gates * hidden) : null,
            lengths is null ? null : Tensor.FromArray(lengths, batch),
            initialH ? RandomTensors.Uniform(seed + 4, -0.8f, 0.8f, state) : null,
        };
        if (op == "LSTM")
        {
            list.Add(initialC ? RandomTensors.Uniform(seed + 5, -0.8f, 0.8f, state) : null);
            list.Add(peepholes ? RandomTensors.Uniform(seed + 6, -0.5f, 0.5f, dirs, 3 * hidden) : null);
        }
        // Trailing omitted inputs are dropped rather than named "".
        while (list.Count > 3 && list[^1] is null) list.RemoveAt(list.Count - 1);
        return list.ToArray();
    }

    private static NodeAttribute[] Attrs(string direction, int hidden, bool batchFirst, params NodeAttribute[] extra)
    {
        var a = new List<NodeAttribute> { NodeAttribute.String("direction", direction), NodeAttribute.Int("hidden_size", hidden) };
        if (batchFirst) a.Add(NodeAttribute.Int("layout", 1));
        a.AddRange(extra);
        return a.ToArray();
    }

    /// <summary>
    /// Ours against ONNX Runtime. ORT has no batch-first kernels, so for layout 1 it runs the
    /// layout-0 node on transposed inputs and its outputs are transposed back.
    /// </summary>
    private static void AssertMatchesOnnxRuntime(string op, int opset, Tensor?[] inputs, NodeAttribute[] attrs, bool[] outputs)
    {
        if (!attrs.Any(a => a.Name == "layout"))
        {
            SparseNodeHarness.AssertMatchesOnnxRuntime(op, opset, inputs, attrs, outputs);
            return;
        }
        var model = SparseNodeHarness.Build(op, opset, inputs, attrs, outputs);
        var ours = new Executor(model).Run(inputs.Where(t => t is not null).Select(t => t!).ToArray());
        var seqFirst = inputs.Select((t, i) => t is null ? null : i == 0 || i == 5 || i == 6 ? Permute(t, 1, 0, 2) : t).ToArray();
        var reference = SparseNodeHarness.Build(op, opset, seqFirst, attrs.Where(a => a.Name != "layout").ToArray(), outputs);
        var theirs = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(reference), seqFirst.Where(t => t is not null).Select(t => t!).ToArray());
        int k = 0;
        for (int i = 0; i < outputs.Length; i++)
        {
            if (!outputs[i]) continue;
            var expected = i == 0 ? Permute(theirs[k], 2, 0, 1, 3) : Permute(theirs[k], 1, 0, 2);
            Numerics.AssertClose(expected, ours[k], 1e-4, 1e-5, $"{op} output {i} (layout 1) vs ONNX Runtime");
            k++;
        }
    }

    /// <summary>Transpose: result dim j is input dim perm[j].</summary>
    private static Tensor Permute(Tensor t, params int[] perm)
    {
        var shape = perm.Select(p => t.Shape[p]).ToArray();
        var src = t.Floats;
        var dst = new float[src.Length];
        var inStrides = new int[t.Rank];
        for (int d = t.Rank - 1, acc = 1; d >= 0; acc *= t.Shape[d], d--) inStrides[d] = acc;
        var index = new int[t.Rank];
        for (int o = 0; o < dst.Length; o++)
        {
            int rem = o, off = 0;
            for (int j = t.Rank - 1; j >= 0; j--)
            {
                index[j] = rem % shape[j];
                rem /= shape[j];
                off += index[j] * inStrides[perm[j]];
            }
            dst[o] = src[off];
        }
        return Tensor.FromArray(dst, shape);
    }

    private static bool[] All(string op) => op == "LSTM" ? new[] { true, true, true } : new[] { true, true };

    [TestMethod]
    public void Lstm_EveryDirectionAndLayout_WithLengthsPeepholesAndInitialStates_MatchesOnnxRuntime()
    {
        foreach (var direction in Directions)
            foreach (bool batchFirst in new[] { false, true })
            {
                var inputs = Inputs("LSTM", direction, 4, 3, 5, 6, batchFirst, 10, lengths: new[] { 4, 2, 3 });
                AssertMatchesOnnxRuntime("LSTM", 14, inputs, Attrs(direction, 6, batchFirst), All("LSTM"));
            }
    }

    [TestMethod]
    public void Lstm_Opset7_OptionalInputsAndOutputsOmitted_MatchesOnnxRuntime()
    {
        foreach (var direction in Directions)
        {
            // No B, lengths or initial states: only Y_h is named.
            var bare = Inputs("LSTM", direction, 3, 2, 4, 5, false, 20, bias: false, initialH: false, initialC: false, peepholes: false);
            SparseNodeHarness.AssertMatchesOnnxRuntime("LSTM", 7, bare, Attrs(direction, 5, false), new[] { false, true });
            // initial_c and P without B and initial_h, only Y_c named.
            var sparse = Inputs("LSTM", direction, 3, 2, 4, 5, false, 30, bias: false, initialH: false);
            SparseNodeHarness.AssertMatchesOnnxRuntime("LSTM", 7, sparse, Attrs(direction, 5, false), new[] { false, false, true });
        }
    }

    [TestMethod]
    public void Lstm_InputForgetAndClip_MatchesOnnxRuntime()
    {
        foreach (var direction in Directions)
        {
            var inputs = Inputs("LSTM", direction, 5, 2, 3, 4, false, 40, lengths: new[] { 5, 3 }, weightScale: 1.5f);
            SparseNodeHarness.AssertMatchesOnnxRuntime("LSTM", 14, inputs,
                Attrs(direction, 4, false, NodeAttribute.Int("input_forget", 1)), All("LSTM"));
            SparseNodeHarness.AssertMatchesOnnxRuntime("LSTM", 14, inputs,
                Attrs(direction, 4, false, NodeAttribute.Float("clip", 0.4f)), All("LSTM"));
            SparseNodeHarness.AssertMatchesOnnxRuntime("LSTM", 14, inputs,
                Attrs(direction, 4, false, NodeAttribute.Float("clip", 0.7f), NodeAttribute.Int("input_forget", 1)), All("LSTM"));
        }
    }

    [TestMethod]
    public void Lstm_CustomActivationsWithAlphaBeta_MatchesOnnxRuntime()
    {
        var cases = new (string Direction, string[] Names, float[] Alpha, float[] Beta)[]
        {
            ("forward", new[] { "HardSigmoid", "LeakyRelu", "Softsign" }, new[] { 0.3f, 0.15f }, new[] { 0.45f }),
            ("reverse", new[] { "Sigmoid", "ScaledTanh", "Elu" }, new[] { 1.3f, 0.7f }, new[] { 0.8f }),
            ("forward", new[] { "Sigmoid", "Affine", "Softplus" }, new[] { 0.5f }, new[] { 0.2f }),
            ("bidirectional", new[] { "Sigmoid", "Relu", "ThresholdedRelu", "HardSigmoid", "Tanh", "LeakyRelu" }, new[] { 0.1f, 0.25f }, Array.Empty<float>()),
            ("bidirectional", new[] { "Sigmoid", "Tanh", "Tanh", "Sigmoid", "Tanh", "Tanh" }, Array.Empty<float>(), Array.Empty<float>()),
        };
        foreach (var (direction, names, alpha, beta) in cases)
        {
            var inputs = Inputs("LSTM", direction, 4, 3, 3, 5, false, 50, lengths: new[] { 4, 1, 3 });
            var attrs = new List<NodeAttribute> { NodeAttribute.Strings("activations", names) };
            if (alpha.Length > 0) attrs.Add(NodeAttribute.Floats("activation_alpha", alpha));
            if (beta.Length > 0) attrs.Add(NodeAttribute.Floats("activation_beta", beta));
            SparseNodeHarness.AssertMatchesOnnxRuntime("LSTM", 14, inputs, Attrs(direction, 5, false, attrs.ToArray()), All("LSTM"));
        }
    }

    [TestMethod]
    public void Gru_EveryDirectionLayoutAndResetMode_MatchesOnnxRuntime()
    {
        foreach (var direction in Directions)
            foreach (bool batchFirst in new[] { false, true })
                foreach (int lbr in new[] { 0, 1 })
                {
                    var inputs = Inputs("GRU", direction, 4, 3, 5, 6, batchFirst, 60, lengths: new[] { 2, 4, 3 });
                    AssertMatchesOnnxRuntime("GRU", 14, inputs,
                        Attrs(direction, 6, batchFirst, NodeAttribute.Int("linear_before_reset", lbr)), All("GRU"));
                }
    }

    [TestMethod]
    public void Gru_Opset7_ClipCustomActivationsAndOmittedInputs_MatchesOnnxRuntime()
    {
        foreach (var direction in Directions)
            foreach (int lbr in new[] { 0, 1 })
            {
                var bare = Inputs("GRU", direction, 3, 2, 4, 5, false, 70, bias: false, initialH: false);
                SparseNodeHarness.AssertMatchesOnnxRuntime("GRU", 7, bare,
                    Attrs(direction, 5, false, NodeAttribute.Int("linear_before_reset", lbr)), new[] { false, true });
                var clipped = Inputs("GRU", direction, 4, 2, 4, 5, false, 80, lengths: new[] { 3, 4 }, weightScale: 1.5f);
                SparseNodeHarness.AssertMatchesOnnxRuntime("GRU", 7, clipped,
                    Attrs(direction, 5, false, NodeAttribute.Int("linear_before_reset", lbr), NodeAttribute.Float("clip", 0.5f)), All("GRU"));
                var names = direction == "bidirectional" ? new[] { "HardSigmoid", "ScaledTanh", "Softsign", "Elu" } : new[] { "HardSigmoid", "ScaledTanh" };
                var custom = Attrs(direction, 5, false, NodeAttribute.Int("linear_before_reset", lbr),
                    NodeAttribute.Strings("activations", names),
                    NodeAttribute.Floats("activation_alpha", 0.25f, 1.5f, 0.8f), NodeAttribute.Floats("activation_beta", 0.4f, 0.6f));
                SparseNodeHarness.AssertMatchesOnnxRuntime("GRU", 7, clipped, custom, All("GRU"));
            }
    }

    [TestMethod]
    public void Rnn_ZeroSequenceLength_MatchesOnnxRuntime()
    {
        foreach (var op in new[] { "LSTM", "GRU" })
            foreach (var direction in Directions)
            {
                var inputs = Inputs(op, direction, 3, 3, 2, 4, false, 90, lengths: new[] { 3, 0, 2 });
                SparseNodeHarness.AssertMatchesOnnxRuntime(op, 14, inputs, Attrs(direction, 4, false), All(op));
            }
    }

    [TestMethod]
    public void Lstm_Gradients_EveryDirection_WithPeepholesLengthsAndBothLayouts()
    {
        foreach (var direction in Directions)
            foreach (bool batchFirst in new[] { false, true })
            {
                var inputs = Inputs("LSTM", direction, 3, 2, 3, 4, batchFirst, 100, lengths: new[] { 3, 2 });
                SparseNodeHarness.AssertGradients("LSTM", 14, inputs, Attrs(direction, 4, batchFirst), All("LSTM"));
            }
    }

    [TestMethod]
    public void Lstm_Gradients_WithClipAndInputForget()
    {
        foreach (var direction in Directions)
        {
            var inputs = Inputs("LSTM", direction, 3, 2, 3, 4, false, 110, weightScale: 1.2f);
            SparseNodeHarness.AssertGradients("LSTM", 14, inputs, Attrs(direction, 4, false, NodeAttribute.Float("clip", 0.9f)), All("LSTM"), eps: 2e-3, atol: 4e-3);
            SparseNodeHarness.AssertGradients("LSTM", 14, inputs, Attrs(direction, 4, false, NodeAttribute.Int("input_forget", 1)), All("LSTM"));
        }
    }

    [TestMethod]
    public void Lstm_Gradients_WithoutOptionalInputs_OnlyYh()
    {
        foreach (var direction in Directions)
        {
            var inputs = Inputs("LSTM", direction, 3, 2, 3, 4, false, 120, bias: false, initialH: false, initialC: false, peepholes: false);
            SparseNodeHarness.AssertGradients("LSTM", 7, inputs, Attrs(direction, 4, false), new[] { false, true });
        }
    }

    [TestMethod]
    public void Gru_Gradients_EveryDirection_BothResetModes_WithLengths()
    {
        foreach (var direction in Directions)
            foreach (int lbr in new[] { 0, 1 })
                foreach (bool batchFirst in new[] { false, true })
                {
                    var inputs = Inputs("GRU", direction, 3, 2, 3, 4, batchFirst, 130, lengths: new[] { 2, 3 });
                    SparseNodeHarness.AssertGradients("GRU", 14, inputs,
                        Attrs(direction, 4, batchFirst, NodeAttribute.Int("linear_before_reset", lbr)), All("GRU"));
                }
    }

    [TestMethod]
    public void Gru_Gradients_WithClip_BothResetModes()
    {
        foreach (var direction in Directions)
            foreach (int lbr in new[] { 0, 1 })
            {
                // Small steps: with clip the loss has kinks where a pre-activation crosses ±clip.
                var inputs = Inputs("GRU", direction, 3, 2, 3, 4, false, 140, weightScale: 1.2f);
                SparseNodeHarness.AssertGradients("GRU", 14, inputs,
                    Attrs(direction, 4, false, NodeAttribute.Int("linear_before_reset", lbr), NodeAttribute.Float("clip", 0.9f)), All("GRU"), eps: 3e-4, atol: 4e-3);
            }
    }

    [TestMethod]
    public void Rnn_Gradients_SmoothCustomActivations()
    {
        var lstm = Inputs("LSTM", "bidirectional", 3, 2, 3, 4, false, 150);
        SparseNodeHarness.AssertGradients("LSTM", 14, lstm, Attrs("bidirectional", 4, false,
            NodeAttribute.Strings("activations", "Sigmoid", "ScaledTanh", "Softsign", "Softplus", "Affine", "Tanh"),
            NodeAttribute.Floats("activation_alpha", 1.2f, 0.3f), NodeAttribute.Floats("activation_beta", 0.7f, 0.5f)), All("LSTM"));
        var gru = Inputs("GRU", "forward", 3, 2, 3, 4, false, 160);
        SparseNodeHarness.AssertGradients("GRU", 14, gru, Attrs("forward", 4, false,
            NodeAttribute.Strings("activations", "Sigmoid", "Softsign")), All("GRU"));
    }

    [TestMethod]
    public void Rnn_BackwardThroughAmbiguousActivation_ThrowsNotDifferentiable()
    {
        var inputs = Inputs("GRU", "forward", 2, 2, 3, 4, false, 170);
        var attrs = Attrs("forward", 4, false, NodeAttribute.Strings("activations", "LeakyRelu", "Tanh"), NodeAttribute.Floats("activation_alpha", -0.5f));
        var e = Assert.ThrowsExactly<CompressBuildException>(() => SparseNodeHarness.AssertGradients("GRU", 14, inputs, attrs, All("GRU")));
        Assert.AreEqual(ErrorCodes.NotDifferentiable, e.Code);
        StringAssert.Contains(e.Message, "LeakyRelu");
    }

    [TestMethod]
    public void Rnn_InvalidAttributes_ThrowInvalidAttribute()
    {
        var inputs = Inputs("LSTM", "forward", 2, 2, 3, 4, false, 180);
        var bad = new[]
        {
            Attrs("sideways", 4, false),
            Attrs("forward", 4, false, NodeAttribute.Strings("activations", "Sigmoid", "Tanh")),
            Attrs("forward", 4, false, NodeAttribute.Strings("activations", "Sigmoid", "Gelu", "Tanh")),
            Attrs("forward", 4, false, NodeAttribute.Float("clip", -1f)),
            Attrs("bidirectional", 4, false, NodeAttribute.Strings("activations", "Sigmoid", "Tanh", "Tanh")),
        };
        foreach (var attrs in bad)
        {
            var model = SparseNodeHarness.Build("LSTM", 14, inputs, attrs, All("LSTM"));
            var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(model));
            Assert.AreEqual(ErrorCodes.InvalidAttribute, e.Code);
        }
        var layoutTooEarly = SparseNodeHarness.Build("LSTM", 7, Inputs("LSTM", "forward", 2, 2, 3, 4, true, 180), Attrs("forward", 4, true), All("LSTM"));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, Assert.ThrowsExactly<CompressBuildException>(() => new Executor(layoutTooEarly)).Code);
    }

    [TestMethod]
    public void Rnn_WrongWeightShape_ThrowsShapeError()
    {
        var inputs = Inputs("GRU", "forward", 2, 2, 3, 4, false, 190);
        var model = SparseNodeHarness.Build("GRU", 14, inputs, Attrs("forward", 5, false), All("GRU"));
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(model).Run(inputs.Where(t => t is not null).Select(t => t!).ToArray()));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
    }

    [TestMethod]
    public void Rnn_InferShapes_SymbolicBatch_BothLayouts()
    {
        foreach (var (op, outputs) in new[] { ("LSTM", 3), ("GRU", 2) })
            foreach (bool batchFirst in new[] { false, true })
            {
                int g = op == "LSTM" ? 4 : 3;
                var node = new Node(op, new[] { "X", "W", "R" }, Enumerable.Range(0, outputs).Select(i => $"y{i}"));
                node.Attributes.Add(NodeAttribute.String("direction", "bidirectional"));
                if (batchFirst) node.Attributes.Add(NodeAttribute.Int("layout", 1));
                var kernel = OperatorRegistry.Create(node, 14, "test");
                Dim n = Dim.Symbolic("N");
                var facts = new ValueFacts?[]
                {
                    new(DataType.Float, batchFirst ? new Dim[] { n, 7, 3 } : new Dim[] { 7, n, 3 }),
                    new(DataType.Float, new Dim[] { 2, g * 5, 3 }),
                    new(DataType.Float, new Dim[] { 2, g * 5, 5 }),
                };
                var ctx = new ShapeContext(kernel, facts, outputs);
                kernel.InferShapes(ctx);
                Assert.AreEqual(batchFirst ? "[N,7,2,5]" : "[7,2,N,5]", Dim.Format(ctx.Output(0)!.Shape));
                for (int i = 1; i < outputs; i++)
                    Assert.AreEqual(batchFirst ? "[N,2,5]" : "[2,N,5]", Dim.Format(ctx.Output(i)!.Shape));
            }
    }
}


/// <summary>
/// Like <see cref="OpHarness"/>, for one-node models whose optional inputs or outputs are omitted
/// (an empty name in the node), as RNN and Resize nodes usually have: null entries of the input
/// list and false entries of the output list become "".
/// </summary>
internal static class SparseNodeHarness
{
    /// <summary>The model; present inputs are graph inputs x{i} in order.</summary>
    public static Model Build(string opType, int opset, Tensor?[] inputs, NodeAttribute[] attributes, bool[] outputs)
    {
        var b = new ModelBuilder(opset);
        var names = new string[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            names[i] = inputs[i] is { } t ? b.Input($"x{i}", t.DataType, t.Shape.Cast<object>().ToArray()) : "";
        var outs = b.NodeMulti(opType, names, outputs.Length, attributes);
        for (int i = 0; i < outs.Length; i++)
            if (outputs[i]) b.Output(outs[i], DataType.Undefined);
        var m = b.Build();
        var node = m.Graph.Nodes[0];
        for (int i = 0; i < outs.Length; i++)
            if (!outputs[i]) node.Outputs[i] = "";
        return m;
    }

    /// <summary>Runs ours and ONNX Runtime on the present inputs and asserts the outputs agree.</summary>
    public static Tensor[] AssertMatchesOnnxRuntime(string opType, int opset, Tensor?[] inputs, NodeAttribute[] attributes, bool[] outputs,
        double rtol = 1e-4, double atol = 1e-5)
    {
        var model = Build(opType, opset, inputs, attributes, outputs);
        var present = inputs.Where(t => t is not null).Select(t => t!).ToArray();
        var ours = new Executor(model).Run(present);
        var theirs = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), present);
        Assert.AreEqual(theirs.Length, ours.Length, "output count");
        for (int i = 0; i < ours.Length; i++)
            Numerics.AssertClose(theirs[i], ours[i], rtol, atol, $"{opType} output {i} vs ONNX Runtime");
        return ours;
    }

    /// <summary>
    /// Reverse-mode gradients of L = Σ r ⊙ y over all float outputs against central differences,
    /// for the float inputs (by node input index) in <paramref name="wrt"/> (default: all present float inputs).
    /// </summary>
    public static void AssertGradients(string opType, int opset, Tensor?[] inputs, NodeAttribute[] attributes, bool[] outputs,
        int[]? wrt = null, double eps = 1e-2, double rtol = 2e-2, double atol = 2e-3, int samples = 40)
    {
        var model = Build(opType, opset, inputs, attributes, outputs);
        var exec = new Executor(model);
        var options = new RunOptions { MaxDegreeOfParallelism = 1 };
        var named = new Dictionary<string, Tensor>();
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is { } t) named[$"x{i}"] = t;
        var record = exec.Forward(named, options);
        var outs = exec.Run(named, options);
        var seeds = new Dictionary<string, Tensor>();
        int seed = 4321;
        foreach (var o in model.Graph.Outputs)
            seeds[o.Name] = RandomTensors.Uniform(seed++, -1f, 1f, outs[o.Name].Shape);
        wrt ??= Enumerable.Range(0, inputs.Length).Where(i => inputs[i] is { DataType: DataType.Float }).ToArray();
        var analytic = exec.Backward(record, seeds, wrt.Select(i => $"x{i}"));

        double Loss()
        {
            var y = exec.Run(named, options);
            double l = 0;
            foreach (var (name, r) in seeds)
            {
                var yf = y[name].Floats;
                var rf = r.Floats;
                for (int k = 0; k < yf.Length; k++) l += (double)yf[k] * rf[k];
            }
            return l;
        }

        var rng = new Random(7);
        foreach (int i in wrt)
        {
            var x = inputs[i]!.Floats;
            var g = analytic[$"x{i}"].Floats;
            Assert.AreEqual(x.Length, g.Length, $"gradient of input {i} has the wrong size");
            var probe = x.Length <= samples ? Enumerable.Range(0, x.Length) : Enumerable.Range(0, samples).Select(_ => rng.Next(x.Length)).Distinct();
            foreach (int k in probe)
            {
                float orig = x[k];
                x[k] = orig + (float)eps;
                double lp = Loss();
                x[k] = orig - (float)eps;
                double lm = Loss();
                x[k] = orig;
                double numeric = (lp - lm) / (2 * eps);
                double diff = Math.Abs(numeric - g[k]);
                Assert.IsTrue(diff <= atol + rtol * Math.Abs(numeric),
                    $"{opType} d/d(input {i})[{k}]: analytic {g[k]:G6}, numeric {numeric:G6} (diff {diff:G3})");
            }
        }
    }
}
