using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

[TestClass]
public sealed class ResizeTests
{
    private static readonly string[] CoordinateModes = { "half_pixel", "asymmetric", "pytorch_half_pixel", "align_corners" };

    private static Tensor Scales(params float[] s) => Tensor.FromArray(s, s.Length);

    private static Tensor Sizes(params long[] s) => Tensor.Int64Vector(s);

    private static NodeAttribute[] Attrs(string mode, string? coord = null, params NodeAttribute[] extra)
    {
        var a = new List<NodeAttribute> { NodeAttribute.String("mode", mode) };
        if (coord is not null) a.Add(NodeAttribute.String("coordinate_transformation_mode", coord));
        a.AddRange(extra);
        return a.ToArray();
    }

    /// <summary>Opset 11+ input list: X, roi (omitted), scales or sizes.</summary>
    private static Tensor?[] Inputs(Tensor x, Tensor? scales, Tensor? sizes = null, Tensor? roi = null) =>
        sizes is null ? new[] { x, roi, scales } : new[] { x, roi, scales, sizes };

    private static readonly bool[] One = { true };

    private static void Check(int opset, Tensor?[] inputs, NodeAttribute[] attrs, double rtol = 1e-4, double atol = 1e-5)
    {
        try
        {
            SparseNodeHarness.AssertMatchesOnnxRuntime("Resize", opset, inputs, attrs, One, rtol, atol);
        }
        catch (Exception e) when (e is AssertFailedException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw new AssertFailedException($"{Describe(opset, inputs, attrs)}: {e.Message}", e);
        }
    }

    private static string Describe(int opset, Tensor?[] inputs, NodeAttribute[] attrs) =>
        $"opset {opset} X {inputs[0]} " +
        string.Join(" ", inputs.Skip(1).Select((t, i) => t is null ? "-" : $"in{i + 1}=[{string.Join(",", Enumerable.Range(0, t.Length).Select(k => t.GetDouble(k).ToString(System.Globalization.CultureInfo.InvariantCulture)))}]")) +
        " " + string.Join(" ", attrs.Select(a => $"{a.Name}={(a.Kind switch { AttributeKind.String => a.AsString(), AttributeKind.Ints => string.Join(",", a.AsInts()), _ => a.Value?.ToString() })}"));

    [TestMethod]
    public void Resize_Opset10_NearestAndLinear_UpAndDown_MatchesOnnxRuntime()
    {
        var x = RandomTensors.Uniform(1, -1f, 1f, 2, 3, 5, 7);
        foreach (var mode in new[] { "nearest", "linear" })
            foreach (var s in new[] { Scales(1, 1, 2, 3), Scales(1, 1, 0.5f, 0.6f), Scales(1, 1, 1.5f, 0.7f) })
                OpHarness.AssertMatchesOnnxRuntime("Resize", 10, new[] { x, s }, new[] { NodeAttribute.String("mode", mode) });
    }

    [TestMethod]
    public void Resize_Nearest_EveryCoordinateAndNearestMode_MatchesOnnxRuntime()
    {
        var x = RandomTensors.Uniform(2, -1f, 1f, 1, 2, 6, 5);
        foreach (var coord in CoordinateModes)
            foreach (var nearest in new[] { "round_prefer_floor", "round_prefer_ceil", "floor", "ceil" })
            {
                var attrs = Attrs("nearest", coord, NodeAttribute.String("nearest_mode", nearest));
                Check(13, Inputs(x, Scales(1, 1, 2, 3)), attrs);
                Check(13, Inputs(x, Scales(1, 1, 0.5f, 0.6f)), attrs);
                Check(11, Inputs(x, Scales(), Sizes(1, 2, 9, 4), Scales()), attrs);
                Check(13, Inputs(x, null, Sizes(1, 2, 4, 11)), attrs);
            }
        // Opsets 11–12 only.
        foreach (var nearest in new[] { "round_prefer_floor", "round_prefer_ceil", "floor", "ceil" })
            foreach (var scales in new[] { Scales(1, 1, 2, 3), Scales(1, 1, 0.5f, 0.6f) })
                Check(11, Inputs(x, scales, null, Scales()), Attrs("nearest", "tf_half_pixel_for_nn", NodeAttribute.String("nearest_mode", nearest)));
    }

    [TestMethod]
    public void Resize_Linear_EveryCoordinateMode_UpAndDown_MatchesOnnxRuntime()
    {
        var x = RandomTensors.Uniform(3, -1f, 1f, 2, 3, 6, 5);
        foreach (var coord in CoordinateModes)
        {
            var attrs = Attrs("linear", coord);
            Check(13, Inputs(x, Scales(1, 1, 2, 3)), attrs);
            Check(13, Inputs(x, Scales(1, 1, 0.5f, 0.4f)), attrs);
            Check(13, Inputs(x, null, Sizes(2, 3, 9, 4)), attrs);
            Check(13, Inputs(x, null, Sizes(2, 3, 1, 7)), attrs);
        }
        Check(11, Inputs(x, Scales(1, 1, 2, 0.6f), null, Scales()), Attrs("linear", "tf_half_pixel_for_nn"));
    }

