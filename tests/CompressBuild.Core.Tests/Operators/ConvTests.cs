using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

[TestClass]
public sealed class ConvTests
{
    private static NodeAttribute Ints(string name, params long[] v) => NodeAttribute.Ints(name, v);

    private static NodeAttribute Int(string name, long v) => NodeAttribute.Int(name, v);

    private static NodeAttribute AutoPad(string mode) => NodeAttribute.String("auto_pad", mode);

    // X, W and (optionally) B with random values; W is scaled so outputs stay O(1).
    private static Tensor[] Inputs(int seed, int[] x, int[] w, int? biasLength)
    {
        var inputs = new List<Tensor> { RandomTensors.Uniform(seed, -1f, 1f, x), RandomTensors.Uniform(seed + 1, -0.5f, 0.5f, w) };
        if (biasLength is { } b) inputs.Add(RandomTensors.Uniform(seed + 2, -1f, 1f, b));
        return inputs.ToArray();
    }

    private static void ConvMatches(int seed, int[] x, int[] w, bool bias, params NodeAttribute[] attrs) =>
        OpHarness.AssertMatchesOnnxRuntime("Conv", 11, Inputs(seed, x, w, bias ? w[0] : null), attrs, atol: 1e-4);

    private static void ConvTransposeMatches(int seed, int[] x, int[] w, int group, bool bias, params NodeAttribute[] attrs) =>
        OpHarness.AssertMatchesOnnxRuntime("ConvTranspose", 11, Inputs(seed, x, w, bias ? w[1] * group : null),
            attrs.Append(Int("group", group)).ToArray(), atol: 1e-4);

    [TestMethod]
    public void Conv_2DWithBiasPadsStridesAndDilations_MatchesOnnxRuntime()
    {
        ConvMatches(1, [2, 3, 9, 8], [4, 3, 3, 3], true);
        ConvMatches(2, [2, 3, 9, 8], [4, 3, 3, 3], true, Ints("pads", 1, 1, 1, 1));
        ConvMatches(3, [2, 3, 9, 8], [4, 3, 3, 2], false, Ints("pads", 2, 0, 1, 3), Ints("strides", 2, 3));
        ConvMatches(4, [1, 3, 11, 10], [5, 3, 3, 3], true, Ints("dilations", 2, 3), Ints("pads", 1, 2, 0, 1));
        ConvMatches(5, [2, 2, 12, 12], [3, 2, 5, 5], true, Ints("strides", 3, 2), Ints("dilations", 2, 1), Ints("pads", 3, 3, 3, 3));
    }

    [TestMethod]
    public void Conv_1DAnd3D_MatchOnnxRuntime()
    {
        ConvMatches(6, [3, 4, 17], [6, 4, 3], true, Ints("pads", 1, 2), Ints("strides", 2));
        ConvMatches(7, [2, 3, 20], [2, 3, 4], false, Ints("dilations", 3));
        ConvMatches(8, [2, 2, 5, 6, 7], [3, 2, 3, 2, 3], true, Ints("pads", 1, 0, 1, 0, 1, 1), Ints("strides", 1, 2, 2));
        ConvMatches(9, [1, 4, 7, 7, 7], [4, 2, 2, 3, 3], true, Int("group", 2), Ints("dilations", 2, 1, 2));
    }

    [TestMethod]
    public void Conv_GroupedWithDilation_MatchesOnnxRuntime()
    {
        ConvMatches(10, [2, 6, 10, 9], [9, 2, 3, 3], true, Int("group", 3), Ints("dilations", 2, 2), Ints("pads", 2, 1, 2, 1));
        ConvMatches(11, [2, 8, 9, 9], [4, 4, 3, 3], true, Int("group", 2), Ints("strides", 2, 2));
    }

