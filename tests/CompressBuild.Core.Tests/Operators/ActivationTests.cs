using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Tests.Operators;

/// <summary>
/// The activation operators (Relu, LeakyRelu, PRelu, Elu, Selu, Sigmoid, Tanh, HardSigmoid,
/// HardSwish, Softplus) against ONNX Runtime for every attribute and element type, and their
/// gradients against finite differences.
/// </summary>
[TestClass]
public sealed class ActivationTests
{
    /// <summary>Each activation with an attribute variant, its opset and the x values where its derivative jumps.</summary>
    private static readonly (string Op, int Opset, NodeAttribute[] Attributes, float[] Kinks)[] Cases =
    {
        ("Relu", 14, Array.Empty<NodeAttribute>(), new[] { 0f }),
        ("Relu", 6, Array.Empty<NodeAttribute>(), new[] { 0f }),
        ("LeakyRelu", 16, Array.Empty<NodeAttribute>(), new[] { 0f }),
        ("LeakyRelu", 6, new[] { NodeAttribute.Float("alpha", 0.5f) }, new[] { 0f }),
        ("Elu", 6, Array.Empty<NodeAttribute>(), new[] { 0f }),
        ("Elu", 6, new[] { NodeAttribute.Float("alpha", 2f) }, new[] { 0f }),
        ("Selu", 6, Array.Empty<NodeAttribute>(), new[] { 0f }),
        ("Selu", 6, new[] { NodeAttribute.Float("alpha", 2f), NodeAttribute.Float("gamma", 3f) }, new[] { 0f }),
        ("Sigmoid", 13, Array.Empty<NodeAttribute>(), Array.Empty<float>()),
        ("Sigmoid", 6, Array.Empty<NodeAttribute>(), Array.Empty<float>()),
        ("Tanh", 13, Array.Empty<NodeAttribute>(), Array.Empty<float>()),
        ("HardSigmoid", 6, Array.Empty<NodeAttribute>(), new[] { -2.5f, 2.5f }),
        ("HardSigmoid", 6, new[] { NodeAttribute.Float("alpha", 0.5f), NodeAttribute.Float("beta", 0.6f) }, new[] { -1.2f, 0.8f }),
        ("HardSwish", 14, Array.Empty<NodeAttribute>(), new[] { -3f, 3f }),
        ("Softplus", 1, Array.Empty<NodeAttribute>(), Array.Empty<float>()),
    };

    /// <summary>Uniform values in [−4, 4) moved at least 0.03 away from the kinks.</summary>
    private static Tensor AwayFromKinks(int seed, float[] kinks, params int[] shape)
    {
        var x = RandomTensors.Uniform(seed, -4f, 4f, shape);
        foreach (ref float v in x.Floats.AsSpan())
            foreach (float k in kinks)
                if (MathF.Abs(v - k) < 0.03f) v = k + 0.1f;
        return x;
    }

    private static Tensor[] Run(Model model, params Tensor[] inputs) => new Executor(model).Run(inputs);

    private static NodeAttribute To(DataType t) => NodeAttribute.Int("to", (long)t);

