using CompressBuild.Core.Execution;
using CompressBuild.Core.Kernels;
using CompressBuild.Core.Operators;
using CompressBuild.Core.Operators.Elementwise;

namespace CompressBuild.Core.Tests.Operators;

/// <summary>
/// The element-wise operators (Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean, Abs, Neg, Sqrt, Exp,
/// Log, Reciprocal, Erf, Cast, Clip) against ONNX Runtime for every broadcasting pattern, element
/// type and opset difference, their gradients against finite differences, and the symbolic
/// shape-vector arithmetic.
/// </summary>
[TestClass]
public sealed class ElementwiseTests
{
    private static readonly string[] Arithmetic = { "Add", "Sub", "Mul", "Div" };

    /// <summary>Types ONNX Runtime's test helper can feed directly.</summary>
    private static readonly DataType[] DirectTypes =
        { DataType.Float, DataType.Double, DataType.Float16, DataType.Int8, DataType.Int16, DataType.Int32, DataType.Int64 };

    /// <summary>Unsigned types, checked through int64 → Cast → op → Cast int64 models (the helper cannot feed them).</summary>
    private static readonly DataType[] UnsignedTypes = { DataType.UInt8, DataType.UInt16, DataType.UInt32, DataType.UInt64 };

    private static readonly (int[] A, int[] B)[] BroadcastPairs =
    {
        (new[] { 3, 4, 5 }, new[] { 3, 4, 5 }),
        (new[] { 3, 4, 5 }, new[] { 5 }),
        (new[] { 3, 4, 5 }, new[] { 4, 1 }),
        (new[] { 2, 1, 4 }, new[] { 3, 1 }),
        (new[] { 1 }, new[] { 3, 4 }),
        (Array.Empty<int>(), new[] { 3, 4 }),
        (new[] { 3, 4 }, Array.Empty<int>()),
        (new[] { 3, 1, 5 }, new[] { 1, 4, 1 }),
        (new[] { 2, 3, 4, 5 }, new[] { 3, 1, 1 }),
    };

    private static Tensor X(int seed, params int[] shape) => RandomTensors.Uniform(seed, -1f, 1f, shape);

    /// <summary>Uniform values in [lo, hi] (rounded for integer types) converted to <paramref name="type"/>.</summary>
    private static Tensor Typed(DataType type, int seed, double lo, double hi, params int[] shape)
    {
        var rng = new Random(seed);
        var d = new double[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < d.Length; i++)
        {
            double v = lo + rng.NextDouble() * (hi - lo);
            d[i] = DataTypes.IsFloatingPoint(type) ? v : Math.Round(v);
        }
        return ElementConversion.Convert(Tensor.FromArray(d, shape), type);
    }

    /// <summary>Floats with magnitude in [0.5, 1.5] and random sign: safe divisors.</summary>
    private static Tensor AwayFromZero(int seed, params int[] shape)
    {
        var t = RandomTensors.Uniform(seed, -1f, 1f, shape);
        foreach (ref float v in t.Floats.AsSpan()) v = MathF.CopySign(0.5f + MathF.Abs(v), v);
        return t;
    }

    /// <summary>Input <paramref name="k"/> of a set whose values all differ by at least 0.025: (integer + k/4) / 10.</summary>
    private static Tensor Separated(int seed, int k, params int[] shape)
    {
        var rng = new Random(seed);
        var d = new float[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < d.Length; i++) d[i] = (rng.Next(-20, 21) + 0.25f * k) / 10f;
        return Tensor.FromArray(d, shape);
    }

    private static Tensor[] Run(Model model, params Tensor[] inputs) => new Executor(model).Run(inputs);