    [TestMethod]
    public void Resize_Cubic_CoeffAndExcludeOutside_MatchesOnnxRuntime()
    {
        // Scales give integral scale × size: align_corners then agrees between the ONNX reference
        // (which divides by scale × size − 1) and ONNX Runtime (output size − 1).
        var x = RandomTensors.Uniform(4, -1f, 1f, 1, 2, 8, 6);
        foreach (var coord in new[] { "half_pixel", "asymmetric", "pytorch_half_pixel", "align_corners" })
            foreach (var (a, exclude) in new[] { (-0.75f, 0), (-0.5f, 1), (-0.6f, 0) })
            {
                var attrs = Attrs("cubic", coord, NodeAttribute.Float("cubic_coeff_a", a), NodeAttribute.Int("exclude_outside", exclude));
                Check(13, Inputs(x, Scales(1, 1, 2, 1.5f)), attrs);
                Check(13, Inputs(x, Scales(1, 1, 0.5f, 0.5f)), attrs);
                Check(13, Inputs(x, null, Sizes(1, 2, 10, 4)), attrs);
            }
    }

    [TestMethod]
    public void Resize_TfCropAndResize_WithExtrapolation_MatchesOnnxRuntime()
    {
        var x = RandomTensors.Uniform(5, -1f, 1f, 1, 2, 6, 5);
        var roi = Tensor.FromArray(new[] { 0f, 0f, 0.2f, -0.3f, 1f, 1f, 0.9f, 1.4f }, 8);
        foreach (var mode in new[] { "nearest", "linear", "cubic" })
        {
            var attrs = Attrs(mode, "tf_crop_and_resize", NodeAttribute.Float("extrapolation_value", 7.5f));
            Check(13, Inputs(x, null, Sizes(1, 2, 5, 8), roi), attrs);
            Check(13, Inputs(x, Scales(1, 1, 0.5f, 2f), null, roi), attrs);
        }
    }

    [TestMethod]
    public void Resize_TrilinearAndTricubic_OverThreeAxes_MatchesOnnxRuntime()
    {
        // ONNX Runtime resizes at most three axes of 3-D and 5-D tensors in linear mode.
        var x = RandomTensors.Uniform(6, -1f, 1f, 1, 2, 4, 5, 3);
        foreach (var mode in new[] { "linear", "nearest" })
            Check(13, Inputs(x, Scales(1, 1, 1.5f, 0.6f, 2)), Attrs(mode, "half_pixel"));
        var x3 = RandomTensors.Uniform(6, -1f, 1f, 4, 5, 3);
        foreach (var mode in new[] { "linear", "nearest" })
            Check(13, Inputs(x3, Scales(0.5f, 1.4f, 2)), Attrs(mode, "align_corners"));
    }

    [TestMethod]
    public void Resize_Opset18_AxesAspectPolicyAndAntialias_MatchesOnnxRuntime()
    {
        // Integral scale × size keeps align_corners comparable with ONNX Runtime (see the cubic test).
        var x = RandomTensors.Uniform(7, -1f, 1f, 1, 2, 8, 12);
        var axes = NodeAttribute.Ints("axes", 2, 3);
        foreach (var policy in new[] { "stretch", "not_larger", "not_smaller" })
            foreach (var mode in new[] { "nearest", "linear" })
                Check(18, Inputs(x, null, Sizes(4, 7)), Attrs(mode, "half_pixel", axes, NodeAttribute.String("keep_aspect_ratio_policy", policy)));
        foreach (var mode in new[] { "linear", "cubic" })
            foreach (var coord in new[] { "half_pixel", "pytorch_half_pixel", "asymmetric", "align_corners" })
            {
                var attrs = Attrs(mode, coord, NodeAttribute.Int("antialias", 1));
                Check(18, Inputs(x, Scales(1, 1, 0.5f, 0.25f)), attrs);
                Check(18, Inputs(x, Scales(1, 1, 1.5f, 0.75f)), attrs);
                Check(18, Inputs(x, null, Sizes(4, 5)), Attrs(mode, coord, NodeAttribute.Int("antialias", 1), axes));
            }
    }