    [TestMethod]
    public void Conv_DepthwiseWithMultipliers_MatchesOnnxRuntime()
    {
        foreach (int multiplier in new[] { 1, 2, 3 })
        {
            ConvMatches(12, [2, 5, 9, 10], [5 * multiplier, 1, 3, 3], true, Int("group", 5), Ints("pads", 1, 1, 1, 1));
            ConvMatches(13, [2, 4, 11, 10], [4 * multiplier, 1, 3, 3], false, Int("group", 4), Ints("strides", 2, 2), Ints("dilations", 1, 2));
            ConvMatches(14, [2, 3, 15], [3 * multiplier, 1, 5], true, Int("group", 3), Ints("pads", 2, 1));
        }
    }

    [TestMethod]
    public void Conv_PointwiseAndStridedOneByOne_MatchOnnxRuntime()
    {
        ConvMatches(15, [3, 8, 6, 7], [5, 8, 1, 1], true);
        ConvMatches(16, [2, 6, 6, 7], [4, 3, 1, 1], true, Int("group", 2));
        ConvMatches(17, [2, 8, 7, 7], [5, 8, 1, 1], false, Ints("strides", 2, 2));
        ConvMatches(18, [2, 8, 5, 5], [5, 8, 1, 1], false, Ints("pads", 1, 0, 0, 1));
    }

    [TestMethod]
    [DataRow("SAME_UPPER")]
    [DataRow("SAME_LOWER")]
    [DataRow("VALID")]
    public void Conv_AutoPad_MatchesOnnxRuntime(string mode)
    {
        // Odd total paddings (kernel 4, stride 1; kernel 3, stride 2 on an even size) show which side gets the extra element.
        ConvMatches(19, [2, 3, 9, 8], [4, 3, 4, 4], true, AutoPad(mode));
        ConvMatches(20, [2, 3, 10, 7], [4, 3, 3, 3], true, AutoPad(mode), Ints("strides", 2, 3));
        ConvMatches(21, [1, 2, 13], [2, 2, 3], true, AutoPad(mode), Ints("strides", 2));
        ConvMatches(22, [1, 2, 5, 6, 7], [2, 2, 2, 3, 2], false, AutoPad(mode), Ints("strides", 2, 1, 3));
    }

    [TestMethod]
    public void Conv_SamePaddingWithDilation_PadsForTheDilatedKernel()
    {
        // ONNX Runtime rejects SAME with dilations; the spec pads for the dilated kernel: here 13 → ceil(13/2) = 7
        // outputs need (7-1)·2 + 5 - 13 = 4 elements of padding, split 2/2, and with stride 3 on 12: 4 outputs,
        // 3·3 + 5 - 12 = 2 → 1/1. Compare with the same padding given explicitly.
        var inputs = Inputs(32, [1, 2, 13, 12], [2, 2, 3, 3], 2);
        NodeAttribute[] common = [Ints("strides", 2, 3), Ints("dilations", 2, 2)];
        var explicitPads = new Executor(OpHarness.SingleNode("Conv", 11, inputs, [.. common, Ints("pads", 2, 1, 2, 1)])).Run(inputs)[0];
        foreach (var mode in new[] { "SAME_UPPER", "SAME_LOWER" })
        {
            var same = new Executor(OpHarness.SingleNode("Conv", 11, inputs, [.. common, AutoPad(mode)])).Run(inputs)[0];
            Numerics.AssertClose(explicitPads, same, 0, 0, mode);
        }
    }

    [TestMethod]
    public void Conv_KernelShapeAttributeAndOpset1Semantics_MatchOnnxRuntime()
    {
        var inputs = Inputs(23, [2, 3, 8, 8], [4, 3, 3, 2], 4);
        OpHarness.AssertMatchesOnnxRuntime("Conv", 7, inputs, [Ints("kernel_shape", 3, 2), Ints("pads", 1, 0, 1, 1)], atol: 1e-4);
        OpHarness.AssertMatchesOnnxRuntime("Conv", 7, inputs, [AutoPad("SAME_UPPER"), Ints("strides", 2, 2)], atol: 1e-4);
    }