    [TestMethod]
    public void Activations_EveryAttributeVariant_MatchOnnxRuntime_AndGradients()
    {
        foreach (var (op, opset, attrs, kinks) in Cases)
        {
            var x = AwayFromKinks(1, kinks, 3, 4, 5);
            OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x }, attrs, rtol: 1e-5, atol: 1e-6);
            OpHarness.AssertGradients(op, opset, new[] { x }, attrs);
        }
    }

    [TestMethod]
    public void Activations_LargeTensorsSplitOverThreads_MatchOnnxRuntime_AndGradients()
    {
        // 256×1031 elements: several chunks per thread and a tail shorter than a vector.
        foreach (var (op, opset, attrs, kinks) in Cases)
        {
            var x = AwayFromKinks(2, kinks, 256, 1031);
            OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { x }, attrs, rtol: 1e-5, atol: 1e-6);
            OpHarness.AssertGradients(op, opset, new[] { x }, attrs, samples: 24, options: new CompressBuild.Core.Operators.RunOptions { MaxDegreeOfParallelism = 4 });
        }
    }

    [TestMethod]
    public void Activations_Float16_MatchOnnxRuntime()
    {
        // ONNX Runtime cannot run float16 Relu/LeakyRelu/Sigmoid at opset 6 (their current opsets are
        // covered) nor any float16 model of opset 1 (Softplus-1 runs under opset 6 instead).
        foreach (var (op, opset, attrs, _) in Cases.Where(c => !(c.Opset == 6 && c.Op is "Relu" or "LeakyRelu" or "Sigmoid")))
        {
            var x = ElementConversion.Convert(RandomTensors.Uniform(3, -4f, 4f, 3, 4, 5), DataType.Float16);
            OpHarness.AssertMatchesOnnxRuntime(op, Math.Max(opset, 6), new[] { x }, attrs, rtol: 2e-3, atol: 1e-3);
        }
    }

    [TestMethod]
    public void Activations_Double_MatchOnnxRuntime()
    {
        // ONNX Runtime implements only some in double (at their current opsets); the others are
        // checked against its float result.
        foreach (var (op, opset, attrs, _) in Cases)
        {
            var f = RandomTensors.Uniform(4, -4f, 4f, 3, 4, 5);
            var d = ElementConversion.Convert(f, DataType.Double);
            if (opset >= 13 && op is "Relu" or "LeakyRelu" or "Sigmoid" or "Tanh")
            {
                OpHarness.AssertMatchesOnnxRuntime(op, opset, new[] { d }, attrs, rtol: 1e-12, atol: 1e-14);
                continue;
            }
            var ours = Run(OpHarness.SingleNode(op, opset, new[] { d }, attrs), d)[0];
            Assert.AreEqual(DataType.Double, ours.DataType);
            var theirs = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(OpHarness.SingleNode(op, opset, new[] { f }, attrs)), f)[0];
            Numerics.AssertClose(theirs, ElementConversion.Convert(ours, DataType.Float), 2e-6, 1e-7, $"{op} double");
        }
    }

    [TestMethod]
    public void Activations_BFloat16_ComputeInFloatAndRound()
    {
        // Ours: x → bfloat16 → op → float. Reference (ONNX Runtime): the op in float on the same
        // bfloat16-rounded values, its result rounded to bfloat16.
        foreach (var (op, opset, attrs, _) in Cases.Where(c => c.Opset >= 13))
        {
            var x = RandomTensors.Uniform(5, -4f, 4f, 3, 4, 5);
            var ours = new ModelBuilder(opset);
            ours.Output(ours.Node("Cast", new[] { ours.Node(op, new[] { ours.Node("Cast", new[] { ours.Input("x", DataType.Float, 3, 4, 5) }, To(DataType.BFloat16)) }, attrs) }, To(DataType.Float)));
            var reference = new ModelBuilder(opset);
            var rounded = reference.Node("Cast", new[] { reference.Node("Cast", new[] { reference.Input("x", DataType.Float, 3, 4, 5) }, To(DataType.BFloat16)) }, To(DataType.Float));
            reference.Output(reference.Node("Cast", new[] { reference.Node("Cast", new[] { reference.Node(op, new[] { rounded }, attrs) }, To(DataType.BFloat16)) }, To(DataType.Float)));
            Numerics.AssertClose(OnnxRuntimeOracle.Run(reference.Bytes(), x)[0], Run(ours.Build(), x)[0], 0, 0, $"{op} bfloat16");
        }
    }

    [TestMethod]
    public void Softplus_ExtremeInputs_NeitherOverflowNorLoseSmallValues()
    {
        var x = Tensor.FromArray(new[] { -100f, -30f, -20f, -1e-3f, 0f, 1e-3f, 20f, 30f, 88f, 100f, 1e-30f, float.NegativeInfinity, float.PositiveInfinity }, 13);
        OpHarness.AssertMatchesOnnxRuntime("Softplus", 1, new[] { x }, rtol: 1e-6, atol: 0);
        OpHarness.AssertGradients("Softplus", 1, new[] { Tensor.FromArray(new[] { -30f, -5f, 5f, 30f }, 4) });
    }

    [TestMethod]
    public void SigmoidTanh_SaturatedInputs_MatchOnnxRuntime()
    {
        var x = Tensor.FromArray(new[] { -100f, -20f, 20f, 100f, 0f, -0f, float.NegativeInfinity, float.PositiveInfinity, float.NaN }, 9);
        foreach (var op in new[] { "Sigmoid", "Tanh", "Elu", "Selu", "LeakyRelu", "HardSigmoid", "HardSwish", "Relu" })
            OpHarness.AssertMatchesOnnxRuntime(op, op is "Elu" or "Selu" or "HardSigmoid" ? 6 : 14, new[] { x }, rtol: 1e-6, atol: 1e-7);
    }

    [TestMethod]
    public void Relu_SignedIntegerTypes_MatchOnnxRuntime_AndUnsignedIsATypeError()
    {
        foreach (var t in new[] { DataType.Int8, DataType.Int32 })
            OpHarness.AssertMatchesOnnxRuntime("Relu", 14, new[] { ElementConversion.Convert(RandomTensors.Uniform(6, -100f, 100f, 3, 4), t) });
        var u = Tensor.FromArray(new byte[] { 1, 200 }, 2);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => Run(OpHarness.SingleNode("Relu", 14, new[] { u }), u));
        Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, e.Code);
    }

    [TestMethod]
    public void FloatActivations_IntegerInputs_AreTypeErrors()
    {
        var i = Tensor.FromArray(new[] { 1, -2 }, 2);
        foreach (var (op, opset, attrs, _) in Cases.Where(c => c.Op != "Relu"))
        {
            var e = Assert.ThrowsExactly<CompressBuildException>(() => Run(OpHarness.SingleNode(op, opset, new[] { i }, attrs), i));
            Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, e.Code, op);
        }
    }

    // ---------------------------------------------------------------- PRelu

    [TestMethod]
    public void PRelu_UnidirectionalSlopeBroadcast_MatchesOnnxRuntime_AndGradients()
    {
        var x = AwayFromKinks(7, new[] { 0f }, 3, 4, 5);
        foreach (var slopeShape in new[] { new[] { 3, 4, 5 }, new[] { 5 }, new[] { 4, 1 }, new[] { 1 }, Array.Empty<int>(), new[] { 3, 1, 5 } })
        {
            var slope = RandomTensors.Uniform(8, -0.5f, 0.5f, slopeShape);
            foreach (int opset in new[] { 7, 9, 16 })
                OpHarness.AssertMatchesOnnxRuntime("PRelu", opset, new[] { x, slope });
            OpHarness.AssertGradients("PRelu", 16, new[] { x, slope });
        }
    }

    [TestMethod]
    public void PRelu_LargeTensorWithChannelSlope_MatchesOnnxRuntime()
    {
        var x = RandomTensors.Uniform(9, -1f, 1f, 16, 32, 13, 13);
        OpHarness.AssertMatchesOnnxRuntime("PRelu", 16, new[] { x, RandomTensors.Uniform(10, 0f, 0.5f, 32, 1, 1) });
        OpHarness.AssertMatchesOnnxRuntime("PRelu", 16, new[] { x, Tensor.FromArray(new[] { 0.25f }, 1) });
    }

    [TestMethod]
    public void PRelu_IntegerAndHalfTypes_MatchOnnxRuntime()
    {
        foreach (var t in new[] { DataType.Int32, DataType.Int64, DataType.Double, DataType.Float16 })
        {
            var x = ElementConversion.Convert(RandomTensors.Uniform(11, -50f, 50f, 3, 4), t);
            var slope = ElementConversion.Convert(RandomTensors.Uniform(12, -3f, 3f, 4), t);
            OpHarness.AssertMatchesOnnxRuntime("PRelu", 16, new[] { x, slope }, rtol: 1e-3);
        }
    }

    [TestMethod]
    public void PRelu_Opset6ChannelSlope_EqualsOpset16WithChannelShape_AndGradients()
    {
        foreach (var shape in new[] { new[] { 2, 3, 4 }, new[] { 2, 3, 4, 5 }, new[] { 2, 3, 2, 3, 2 } })
        {
            var x = AwayFromKinks(13, new[] { 0f }, shape);
            var slope = RandomTensors.Uniform(14, 0f, 0.5f, 3);
            var channel = slope.Reshape(new[] { 3 }.Concat(Enumerable.Repeat(1, shape.Length - 2)).ToArray());
            var expected = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(OpHarness.SingleNode("PRelu", 16, new[] { x, channel })), x, channel)[0];
            Numerics.AssertClose(expected, Run(OpHarness.SingleNode("PRelu", 6, new[] { x, slope }), x, slope)[0], 0, 0, "PRelu-6 per channel");
            OpHarness.AssertGradients("PRelu", 6, new[] { x, slope });
            var shared = Tensor.FromArray(new[] { 0.25f }, 1);
            OpHarness.AssertMatchesOnnxRuntime("PRelu", 16, new[] { x, shared });
            Numerics.AssertClose(Run(OpHarness.SingleNode("PRelu", 16, new[] { x, shared }), x, shared)[0], Run(OpHarness.SingleNode("PRelu", 6, new[] { x, shared }), x, shared)[0], 0, 0, "PRelu-6 shared slope");
        }
    }

    [TestMethod]
    public void PRelu_SlopeThatDoesNotBroadcastToX_IsAShapeError()
    {
        var x = RandomTensors.Uniform(15, -1f, 1f, 3, 5);
        foreach (var slope in new[] { RandomTensors.Uniform(16, 0f, 1f, 4), RandomTensors.Uniform(17, 0f, 1f, 2, 3, 5) })
        {
            var e = Assert.ThrowsExactly<CompressBuildException>(() => Run(OpHarness.SingleNode("PRelu", 16, new[] { x, slope }), x, slope));
            Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
        }
    }
}