    [TestMethod]
    public void Resize_OtherElementTypes_MatchesOnnxRuntime()
    {
        var f = RandomTensors.Uniform(8, 0f, 100f, 1, 2, 5, 4);
        var u8 = Tensor.FromArray(f.Floats.Select(v => (byte)v).ToArray(), f.Shape);
        var i8 = Tensor.FromArray(f.Floats.Select(v => (sbyte)(v - 50)).ToArray(), f.Shape);
        var i32 = Tensor.FromArray(f.Floats.Select(v => (int)(v * 100)).ToArray(), f.Shape);
        var i64 = Tensor.FromArray(f.Floats.Select(v => (long)v).ToArray(), f.Shape);
        var f64 = Tensor.FromArray(f.Floats.Select(v => (double)v).ToArray(), f.Shape);
        // The oracle helper hands byte[] to ONNX Runtime as int8 (the CLR lets byte[] pass as sbyte[]),
        // and ONNX Runtime has no int64 or double Resize: those are checked against our float results.
        foreach (var x in new[] { i8, i32 })
        {
            Check(13, Inputs(x, Scales(1, 1, 1.6f, 2.5f)), Attrs("nearest"));
            Check(13, Inputs(x, Scales(1, 1, 1.6f, 0.5f)), Attrs("linear"));
        }
        var asFloat = Tensor.FromArray(u8.ArrayOf<byte>().Select(v => (float)v).ToArray(), f.Shape);
        foreach (var (x, mode) in new[] { (u8, "nearest"), (u8, "linear"), (i64, "nearest") })
        {
            var reference = Run(Inputs(asFloat, Scales(1, 1, 1.6f, 0.5f)), Attrs(mode));
            var ours = Run(Inputs(x, Scales(1, 1, 1.6f, 0.5f)), Attrs(mode));
            for (int i = 0; i < ours.Length; i++)
                Assert.AreEqual(MathF.Truncate(reference.Floats[i]), ours.DataType == DataType.UInt8 ? ours.ArrayOf<byte>()[i] : ours.ArrayOf<long>()[i], $"{x.DataType} {mode} element {i}");
        }
        foreach (var mode in new[] { "nearest", "linear", "cubic" })
        {
            var single = Run(Inputs(f, Scales(1, 1, 1.6f, 0.5f)), Attrs(mode));
            var wide = Run(Inputs(f64, Scales(1, 1, 1.6f, 0.5f)), Attrs(mode));
            Numerics.AssertClose(single, Tensor.FromArray(wide.ArrayOf<double>().Select(v => (float)v).ToArray(), wide.Shape), 1e-5, 1e-4, $"double {mode}");
        }
    }

    private static Tensor Run(Tensor?[] inputs, NodeAttribute[] attrs, int opset = 13) =>
        new Executor(SparseNodeHarness.Build("Resize", opset, inputs, attrs, One)).Run(inputs.Where(t => t is not null).Select(t => t!).ToArray())[0];

    [TestMethod]
    public void Resize_NegativeAxesAndAlias_EqualTheirCanonicalForms()
    {
        // ONNX Runtime ignores negative axes, so they are checked against the positive spelling.
        var x = RandomTensors.Uniform(11, -1f, 1f, 1, 2, 8, 12);
        var negative = Run(Inputs(x, null, Sizes(5, 7)), Attrs("linear", "half_pixel", NodeAttribute.Ints("axes", -2, -1)), 18);
        var positive = Run(Inputs(x, null, Sizes(5, 7)), Attrs("linear", "half_pixel", NodeAttribute.Ints("axes", 2, 3)), 18);
        Numerics.AssertClose(positive, negative, 0, 0, "axes -2,-1 vs 2,3");
        var alias = Run(Inputs(x, Scales(1, 1, 2, 0.6f), null, Scales()), Attrs("nearest", "tf_half_pixel_for_nearest"), 11);
        var name = Run(Inputs(x, Scales(1, 1, 2, 0.6f), null, Scales()), Attrs("nearest", "tf_half_pixel_for_nn"), 11);
        Numerics.AssertClose(name, alias, 0, 0, "tf_half_pixel_for_nearest vs tf_half_pixel_for_nn");
    }