    [TestMethod]
    public void Conv_LargeBatchOnAllCores_MatchesOnnxRuntime()
    {
        // Big enough that the batch is split over threads and the GEMMs use the packed micro-kernel.
        ConvMatches(24, [16, 6, 14, 14], [16, 6, 5, 5], true);
        ConvMatches(25, [9, 1, 28, 28], [6, 1, 5, 5], true, Ints("pads", 2, 2, 2, 2));
        ConvMatches(26, [3, 32, 12, 12], [32, 1, 3, 3], true, Int("group", 32), Ints("pads", 1, 1, 1, 1));
        // One image: the matrix products split their rows over threads, depthwise work splits over channels.
        ConvMatches(27, [1, 16, 40, 40], [32, 16, 3, 3], true, Ints("pads", 1, 1, 1, 1));
        ConvMatches(28, [1, 32, 30, 30], [32, 1, 3, 3], true, Int("group", 32), Ints("strides", 2, 2));
        ConvMatches(29, [1, 64, 30, 30], [64, 64, 1, 1], true);
        ConvTransposeMatches(30, [8, 8, 10, 10], [8, 4, 3, 3], 1, true, Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Ints("output_padding", 1, 1));
    }

    [TestMethod]
    public void Conv_KernelShapeDisagreeingWithW_IsAShapeError()
    {
        var inputs = Inputs(31, [1, 3, 8, 8], [4, 3, 3, 3], null);
        var e = Assert.ThrowsExactly<CompressBuildException>(() =>
            new Executor(OpHarness.SingleNode("Conv", 11, inputs, [Ints("kernel_shape", 2, 2)])).Run(inputs));
        StringAssert.Contains(e.Message, "kernel_shape");
    }

    [TestMethod]
    public void Conv_ChannelMismatchAndBadAttributes_AreReported()
    {
        var inputs = Inputs(28, [1, 4, 8, 8], [4, 3, 3, 3], null);
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Conv", 11, inputs)).Run(inputs));
        var ok = Inputs(29, [1, 3, 8, 8], [4, 3, 3, 3], null);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Conv", 11, ok, [AutoPad("SAME")])));
        StringAssert.Contains(e.Message, "auto_pad");
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Conv", 11, ok, [Ints("strides", 0, 1)])));
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Conv", 11, ok, [Ints("strides", 1, 1, 1)])).Run(ok));
    }

    [TestMethod]
    public void Conv_SymbolicBatch_InfersOutputShape_AndSymbolicSpatialDimsAreReported()
    {
        var node = new Node("Conv", ["x", "w", "b"], ["y"]);
        node.Attributes.Add(Ints("pads", 2, 2, 2, 2));
        var kernel = OperatorRegistry.Create(node, 13, "test");
        var w = new ValueFacts(DataType.Float, Dim.FromShape([6, 1, 5, 5]));
        var b = new ValueFacts(DataType.Float, Dim.FromShape([6]));
        var ctx = new ShapeContext(kernel, [new ValueFacts(DataType.Float, [Dim.Symbolic("batch"), 1, 28, 28]), w, b], 1);
        kernel.InferShapes(ctx);
        Assert.AreEqual("[batch,6,28,28]", Dim.Format(ctx.Output(0)!.Shape!));

        var spatial = new ShapeContext(kernel, [new ValueFacts(DataType.Float, [Dim.Symbolic("batch"), 1, Dim.Symbolic("h"), 28]), w, b], 1);
        var e = Assert.ThrowsExactly<UnresolvedDimException>(() => kernel.InferShapes(spatial));
        StringAssert.Contains(e.Message, "spatial");
    }