    /// <summary>Runs a model in our executor and in ONNX Runtime and asserts the outputs agree.</summary>
    private static void AssertModelMatches(Model model, Tensor[] inputs, string what, double rtol = 1e-4, double atol = 1e-5)
    {
        var ours = Run(model, inputs);
        var theirs = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), inputs);
        for (int i = 0; i < ours.Length; i++) Numerics.AssertClose(theirs[i], ours[i], rtol, atol, what);
    }

    /// <summary>int64 inputs cast to <paramref name="type"/>, one <paramref name="op"/> node, the result cast back to int64.</summary>
    private static Model ThroughCasts(string op, int opset, DataType type, int[][] shapes, params NodeAttribute[] attributes)
    {
        var b = new ModelBuilder(opset);
        var names = shapes.Select((s, i) => b.Node("Cast", new[] { b.Input($"x{i}", DataType.Int64, s.Cast<object>().ToArray()) }, NodeAttribute.Int("to", (long)type))).ToArray();
        var y = b.Node("Cast", new[] { b.Node(op, names, attributes) }, NodeAttribute.Int("to", (long)DataType.Int64));
        b.Output(y, DataType.Int64);
        return b.Build();
    }

    private static Tensor Ints(params long[] values) => Tensor.Int64Vector(values);

    private static CompressBuildException Throws(Action run)
    {
        try
        {
            run();
        }
        catch (CompressBuildException e)
        {
            return e;
        }
        Assert.Fail("expected a CompressBuildException");
        return null!;
    }

    // ---------------------------------------------------------------- Add, Sub, Mul, Div

    [TestMethod]
    public void AddSubMulDiv_NumpyBroadcasting_MatchesOnnxRuntime_AndGradients()
    {
        foreach (var op in Arithmetic)
            foreach (var (sa, sb) in BroadcastPairs)
            {
                var inputs = new[] { X(1, sa), op == "Div" ? AwayFromZero(2, sb) : X(2, sb) };
                OpHarness.AssertMatchesOnnxRuntime(op, 14, inputs);
                OpHarness.AssertGradients(op, 14, inputs);
            }
    }

    [TestMethod]
    public void AddSubMulDiv_LargeBroadcastsSplitOverThreads_MatchOnnxRuntime()
    {
        // Beyond the single-thread threshold: same shape, scalar, row, column and general broadcasts.
        var a = X(3, 64, 40, 33);
        foreach (var bShape in new[] { new[] { 64, 40, 33 }, Array.Empty<int>(), new[] { 33 }, new[] { 40, 1 }, new[] { 64, 1, 33 } })
            foreach (var op in Arithmetic)
                OpHarness.AssertMatchesOnnxRuntime(op, 14, new[] { a, AwayFromZero(4, bShape) });
    }

    [TestMethod]
    public void AddSubMulDiv_SignedAndFloatTypes_MatchOnnxRuntime()
    {
        foreach (var type in DirectTypes)
            foreach (var op in Arithmetic)
            {
                bool integer = !DataTypes.IsFloatingPoint(type);
                var a = Typed(type, 5, -60, 60, 3, 4);
                // Integer divisors without zeros; negative ones check truncation toward zero.
                var b = op == "Div" && integer ? Typed(DataType.Int64, 6, 1, 9, 4) : Typed(type, 6, -9, 9, 4);
                if (op == "Div" && integer)
                {
                    var l = b.ArrayOf<long>();
                    for (int i = 0; i < l.Length; i += 2) l[i] = -l[i];
                    b = ElementConversion.Convert(b, type);
                }
                OpHarness.AssertMatchesOnnxRuntime(op, 14, new[] { a, b }, rtol: 1e-3);
            }
    }

    [TestMethod]
    public void AddSubMulDiv_UnsignedTypes_WrapLikeOnnxRuntime()
    {
        foreach (var type in UnsignedTypes)
            foreach (var op in Arithmetic)
            {
                var a = Typed(DataType.Int64, 7, 0, 250, 3, 4);
                var b = Typed(DataType.Int64, 8, op == "Div" ? 1 : 0, 250, 4);
                AssertModelMatches(ThroughCasts(op, 14, type, new[] { new[] { 3, 4 }, new[] { 4 } }), new[] { a, b }, $"{op} {type}");
            }
    }

    [TestMethod]
    public void AddMul_IntegerOverflow_WrapsLikeOnnxRuntime()
    {
        var a = Tensor.FromArray(new[] { int.MaxValue, int.MinValue, 123456789, -5 }, 4);
        var b = Tensor.FromArray(new[] { 10, -1, 1000, int.MinValue }, 4);
        foreach (var op in new[] { "Add", "Sub", "Mul" })
            OpHarness.AssertMatchesOnnxRuntime(op, 14, new[] { a, b });
        var la = Tensor.FromArray(new[] { long.MaxValue, long.MinValue, 3037000500L }, 3);
        var lb = Tensor.FromArray(new[] { 2L, -1L, 3037000500L }, 3);
        foreach (var op in new[] { "Add", "Mul" })
            OpHarness.AssertMatchesOnnxRuntime(op, 14, new[] { la, lb });
    }

    [TestMethod]
    public void Div_IntegerByZero_IsAnExecutionError()
    {
        var a = Tensor.FromArray(new[] { 1, 2, 3 }, 3);
        var b = Tensor.FromArray(new[] { 1, 0, 3 }, 3);
        var e = Throws(() => Run(OpHarness.SingleNode("Div", 14, new[] { a, b }), a, b));
        Assert.AreEqual(ErrorCodes.ExecutionFailed, e.Code);
        StringAssert.Contains(e.Message, "division by zero");
    }

    [TestMethod]
    public void Div_IntegerMinValueByMinusOne_Wraps()
    {
        var a = Tensor.FromArray(new[] { int.MinValue, 7, -7 }, 3);
        var b = Tensor.FromArray(new[] { -1, -2, 2 }, 3);
        var y = Run(OpHarness.SingleNode("Div", 14, new[] { a, b }), a, b)[0].ArrayOf<int>();
        CollectionAssert.AreEqual(new[] { int.MinValue, -3, -3 }, y, "C truncation; MinValue / -1 wraps");
    }

    [TestMethod]
    public void Arithmetic_Opset6LegacyBroadcast_EqualsOpset7WithBAligned_AndGradients()
    {
        var a = X(9, 2, 3, 4, 5);
        var cases = new (int[] B, long? Axis, int[] Aligned)[]
        {
            (new[] { 3, 4 }, 1, new[] { 3, 4, 1 }),
            (new[] { 2 }, 0, new[] { 2, 1, 1, 1 }),
            (new[] { 4, 5 }, null, new[] { 4, 5 }),
            (new[] { 3, 1 }, 1, new[] { 3, 1, 1 }),
            (new[] { 1 }, null, new[] { 1 }),
            (Array.Empty<int>(), null, Array.Empty<int>()),
        };
        foreach (var op in Arithmetic)
            foreach (var (bShape, axis, aligned) in cases)
            {
                var b = AwayFromZero(10, bShape);
                var attrs = new List<NodeAttribute> { NodeAttribute.Int("broadcast", 1) };
                if (axis is { } ax) attrs.Add(NodeAttribute.Int("axis", ax));
                var ours = Run(OpHarness.SingleNode(op, 6, new[] { a, b }, attrs.ToArray()), a, b)[0];
                var bAligned = b.Reshape(aligned);
                var expected = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(OpHarness.SingleNode(op, 7, new[] { a, bAligned })), a, bAligned)[0];
                Numerics.AssertClose(expected, ours, 1e-5, 1e-6, $"{op} legacy B [{string.Join(",", bShape)}] axis {axis}");
                OpHarness.AssertGradients(op, 6, new[] { a, b }, attrs.ToArray());
            }
    }

    [TestMethod]
    public void Arithmetic_Opset6WithoutBroadcastAttribute_RequiresEqualShapes()
    {
        var a = X(11, 2, 3);
        var b = X(12, 3);
        var e = Throws(() => Run(OpHarness.SingleNode("Add", 6, new[] { a, b }), a, b));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
        var same = X(13, 2, 3);
        OpHarness.AssertGradients("Mul", 6, new[] { a, same });
    }

    [TestMethod]
    public void Arithmetic_MixedTypesOrIncompatibleShapes_AreShapeErrors()
    {
        var f = X(14, 3);
        var i = Tensor.FromArray(new[] { 1, 2, 3 }, 3);
        Assert.AreEqual(ErrorCodes.ShapeMismatch, Throws(() => Run(OpHarness.SingleNode("Add", 14, new[] { f, i }), f, i)).Code);
        var g = X(15, 4);
        Assert.AreEqual(ErrorCodes.ShapeMismatch, Throws(() => Run(OpHarness.SingleNode("Mul", 14, new[] { f, g }), f, g)).Code);
        var s = Tensor.FromArray(new[] { "a", "b", "c" }, 3);
        Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, Throws(() => Run(OpHarness.SingleNode("Add", 14, new[] { s, s }), s, s)).Code);
    }

    [TestMethod]
    public void ElementwiseOps_BFloat16_ComputeInFloatAndRound()
    {
        // Ours: inputs → bfloat16 → op → float. Reference (ONNX Runtime): the op in float on the same
        // bfloat16-rounded values, its result rounded to bfloat16.
        var cases = new (string Op, int Inputs)[]
        {
            ("Add", 2), ("Sub", 2), ("Mul", 2), ("Div", 2), ("Pow", 2), ("Max", 3), ("Min", 2), ("Sum", 3), ("Mean", 2),
            ("Abs", 1), ("Neg", 1), ("Sqrt", 1), ("Exp", 1), ("Log", 1), ("Reciprocal", 1), ("Erf", 1), ("Clip", 3),
        };
        var shapes = new[] { new[] { 3, 4 }, new[] { 4 }, Array.Empty<int>() };
        foreach (var (op, count) in cases)
        {
            var inputs = Enumerable.Range(0, count).Select(i => RandomTensors.Uniform(60 + i, 0.5f, 2f, shapes[i])).ToArray();
            if (op == "Clip") inputs[1] = Tensor.FromArray(new[] { 1.2f }, 1);
            if (op == "Clip") inputs[2] = Tensor.Scalar(1.7f);
            if (op == "Clip") inputs[1] = inputs[1].Reshape();
            var ours = new ModelBuilder(15);
            var oursIn = inputs.Select((t, i) => ours.Node("Cast", new[] { ours.Input($"x{i}", DataType.Float, t.Shape.Cast<object>().ToArray()) }, To(DataType.BFloat16))).ToArray();
            ours.Output(ours.Node("Cast", new[] { ours.Node(op, oursIn) }, To(DataType.Float)));
            var reference = new ModelBuilder(15);
            var refIn = inputs.Select((t, i) => reference.Node("Cast", new[] { reference.Node("Cast", new[] { reference.Input($"x{i}", DataType.Float, t.Shape.Cast<object>().ToArray()) }, To(DataType.BFloat16)) }, To(DataType.Float))).ToArray();
            reference.Output(reference.Node("Cast", new[] { reference.Node("Cast", new[] { reference.Node(op, refIn) }, To(DataType.BFloat16)) }, To(DataType.Float)));
            Numerics.AssertClose(OnnxRuntimeOracle.Run(reference.Bytes(), inputs)[0], Run(ours.Build(), inputs)[0], 0, 0, $"{op} bfloat16");
        }
    }

    // ---------------------------------------------------------------- Symbolic shape vectors

    /// <summary>Runs one node's shape inference on the given facts.</summary>
    private static ValueFacts Infer(string op, int opset, params ValueFacts[] inputs) => Infer(op, opset, Array.Empty<NodeAttribute>(), inputs);

    private static ValueFacts Infer(string op, int opset, NodeAttribute[] attributes, params ValueFacts[] inputs)
    {
        var node = new Node(op, inputs.Select((_, i) => $"x{i}"), new[] { "y" });
        node.Attributes.AddRange(attributes);
        var kernel = OperatorRegistry.Create(node, opset, "test");
        var ctx = new ShapeContext(kernel, inputs, 1);
        kernel.InferShapes(ctx);
        return ctx.Output(0)!;
    }

    private static ValueFacts Elements(DataType type, params Dim[] elements) => new(type, new Dim[] { elements.Length }, null, elements);

    private static ValueFacts ScalarElement(Dim element) => new(DataType.Int64, Array.Empty<Dim>(), null, new[] { element });

    [TestMethod]
    public void AddSubMulDiv_OnShapeVectors_StateSymbolicElements()
    {
        var batch = Dim.Symbolic("batch");
        var shape = Elements(DataType.Int64, batch, 16, 5, 5);
        Assert.AreEqual("[4*batch,64,20,20]", Dim.Format(Infer("Mul", 14, shape, Elements(DataType.Int64, 4)).Elements!));
        Assert.AreEqual("[batch,4,1,1]", Dim.Format(Infer("Div", 14, shape, Elements(DataType.Int64, 1, 4, 5, 5)).Elements!));
        Assert.AreEqual("[2*batch,32,10,10]", Dim.Format(Infer("Add", 14, shape, shape).Elements!));
        Assert.AreEqual("[0,0,0,0]", Dim.Format(Infer("Sub", 14, shape, shape).Elements!));
        var scalar = Infer("Mul", 14, ScalarElement(batch), ScalarElement(400));
        Assert.AreEqual(0, scalar.Shape!.Length);
        Assert.AreEqual("[400*batch]", Dim.Format(scalar.Elements!));
        var int32 = Infer("Mul", 14, Elements(DataType.Int32, batch, 3), Elements(DataType.Int32, 2));
        Assert.AreEqual("[2*batch,6]", Dim.Format(int32.Elements!));
    }

    [TestMethod]
    public void AddSubMulDiv_OnShapeVectors_WithoutStaticForm_StayPlainTensors()
    {
        var batch = Dim.Symbolic("batch");
        var shape = Elements(DataType.Int64, batch, 16);
        Assert.IsNull(Infer("Mul", 14, shape, shape).Elements, "batch·batch has no static size");
        Assert.IsNull(Infer("Div", 14, shape, Elements(DataType.Int64, 3)).Elements, "batch/3 is not exact");
        Assert.IsNull(Infer("Add", 14, shape, Elements(DataType.Int64, 1)).Elements, "batch+1 has no static size");
        var known = Infer("Mul", 14, Elements(DataType.Int64, 2, 3), Elements(DataType.Int64, 5));
        Assert.IsNotNull(known.Value, "known elements make a constant");
        CollectionAssert.AreEqual(new[] { 10L, 15L }, known.Value!.ArrayOf<long>());
        Assert.IsNull(Infer("Mul", 14, Elements(DataType.Float, 2), Elements(DataType.Float, 3)).Elements, "floats are not shape vectors");
    }

    [TestMethod]
    public void ShapeGatherMulConcatReshape_ResolvesStaticallyWithASymbolicBatch()
    {
        var b = new ModelBuilder(13);
        var x = b.Input("x", DataType.Float, "batch", 16, 5, 5);
        var shape = b.Node("Shape", new[] { x });
        var batch = b.Node("Gather", new[] { shape, b.Initializer("zero", Tensor.Scalar(0L)) }, NodeAttribute.Int("axis", 0));
        var doubled = b.Node("Mul", new[] { batch, b.Initializer("two", Tensor.Scalar(2L)) });
        var target = b.Node("Concat", new[] { b.Node("Unsqueeze", new[] { doubled, b.Initializer("axes", Ints(0)) }), b.Initializer("rest", Ints(200)) }, NodeAttribute.Int("axis", 0));
        var y = b.Node("Reshape", new[] { x, target });
        b.Output(y);
        var model = b.Build();
        var facts = new Dictionary<string, ValueFacts>(StringComparer.Ordinal);
        foreach (var i in model.Graph.Inputs) facts[i.Name] = new ValueFacts(i.ElementType, i.Shape);
        foreach (var (name, t) in model.Graph.Initializers) facts[name] = ValueFacts.Of(t);
        foreach (var node in model.Graph.Nodes)
        {
            var kernel = OperatorRegistry.Create(node, model.Opset, "test");
            var ctx = new ShapeContext(kernel, node.Inputs.Select(n => facts[n]).ToArray(), node.Outputs.Count);
            kernel.InferShapes(ctx);
            facts[node.Outputs[0]] = ctx.Output(0)!;
        }
        Assert.AreEqual("[2*batch]", Dim.Format(facts[doubled].Elements!));
        Assert.AreEqual("[2*batch,200]", Dim.Format(facts[y].Shape!));
        var input = X(16, 6, 16, 5, 5);
        Assert.AreEqual("12,200", string.Join(",", Run(model, input)[0].Shape));
    }

    // ---------------------------------------------------------------- Pow

    [TestMethod]
    public void Pow_FloatBroadcastsAndSpecialExponents_MatchOnnxRuntime_AndGradients()
    {
        var a = RandomTensors.Uniform(17, 0.5f, 2f, 3, 4, 5);
        var exponents = new[]
        {
            RandomTensors.Uniform(18, -2f, 2f, 3, 4, 5), RandomTensors.Uniform(19, -2f, 2f, 5), RandomTensors.Uniform(20, -2f, 2f, 4, 1),
            Tensor.Scalar(2f), Tensor.Scalar(3f), Tensor.Scalar(1f), Tensor.Scalar(0.5f), Tensor.Scalar(-1.5f),
        };
        foreach (var b in exponents)
        {
            OpHarness.AssertMatchesOnnxRuntime("Pow", 15, new[] { a, b });
            OpHarness.AssertGradients("Pow", 15, new[] { a, b });
        }
        // Negative bases with integral exponents, and a scalar base.
        var signed = X(21, 3, 4);
        foreach (var b in new[] { Tensor.Scalar(2f), Tensor.Scalar(3f), Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 4) })
            OpHarness.AssertMatchesOnnxRuntime("Pow", 15, new[] { signed, b });
        OpHarness.AssertMatchesOnnxRuntime("Pow", 15, new[] { Tensor.Scalar(1.7f), RandomTensors.Uniform(22, -2f, 2f, 6) });
    }

    [TestMethod]
    public void Pow_MixedBaseAndExponentTypes_MatchOnnxRuntime()
    {
        var cases = new (DataType Base, double Lo, double Hi, DataType Exponent, double ELo, double EHi)[]
        {
            (DataType.Float, 0.5, 3, DataType.Int32, -3, 4),
            (DataType.Float, -3, 3, DataType.Int64, 0, 4),
            (DataType.Int32, 1, 9, DataType.Float, 0, 3),
            (DataType.Int64, 1, 9, DataType.Float, 0, 3),
            (DataType.Int32, -6, 6, DataType.Int32, 0, 5),
            (DataType.Int64, -60, 60, DataType.Int64, 0, 9),
            (DataType.Int64, 1, 5, DataType.Int64, -2, 0),
            (DataType.Int32, -5, -1, DataType.Int32, -3, 0),
            (DataType.Double, 0.5, 3, DataType.Double, -2, 2),
            (DataType.Float, 0.5, 3, DataType.Double, -2, 2),
            (DataType.Double, 0.5, 3, DataType.Float, -2, 2),
            (DataType.Float16, 0.5, 3, DataType.Float, -2, 2),
        };
        foreach (var (bt, lo, hi, et, elo, ehi) in cases)
        {
            var a = Typed(bt, 23, lo, hi, 3, 4);
            var b = Typed(et, 24, elo, ehi, 4);
            OpHarness.AssertMatchesOnnxRuntime("Pow", 15, new[] { a, b }, rtol: 1e-3);
        }
    }

    [TestMethod]
    public void Pow_MixedTypesBeforeOpset12_IsAShapeError()
    {
        var a = X(25, 3);
        var b = Tensor.FromArray(new[] { 1, 2, 3 }, 3);
        Assert.AreEqual(ErrorCodes.ShapeMismatch, Throws(() => Run(OpHarness.SingleNode("Pow", 11, new[] { a, b }), a, b)).Code);
    }

    // ---------------------------------------------------------------- Max, Min, Sum, Mean

    [TestMethod]
    public void MaxMinSumMean_VariadicWithBroadcasting_MatchOnnxRuntime_AndGradients()
    {
        // Inputs differ pairwise by at least 0.025, so finite differences never cross a max/min switch.
        var inputs = new[] { Separated(26, 0, 3, 1, 4), Separated(27, 1, 2, 4), Separated(28, 2, 1), Separated(29, 3, 3, 2, 4) };
        foreach (var op in new[] { "Max", "Min", "Sum", "Mean" })
        {
            for (int n = 1; n <= inputs.Length; n++)
            {
                var some = inputs.Take(n).ToArray();
                OpHarness.AssertMatchesOnnxRuntime(op, 13, some);
                OpHarness.AssertGradients(op, 13, some);
            }
            OpHarness.AssertMatchesOnnxRuntime(op, 8, new[] { inputs[1], inputs[0] });
        }
    }

    [TestMethod]
    public void MaxMin_EveryNumericType_MatchOnnxRuntime()
    {
        foreach (var op in new[] { "Max", "Min" })
        {
            foreach (var type in new[] { DataType.Float, DataType.Double, DataType.Float16, DataType.Int8, DataType.Int32, DataType.Int64 })
                OpHarness.AssertMatchesOnnxRuntime(op, 13, new[] { Typed(type, 30, -100, 100, 3, 4), Typed(type, 31, -100, 100, 4), Typed(type, 32, -100, 100, 3, 1) });
            var inputs = new[] { Typed(DataType.Int64, 33, 0, 250, 3, 4), Typed(DataType.Int64, 34, 0, 250, 4) };
            foreach (var type in UnsignedTypes.Append(DataType.Int16))
            {
                // ONNX Runtime lacks some of these kernels; values in range give int64's answer.
                var ours = Run(ThroughCasts(op, 13, type, new[] { new[] { 3, 4 }, new[] { 4 } }), inputs)[0];
                Numerics.AssertClose(OnnxRuntimeOracle.Run(OnnxModel.ToBytes(OpHarness.SingleNode(op, 13, inputs)), inputs)[0], ours, 0, 0, $"{op} {type}");
            }
        }
        // ONNX Runtime has no double Mean.
        foreach (var (type, op) in new[] { (DataType.Double, "Sum"), (DataType.Float16, "Sum"), (DataType.Float16, "Mean") })
            OpHarness.AssertMatchesOnnxRuntime(op, 13, new[] { Typed(type, 35, -5, 5, 3, 4), Typed(type, 36, -5, 5, 4) }, rtol: 1e-3);
    }

    [TestMethod]
    public void MaxMin_Ties_SendTheGradientToTheFirstInput()
    {
        var x = X(37, 2, 3);
        foreach (var op in new[] { "Max", "Min" })
        {
            var model = OpHarness.SingleNode(op, 13, new[] { x, x, x });
            var exec = new Executor(model);
            var named = new Dictionary<string, Tensor> { ["x0"] = x, ["x1"] = x.Clone(), ["x2"] = x.Clone() };
            var record = exec.Forward(named);
            var ones = Tensor.FromArray(Enumerable.Repeat(1f, 6).ToArray(), 2, 3);
            var grads = exec.Backward(record, new Dictionary<string, Tensor> { [model.Graph.Outputs[0].Name] = ones }, new[] { "x0", "x1", "x2" });
            CollectionAssert.AreEqual(ones.Floats, grads["x0"].Floats, $"{op}: the first input takes the tie");
            Assert.AreEqual(0f, grads["x1"].Floats.Sum() + grads["x2"].Floats.Sum(), $"{op}: later inputs get nothing");
        }
    }

    [TestMethod]
    public void SumMean_IntegerInputs_AreTypeErrors()
    {
        var i = Tensor.FromArray(new[] { 1, 2 }, 2);
        foreach (var op in new[] { "Sum", "Mean" })
            Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, Throws(() => Run(OpHarness.SingleNode(op, 13, new[] { i, i }), i, i)).Code);
    }

    // ---------------------------------------------------------------- Unary functions

    [TestMethod]
    public void AbsNeg_SignedAndFloatTypes_MatchOnnxRuntime_AndGradients()
    {
        foreach (var op in new[] { "Abs", "Neg" })
        {
            foreach (var type in DirectTypes)
                OpHarness.AssertMatchesOnnxRuntime(op, 13, new[] { Typed(type, 38, -100, 100, 3, 4) });
            OpHarness.AssertMatchesOnnxRuntime(op, 13, new[] { Tensor.FromArray(new[] { int.MinValue, int.MaxValue, 0, -1 }, 4) });
            var x = AwayFromZero(39, 3, 4, 5);
            OpHarness.AssertGradients(op, 13, new[] { x });
            OpHarness.AssertGradients(op, 6, new[] { x });
        }
        foreach (var type in UnsignedTypes)
            AssertModelMatches(ThroughCasts("Abs", 13, type, new[] { new[] { 5 } }), new[] { Typed(DataType.Int64, 40, 0, 250, 5) }, $"Abs {type}");
        var u = Tensor.FromArray(new byte[] { 1, 2 }, 2);
        Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, Throws(() => Run(OpHarness.SingleNode("Neg", 13, new[] { u }), u)).Code);
    }

    [TestMethod]
    public void SqrtExpLogReciprocal_FloatDoubleAndHalf_MatchOnnxRuntime_AndGradients()
    {
        foreach (var (op, lo, hi) in new[] { ("Sqrt", 0.25, 4.0), ("Exp", -3.0, 3.0), ("Log", 0.25, 4.0), ("Reciprocal", 0.25, 4.0) })
        {
            foreach (var type in new[] { DataType.Float, DataType.Double, DataType.Float16 })
                OpHarness.AssertMatchesOnnxRuntime(op, 13, new[] { Typed(type, 41, lo, hi, 3, 4, 5) }, rtol: type == DataType.Float16 ? 1e-3 : 1e-5);
            var x = RandomTensors.Uniform(42, (float)lo, (float)hi, 3, 4, 5);
            OpHarness.AssertGradients(op, 13, new[] { x });
            OpHarness.AssertGradients(op, 6, new[] { x });
        }
        // Out-of-domain values give NaN and infinities like ONNX Runtime.
        var edge = Tensor.FromArray(new[] { -1f, 0f, -0f, float.PositiveInfinity, float.NaN, 1e-30f }, 6);
        foreach (var op in new[] { "Sqrt", "Log", "Reciprocal", "Exp" })
            OpHarness.AssertMatchesOnnxRuntime(op, 13, new[] { edge });
    }

    [TestMethod]
    public void Erf_MatchesOnnxRuntime_AndGradient()
    {
        var x = RandomTensors.Uniform(43, -4.5f, 4.5f, 1, 3, 32, 32);
        OpHarness.AssertMatchesOnnxRuntime("Erf", 13, new[] { x }, rtol: 1e-6, atol: 1e-7);
        OpHarness.AssertMatchesOnnxRuntime("Erf", 13, new[] { Typed(DataType.Float16, 44, -3, 3, 20) }, rtol: 1e-3);
        OpHarness.AssertGradients("Erf", 13, new[] { RandomTensors.Uniform(45, -2f, 2f, 4, 5) });
        var edge = Tensor.FromArray(new[] { 0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e-30f, -1e-20f, 10f }, 8);
        OpHarness.AssertMatchesOnnxRuntime("Erf", 13, new[] { edge }, rtol: 1e-6, atol: 0);
    }

    [TestMethod]
    public void Erf_FloatApproximation_HasRelativeErrorBelow1e6()
    {
        // The double erf is checked against the function's tabulated values, then serves as the reference.
        foreach (var (v, erf) in new[] { (0.1, 0.1124629160182849), (0.5, 0.5204998778130465), (1.0, 0.8427007929497149), (2.0, 0.9953222650189527), (3.0, 0.9999779095030014) })
        {
            Assert.AreEqual(erf, ElementwiseKernels.Erf(v), 1e-15 * erf);
            Assert.AreEqual(-erf, ElementwiseKernels.Erf(-v), 1e-15 * erf);
        }
        var xs = new List<float>();
        for (float v = -6f; v <= 6f; v += 1.7e-4f) xs.Add(v);
        for (float v = 1e-30f; v < 1f; v *= 1.37f) xs.Add(v);
        var x = Tensor.FromArray(xs.ToArray(), xs.Count);
        var y = Run(OpHarness.SingleNode("Erf", 13, new[] { x }), x)[0].Floats;
        double worst = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double reference = ElementwiseKernels.Erf((double)xs[i]);
            worst = Math.Max(worst, Math.Abs(y[i] - reference) / Math.Abs(reference));
        }
        Assert.IsTrue(worst < 1e-6, $"max relative error {worst:G3}");
    }

    [TestMethod]
    public void Erf_DoubleAndIntegerInputs_ComputeInDouble()
    {
        var x = Tensor.FromArray(new[] { 0.3, -1.2, 2.5, 5.0 }, 4);
        var y = Run(OpHarness.SingleNode("Erf", 13, new[] { x }), x)[0].ArrayOf<double>();
        for (int i = 0; i < y.Length; i++) Assert.AreEqual(ElementwiseKernels.Erf(x.ArrayOf<double>()[i]), y[i]);
        var ints = Tensor.FromArray(new[] { 0, 3, -2 }, 3);
        CollectionAssert.AreEqual(new[] { 0, 0, 0 }, Run(OpHarness.SingleNode("Erf", 13, new[] { ints }), ints)[0].ArrayOf<int>(), "erf of an integer truncates to 0");
    }

    [TestMethod]
    public void UnaryFloatFunctions_RejectIntegers()
    {
        var i = Tensor.FromArray(new[] { 1, 2 }, 2);
        foreach (var op in new[] { "Sqrt", "Exp", "Log", "Reciprocal" })
            Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, Throws(() => Run(OpHarness.SingleNode(op, 13, new[] { i }), i)).Code);
    }

    // ---------------------------------------------------------------- Cast

    private static NodeAttribute To(DataType t) => NodeAttribute.Int("to", (long)t);

    [TestMethod]
    public void Cast_BetweenNumericAndBoolTypes_MatchesOnnxRuntime()
    {
        // Values every type holds (0..100 with fractions for the float sources, zeros for bool).
        var types = DirectTypes.Append(DataType.Bool).ToArray();
        foreach (var from in types)
        {
            var source = from == DataType.Bool
                ? Tensor.FromArray(new[] { true, false, true, true }, 2, 2)
                : Typed(from, 46, 0, 100, 2, 2);
            if (DataTypes.IsFloatingPoint(from))
            {
                var d = ElementConversion.Convert(source, DataType.Double).ArrayOf<double>();
                d[0] = 0;
                d[1] = 2.75;
                source = ElementConversion.Convert(Tensor.FromArray(d, 2, 2), from);
            }
            foreach (var to in types.Concat(UnsignedTypes))
            {
                if (UnsignedTypes.Contains(to))
                {
                    // The helper cannot read unsigned outputs either: cast on to int64 inside the model.
                    var b = new ModelBuilder(13);
                    var y = b.Node("Cast", new[] { b.Node("Cast", new[] { b.Input("x", from, 2, 2) }, To(to)) }, To(DataType.Int64));
                    b.Output(y, DataType.Int64);
                    AssertModelMatches(b.Build(), new[] { source }, $"Cast {from} -> {to}");
                }
                else OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { source }, new[] { To(to) });
            }
        }
    }

    [TestMethod]
    public void Cast_TruncatesTowardZeroAndWrapsNarrowing_LikeOnnxRuntime()
    {
        var f = Tensor.FromArray(new[] { -2.75f, -0.5f, 0.5f, 2.75f, 127.9f, -128.9f }, 6);
        foreach (var to in new[] { DataType.Int8, DataType.Int16, DataType.Int32, DataType.Int64 })
            OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { f }, new[] { To(to) });
        var l = Tensor.FromArray(new[] { 200L, 300L, -200L, 70000L, 1L << 40, -(1L << 33) - 5 }, 6);
        foreach (var to in new[] { DataType.Int8, DataType.Int16, DataType.Int32, DataType.Float, DataType.Double, DataType.Float16 })
            OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { l }, new[] { To(to) });
        var d = Tensor.FromArray(new[] { 0.1, 1e-10, 65504.0, 1e6, double.NaN, double.NegativeInfinity }, 6);
        foreach (var to in new[] { DataType.Float, DataType.Float16, DataType.Bool })
            OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { d }, new[] { To(to) });
    }

    [TestMethod]
    public void Cast_StringsToNumbers_MatchOnnxRuntime()
    {
        var s = Tensor.FromArray(new[] { "0.47892547", "NaN", "INF", "+INF", "-INF", "-3.25", "1e-5", "1E8", "7", "nan", "-inf", "  2.5" }, 3, 4);
        foreach (var to in new[] { DataType.Float, DataType.Double, DataType.Float16 })
            OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { s }, new[] { To(to) });
        var ints = Tensor.FromArray(new[] { "12", "-7", "0", "9000000000" }, 4);
        foreach (var to in new[] { DataType.Int64, DataType.Int32 })
            OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { ints }, new[] { To(to) });
        var bools = Tensor.FromArray(new[] { "1", "0", "-3", "2.5" }, 4);
        OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { bools }, new[] { To(DataType.Bool) });
    }

    [TestMethod]
    public void Cast_IntegersAndBoolsToStrings_MatchOnnxRuntime()
    {
        OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { Tensor.FromArray(new[] { long.MinValue, -1L, 0L, 42L }, 4) }, new[] { To(DataType.String) });
        OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { Tensor.FromArray(new[] { -128, 7 }, 2) }, new[] { To(DataType.String) });
        OpHarness.AssertMatchesOnnxRuntime("Cast", 13, new[] { Tensor.FromArray(new[] { true, false }, 2) }, new[] { To(DataType.String) });
    }

    [TestMethod]
    public void Cast_FloatToString_PrintsLikeNumpy_AndRoundTrips()
    {
        // The suite's expected strings come from numpy's str(); these are its outputs for these floats.
        var cases = new (float Value, string Text)[]
        {
            (1f, "1.0"), (0f, "0.0"), (-0f, "-0.0"), (1e-5f, "1e-05"), (1e-4f, "1e-04"), (0.00012345f, "0.00012345"),
            (123456789f, "123456790.0"), (1e16f, "1e+16"), (1e15f, "1000000000000000.0"), (3.4e38f, "3.4e+38"),
            (-2.25f, "-2.25"), (0.039187793f, "0.039187793"), (1e-45f, "1e-45"),
            (float.NaN, "NaN"), (float.PositiveInfinity, "INF"), (float.NegativeInfinity, "-INF"),
        };
        var x = Tensor.FromArray(cases.Select(c => c.Value).ToArray(), cases.Length);
        var s = Run(OpHarness.SingleNode("Cast", 13, new[] { x }, new[] { To(DataType.String) }), x)[0].ArrayOf<string>();
        CollectionAssert.AreEqual(cases.Select(c => c.Text).ToArray(), s);
        var d = Tensor.FromArray(new[] { 0.1, 1e-5, 1e16, 123456789.123 }, 4);
        CollectionAssert.AreEqual(new[] { "0.1", "1e-05", "1e+16", "123456789.123" },
            Run(OpHarness.SingleNode("Cast", 13, new[] { d }, new[] { To(DataType.String) }), d)[0].ArrayOf<string>());

        // Shortest round-trip text: string → float gives back the same bits.
        var r = RandomTensors.Normal(47, 1000f, 200);
        var b = new ModelBuilder(13);
        var y = b.Node("Cast", new[] { b.Node("Cast", new[] { b.Input("x", DataType.Float, 200) }, To(DataType.String)) }, To(DataType.Float));
        b.Output(y);
        CollectionAssert.AreEqual(r.Floats, Run(b.Build(), r)[0].Floats);
    }

    [TestMethod]
    public void Cast_ToBFloat16AndBack_RoundsToNearestEvenLikeOnnxRuntime()
    {
        // 1 + 2⁻⁸ lies halfway between two bfloat16 values (ties go to even); NaN and infinities survive.
        var x = Tensor.FromArray(new[] { 1.00390625f, 1.01171875f, 0.47892547f, -3.3e38f, 1e-40f, float.NaN, float.PositiveInfinity, float.NegativeInfinity }, 8);
        foreach (var mid in new[] { DataType.BFloat16, DataType.Float16 })
        {
            var b = new ModelBuilder(13);
            var y = b.Node("Cast", new[] { b.Node("Cast", new[] { b.Input("x", DataType.Float, 8) }, To(mid)) }, To(DataType.Float));
            b.Output(y);
            AssertModelMatches(b.Build(), new[] { x }, $"float -> {mid} -> float", 0, 0);
        }
    }

    [TestMethod]
    public void Cast_Opset1TypeNameAndOpset6Number_EqualOpset13()
    {
        var x = Typed(DataType.Float, 48, -50, 50, 3, 4);
        var expected = Run(OpHarness.SingleNode("Cast", 13, new[] { x }, new[] { To(DataType.Int32) }), x)[0];
        Numerics.AssertClose(expected, Run(OpHarness.SingleNode("Cast", 1, new[] { x }, new[] { NodeAttribute.String("to", "INT32") }), x)[0], 0, 0);
        Numerics.AssertClose(expected, Run(OpHarness.SingleNode("Cast", 6, new[] { x }, new[] { To(DataType.Int32) }), x)[0], 0, 0);
        OpHarness.AssertMatchesOnnxRuntime("Cast", 6, new[] { x }, new[] { To(DataType.Int32) });
    }

    [TestMethod]
    public void Cast_ShapeVector_KeepsSymbolicElements()
    {
        var batch = Dim.Symbolic("batch");
        var toInt32 = new[] { To(DataType.Int32) };
        var narrowed = Infer("Cast", 13, toInt32, Elements(DataType.Int64, batch, 3));
        Assert.AreEqual(DataType.Int32, narrowed.Type);
        Assert.AreEqual("[batch,3]", Dim.Format(narrowed.Elements!));
        var widened = Infer("Cast", 13, new[] { To(DataType.Int64) }, Elements(DataType.Int32, batch, 7));
        Assert.AreEqual("[batch,7]", Dim.Format(widened.Elements!));
        var known = Infer("Cast", 13, toInt32, new ValueFacts(DataType.Int64, new Dim[] { 2 }, null, new Dim[] { 4, 5 }));
        CollectionAssert.AreEqual(new[] { 4, 5 }, known.Value!.ArrayOf<int>());
        Assert.IsNull(Infer("Cast", 13, new[] { To(DataType.Float) }, Elements(DataType.Int64, batch)).Elements, "floats are not shape vectors");
    }

    [TestMethod]
    public void Cast_BadStringsAndUnknownTypes_AreProperErrors()
    {
        var s = Tensor.FromArray(new[] { "1.5", "hello" }, 2);
        var e = Throws(() => Run(OpHarness.SingleNode("Cast", 13, new[] { s }, new[] { To(DataType.Float) }), s));
        Assert.AreEqual(ErrorCodes.ExecutionFailed, e.Code);
        StringAssert.Contains(e.Message, "hello");
        var x = X(49, 2);
        Assert.AreEqual(ErrorCodes.UnsupportedOperatorType, Throws(() => Run(OpHarness.SingleNode("Cast", 13, new[] { x }, new[] { To(DataType.Complex64) }), x)).Code);
        Assert.AreEqual(ErrorCodes.InvalidAttribute, Throws(() => Run(OpHarness.SingleNode("Cast", 13, new[] { x }), x)).Code);
    }

    [TestMethod]
    public void Cast_FloatToFloat_PassesTheGradient()
    {
        OpHarness.AssertGradients("Cast", 13, new[] { X(50, 3, 4) }, new[] { To(DataType.Float) });
    }

    // ---------------------------------------------------------------- Clip

    [TestMethod]
    public void Clip_Opset6Attributes_MatchOnnxRuntime_AndGradients()
    {
        var x = X(51, 3, 4, 5);
        foreach (ref float v in x.Floats.AsSpan()) if (MathF.Abs(MathF.Abs(v) - 0.5f) < 0.03f) v = 0.1f;
        var variants = new[]
        {
            new[] { NodeAttribute.Float("min", -0.5f), NodeAttribute.Float("max", 0.5f) },
            new[] { NodeAttribute.Float("min", -0.5f) },
            new[] { NodeAttribute.Float("max", 0.5f) },
            Array.Empty<NodeAttribute>(),
        };
        foreach (var attrs in variants)
        {
            OpHarness.AssertMatchesOnnxRuntime("Clip", 6, new[] { x }, attrs);
            OpHarness.AssertGradients("Clip", 6, new[] { x }, attrs);
        }
    }

    /// <summary>Clip with optional min/max inputs (an empty name omits one).</summary>
    private static Model ClipModel(int opset, DataType type, bool min, bool max)
    {
        var b = new ModelBuilder(opset);
        var inputs = new List<string> { b.Input("x", type, 3, 4, 5) };
        inputs.Add(min ? b.Input("min", type) : "");
        if (max) inputs.Add(b.Input("max", type));
        b.Output(b.Node("Clip", inputs.ToArray()), type);
        return b.Build();
    }

    [TestMethod]
    public void Clip_Opset11To13OptionalInputs_MatchOnnxRuntime_AndGradients()
    {
        var x = X(52, 3, 4, 5);
        foreach (ref float v in x.Floats.AsSpan()) if (MathF.Abs(v - 0.4f) < 0.03f || MathF.Abs(v + 0.3f) < 0.03f) v = 0.05f;
        var lo = Tensor.Scalar(-0.3f);
        var hi = Tensor.Scalar(0.4f);
        foreach (int opset in new[] { 11, 12, 13 })
        {
            AssertModelMatches(ClipModel(opset, DataType.Float, true, true), new[] { x, lo, hi }, "min and max");
            AssertModelMatches(ClipModel(opset, DataType.Float, true, false), new[] { x, lo }, "min only");
            AssertModelMatches(ClipModel(opset, DataType.Float, false, true), new[] { x, hi }, "max only");
            AssertModelMatches(ClipModel(opset, DataType.Float, false, false), new[] { x }, "neither");
        }
        OpHarness.AssertGradients("Clip", 13, new[] { x, lo, hi });
        OpHarness.AssertGradients("Clip", 11, new[] { x, lo });
    }

    [TestMethod]
    public void Clip_MinAboveMax_GivesMaxEverywhere_LikeOnnxRuntime_AndGradients()
    {
        var x = X(53, 4, 5);
        var inputs = new[] { x, Tensor.Scalar(0.6f), Tensor.Scalar(-0.2f) };
        OpHarness.AssertMatchesOnnxRuntime("Clip", 13, inputs);
        OpHarness.AssertGradients("Clip", 13, inputs);
    }

    [TestMethod]
    public void Clip_IntegerAndHalfTypes_MatchOnnxRuntime()
    {
        foreach (var type in new[] { DataType.Int8, DataType.Int32, DataType.Int64, DataType.Double, DataType.Float16 })
            AssertModelMatches(ClipModel(13, type, true, true), new[] { Typed(type, 54, -100, 100, 3, 4, 5), Typed(type, 55, -40, -40, 1).Reshape(), Typed(type, 56, 30, 30, 1).Reshape() }, $"Clip {type}", 1e-3);
        var input = Typed(DataType.Int64, 57, 0, 250, 3, 4, 5);
        var expected = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(ClipModel(13, DataType.Int64, true, true)), input, Tensor.Scalar(20L), Tensor.Scalar(200L))[0];
        foreach (var type in UnsignedTypes.Append(DataType.Int16))
        {
            // ONNX Runtime lacks these kernels; with in-range values the int64 clip is the answer.
            var b = new ModelBuilder(13);
            var x = b.Node("Cast", new[] { b.Input("x", DataType.Int64, 3, 4, 5) }, To(type));
            var lo = b.Initializer("lo", ElementConversion.Convert(Tensor.Scalar(20L), type));
            var hi = b.Initializer("hi", ElementConversion.Convert(Tensor.Scalar(200L), type));
            b.Output(b.Node("Cast", new[] { b.Node("Clip", new[] { x, lo, hi }) }, To(DataType.Int64)), DataType.Int64);
            Numerics.AssertClose(expected, Run(b.Build(), input)[0], 0, 0, $"Clip {type}");
        }
    }

    [TestMethod]
    public void Clip_NonScalarBound_IsAShapeError()
    {
        var x = X(58, 3);
        var bound = X(59, 2);
        Assert.AreEqual(ErrorCodes.ShapeMismatch, Throws(() => Run(OpHarness.SingleNode("Clip", 13, new[] { x, bound }), x, bound)).Code);
    }
}