    [TestMethod]
    public void Resize_Gradients_EveryMode()
    {
        var x = RandomTensors.Uniform(9, -1f, 1f, 1, 2, 5, 4);
        var cases = new (int Opset, Tensor?[] Inputs, NodeAttribute[] Attrs)[]
        {
            (10, new Tensor?[] { x, Scales(1, 1, 2, 0.5f) }, Attrs("nearest")),
            (10, new Tensor?[] { x, Scales(1, 1, 1.5f, 2f) }, Attrs("linear")),
            (13, Inputs(x, Scales(1, 1, 2.5f, 0.5f)), Attrs("nearest", "half_pixel")),
            (13, Inputs(x, Scales(1, 1, 2, 3)), Attrs("linear", "half_pixel")),
            (13, Inputs(x, null, Sizes(1, 2, 3, 7)), Attrs("linear", "align_corners")),
            (13, Inputs(x, Scales(1, 1, 0.6f, 1.5f)), Attrs("linear", "asymmetric")),
            (13, Inputs(x, Scales(1, 1, 1.5f, 1.5f)), Attrs("cubic", "pytorch_half_pixel", NodeAttribute.Int("exclude_outside", 1))),
            (13, Inputs(x, null, Sizes(1, 2, 4, 6), Tensor.FromArray(new[] { 0f, 0f, 0.1f, -0.2f, 1f, 1f, 0.8f, 1.1f }, 8)),
                Attrs("linear", "tf_crop_and_resize", NodeAttribute.Float("extrapolation_value", 2f))),
            (18, Inputs(x, Scales(1, 1, 0.4f, 0.5f)), Attrs("linear", "half_pixel", NodeAttribute.Int("antialias", 1))),
        };
        foreach (var (opset, inputs, attrs) in cases)
            SparseNodeHarness.AssertGradients("Resize", opset, inputs, attrs, One, wrt: new[] { 0 });
    }

    [TestMethod]
    public void Resize_InferShapes_SymbolicBatchKeepsScaleOne_OtherwiseShapeError()
    {
        Dim n = Dim.Symbolic("N");
        var x = new ValueFacts(DataType.Float, new Dim[] { n, 3, 8, 6 });
        ValueFacts Const(Tensor t) => ValueFacts.Of(t);

        var scaled = Infer(13, new[] { x, null, Const(Scales(1, 1, 2, 0.5f)) });
        Assert.AreEqual("[N,3,16,3]", Dim.Format(scaled));
        // sizes from a Shape→Concat chain: the batch element is symbolic.
        var sized = Infer(13, new[] { x, null, null, new ValueFacts(DataType.Int64, new Dim[] { 4 }, null, new Dim[] { n, 3, 5, 7 }) });
        Assert.AreEqual("[N,3,5,7]", Dim.Format(sized));
        var axes = Infer(18, new[] { x, null, Const(Scales(3, 0.5f)) }, NodeAttribute.Ints("axes", 2, 3));
        Assert.AreEqual("[N,3,24,3]", Dim.Format(axes));
        var e = Assert.ThrowsExactly<CompressBuildException>(() => Infer(13, new[] { x, null, Const(Scales(2, 1, 2, 2)) }));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
    }

    private static Dim[] Infer(int opset, ValueFacts?[] inputs, params NodeAttribute[] attrs)
    {
        var node = new Node("Resize", inputs.Select((f, i) => f is null ? "" : $"x{i}"), new[] { "y" });
        node.Attributes.AddRange(attrs);
        var kernel = OperatorRegistry.Create(node, opset, "test");
        var ctx = new ShapeContext(kernel, inputs, 1);
        kernel.InferShapes(ctx);
        return ctx.Output(0)!.Shape!;
    }

    [TestMethod]
    public void Resize_InvalidAttributesAndInputs_ThrowProperErrors()
    {
        var x = RandomTensors.Uniform(10, -1f, 1f, 1, 1, 4, 4);
        foreach (var (opset, attrs) in new[]
        {
            (13, Attrs("bicubic")),
            (10, Attrs("cubic")),
            (13, Attrs("linear", "half_pixel_symmetric")),
            (13, Attrs("nearest", "half_pixel", NodeAttribute.String("nearest_mode", "round"))),
            (13, Attrs("linear", "half_pixel", NodeAttribute.Int("antialias", 1))),
            (13, Attrs("nearest", "tf_half_pixel_for_nn")),
            (18, Attrs("linear", "half_pixel", NodeAttribute.String("keep_aspect_ratio_policy", "fit"))),
        })
        {
            var model = SparseNodeHarness.Build("Resize", opset, Inputs(x, Scales(1, 1, 2, 2)), attrs, One);
            Assert.AreEqual(ErrorCodes.InvalidAttribute, Assert.ThrowsExactly<CompressBuildException>(() => new Executor(model)).Code);
        }
        foreach (var inputs in new[]
        {
            Inputs(x, Scales(1, 2, 2)),
            Inputs(x, Scales(1, 1, 2, 2), Sizes(1, 1, 8, 8)),
            Inputs(x, Scales(1, 1, -2, 2)),
            new Tensor?[] { x },
        })
        {
            var model = SparseNodeHarness.Build("Resize", 13, inputs, Attrs("linear"), One);
            var present = inputs.Where(t => t is not null).Select(t => t!).ToArray();
            Assert.AreEqual(ErrorCodes.ShapeMismatch, Assert.ThrowsExactly<CompressBuildException>(() => new Executor(model).Run(present)).Code);
        }
    }
}