    [TestMethod]
    public void Conv_Gradients_XWB_MatchFiniteDifferences()
    {
        (int[] X, int[] W, NodeAttribute[] Attrs)[] cases =
        [
            ([2, 3, 7, 6], [4, 3, 3, 3], [Ints("pads", 1, 0, 2, 1), Ints("strides", 2, 1)]),
            ([2, 4, 9, 8], [6, 2, 3, 2], [Int("group", 2), Ints("dilations", 2, 2), Ints("pads", 1, 1, 1, 1)]),
            ([2, 3, 8, 7], [6, 1, 3, 3], [Int("group", 3), Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2)]),
            ([2, 4, 5, 5], [3, 4, 1, 1], []),
            ([2, 3, 11], [2, 3, 3], [AutoPad("SAME_LOWER"), Ints("strides", 2)]),
            ([1, 2, 4, 5, 4], [2, 2, 2, 3, 2], [Ints("pads", 1, 1, 0, 0, 1, 1), Ints("strides", 2, 1, 1)]),
        ];
        int seed = 30;
        foreach (var (x, w, attrs) in cases)
            OpHarness.AssertGradients("Conv", 11, Inputs(seed++, x, w, w[0]), attrs);
    }

    [TestMethod]
    public void Conv_GradientsSplitOverThreads_MatchFiniteDifferences()
    {
        // Five samples over three threads: uneven chunks whose weight-gradient partial sums are reduced.
        var inputs = Inputs(40, [5, 3, 10, 10], [8, 3, 3, 3], 8);
        OpHarness.AssertGradients("Conv", 11, inputs, [Ints("pads", 1, 1, 1, 1)], options: new RunOptions { MaxDegreeOfParallelism = 3 });
        var depthwise = Inputs(41, [5, 4, 12, 12], [4, 1, 3, 3], 4);
        OpHarness.AssertGradients("Conv", 11, depthwise, [Int("group", 4)], options: new RunOptions { MaxDegreeOfParallelism = 3 });
    }

    [TestMethod]
    public void ConvTranspose_PadsStridesOutputPaddingAndDilations_MatchOnnxRuntime()
    {
        ConvTransposeMatches(50, [2, 3, 5, 4], [3, 4, 3, 3], 1, true);
        ConvTransposeMatches(51, [2, 3, 5, 4], [3, 2, 3, 3], 1, true, Ints("strides", 2, 3), Ints("pads", 1, 0, 2, 1));
        ConvTransposeMatches(52, [1, 2, 4, 5], [2, 3, 3, 2], 1, false, Ints("strides", 3, 2), Ints("output_padding", 2, 1));
        ConvTransposeMatches(53, [2, 2, 5, 5], [2, 2, 3, 3], 1, true, Ints("dilations", 2, 3), Ints("pads", 1, 1, 2, 2));
        ConvTransposeMatches(54, [2, 2, 5, 5], [2, 2, 2, 2], 1, true, Ints("dilations", 2, 2), Ints("strides", 2, 2), Ints("output_padding", 1, 1));
    }

    [TestMethod]
    public void ConvTranspose_GroupsAnd1DAnd3D_MatchOnnxRuntime()
    {
        ConvTransposeMatches(55, [2, 4, 5, 6], [4, 3, 3, 3], 2, true, Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1));
        ConvTransposeMatches(56, [2, 3, 6, 6], [3, 1, 3, 3], 3, true, Ints("strides", 2, 1));
        ConvTransposeMatches(57, [2, 3, 7], [3, 2, 4], 1, true, Ints("strides", 3), Ints("pads", 1, 2));
        ConvTransposeMatches(58, [1, 2, 3, 4, 3], [2, 2, 2, 3, 2], 1, true, Ints("strides", 2, 1, 2), Ints("output_padding", 1, 0, 0));
        ConvTransposeMatches(59, [2, 4, 4, 4], [4, 5, 1, 1], 1, true);
    }

    [TestMethod]
    public void ConvTranspose_OutputShapeAndAutoPadWithEvenTotalPadding_MatchOnnxRuntime()
    {
        // Even totals: every convention splits them the same way, so ONNX Runtime is a fair oracle.
        ConvTransposeMatches(60, [1, 2, 4, 5], [2, 3, 3, 3], 1, true, Ints("strides", 2, 2), Ints("output_shape", 7, 9));
        ConvTransposeMatches(61, [1, 2, 4, 5], [2, 3, 3, 3], 1, true, Ints("strides", 2, 2), Ints("output_shape", 9, 12));
        ConvTransposeMatches(62, [1, 2, 4, 5], [2, 3, 4, 4], 1, true, Ints("strides", 2, 2), AutoPad("SAME_UPPER"));
        ConvTransposeMatches(63, [1, 2, 4, 5], [2, 3, 4, 4], 1, true, Ints("strides", 2, 2), AutoPad("SAME_LOWER"));
        ConvTransposeMatches(64, [1, 2, 4, 5], [2, 3, 3, 3], 1, true, Ints("strides", 2, 2), AutoPad("VALID"));
    }

    [TestMethod]
    public void ConvTranspose_OddTotalPadding_FollowsTheSpecSplit()
    {
        // The spec: SAME_UPPER puts the odd padding element at the end, every other mode at the beginning.
        // Reference: the full (unpadded) transposed convolution, cropped by hand.
        var inputs = Inputs(65, [1, 1, 3, 3], [1, 2, 3, 3], null);
        var full = new Executor(OpHarness.SingleNode("ConvTranspose", 11, inputs, [Ints("strides", 2, 2)])).Run(inputs)[0]; // [1,2,7,7]
        foreach (var (attrs, begin) in new[]
        {
            (new[] { Ints("strides", 2, 2), AutoPad("SAME_UPPER") }, 0),
            (new[] { Ints("strides", 2, 2), AutoPad("SAME_LOWER") }, 1),
            (new[] { Ints("strides", 2, 2), Ints("output_shape", 6, 6) }, 1),
            (new[] { Ints("strides", 2, 2), Ints("output_shape", 6, 6), AutoPad("SAME_UPPER") }, 0),
        })
        {
            var y = new Executor(OpHarness.SingleNode("ConvTranspose", 11, inputs, attrs)).Run(inputs)[0];
            CollectionAssert.AreEqual(new[] { 1, 2, 6, 6 }, y.Shape);
            for (int c = 0; c < 2; c++)
                for (int h = 0; h < 6; h++)
                    for (int w = 0; w < 6; w++)
                        Assert.AreEqual(full.Floats[(c * 7 + h + begin) * 7 + w + begin], y.Floats[(c * 6 + h) * 6 + w], 1e-6f);
        }
    }

    [TestMethod]
    public void ConvTranspose_SymbolicBatch_InfersOutputShape()
    {
        var node = new Node("ConvTranspose", ["x", "w"], ["y"]);
        node.Attributes.Add(Ints("strides", 2, 2));
        node.Attributes.Add(Ints("output_padding", 1, 1));
        node.Attributes.Add(Int("group", 2));
        var kernel = OperatorRegistry.Create(node, 13, "test");
        var ctx = new ShapeContext(kernel, [new ValueFacts(DataType.Float, [Dim.Symbolic("batch"), 4, 5, 6]), new ValueFacts(DataType.Float, Dim.FromShape([4, 3, 3, 3]))], 1);
        kernel.InferShapes(ctx);
        Assert.AreEqual("[batch,6,12,14]", Dim.Format(ctx.Output(0)!.Shape!));
    }

    [TestMethod]
    public void ConvTranspose_Gradients_XWB_MatchFiniteDifferences()
    {
        (int[] X, int[] W, int Group, NodeAttribute[] Attrs)[] cases =
        [
            ([2, 3, 4, 3], [3, 2, 3, 3], 1, [Ints("strides", 2, 1), Ints("pads", 1, 0, 0, 1), Ints("output_padding", 1, 0)]),
            ([2, 4, 3, 4], [4, 2, 2, 3], 2, [Ints("dilations", 2, 1), Ints("strides", 1, 2)]),
            ([2, 3, 5], [3, 2, 3], 1, [Ints("strides", 2), Ints("output_shape", 10)]),
            ([2, 3, 3, 3], [3, 4, 1, 1], 1, []),
            ([1, 2, 2, 3, 2], [2, 2, 2, 2, 2], 1, [Ints("strides", 2, 1, 2), Ints("pads", 0, 1, 0, 1, 0, 1)]),
        ];
        int seed = 70;
        foreach (var (x, w, group, attrs) in cases)
            OpHarness.AssertGradients("ConvTranspose", 11, Inputs(seed++, x, w, w[1] * group), attrs.Append(Int("group", group)).ToArray());
    }
}
