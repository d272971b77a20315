using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

/// <summary>
/// The layout operators (Reshape, Squeeze, Unsqueeze, Transpose, Concat, Split, Slice, Gather, Expand,
/// Tile, Pad, Shape, ConstantOfShape, Constant, Identity, Dropout) against ONNX Runtime, their
/// gradients against finite differences, and static shape inference with a symbolic batch.
/// </summary>
[TestClass]
public sealed class LayoutTests
{
    private static Tensor X(int seed, params int[] shape) => RandomTensors.Uniform(seed, -1f, 1f, shape);

    private static Tensor Ints(params long[] values) => Tensor.Int64Vector(values);

    private static Tensor IntsOf(int[] shape, Func<int, long> value)
    {
        var data = new long[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = value(i);
        return Tensor.FromArray(data, shape);
    }

    private static Tensor StringsOf(params int[] shape)
    {
        var data = new string[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = "s" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Tensor.FromArray(data, shape);
    }

    private static Tensor BoolsOf(params int[] shape)
    {
        var data = new bool[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = i % 3 == 1;
        return Tensor.FromArray(data, shape);
    }

    private static Tensor HalvesOf(params int[] shape)
    {
        var data = new Half[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (Half)(i * 0.25f - 3f);
        return Tensor.FromArray(data, shape);
    }

    private static NodeAttribute Axes(params long[] axes) => NodeAttribute.Ints("axes", axes);

    // ---------------------------------------------------------------- Reshape

    [TestMethod]
    public void Reshape_ZeroCopiesDimAndMinusOneInfers_MatchesOnnxRuntime_AndGradients()
    {
        var x = X(1, 2, 3, 4);
        foreach (var shape in new[] { Ints(0, -1), Ints(-1, 4), Ints(4, 0, 2), Ints(24), Ints(2, 1, 3, 4, 1) })
            OpHarness.AssertMatchesOnnxRuntime("Reshape", 13, new[] { x, shape });
        OpHarness.AssertGradients("Reshape", 13, new[] { x, Ints(0, -1) });
    }

    [TestMethod]
    public void Reshape_AllowZero_MakesZeroADim_MatchesOnnxRuntime()
    {
        var x = Tensor.Zeros(DataType.Float, new[] { 0, 3, 4 });
        var y = OpHarness.AssertMatchesOnnxRuntime("Reshape", 14, new[] { x, Ints(3, 4, 0) }, new[] { NodeAttribute.Int("allowzero", 1) });
        CollectionAssert.AreEqual(new[] { 3, 4, 0 }, y[0].Shape);
    }

    [TestMethod]
    public void Reshape_Opset1ShapeAttribute_MatchesOnnxRuntime()
    {
        var x = X(2, 2, 3, 4);
        OpHarness.AssertMatchesOnnxRuntime("Reshape", 1, new[] { x }, new[] { NodeAttribute.Ints("shape", 0, -1) });
    }

    [TestMethod]
    public void Reshape_IsAViewOfTheInput_AndAcceptsStrings()
    {
        var x = X(3, 2, 6);
        var y = new Executor(OpHarness.SingleNode("Reshape", 13, new[] { x, Ints(3, 4) })).Run(x, Ints(3, 4));
        Assert.AreSame(x.Data, y[0].Data, "Reshape must not copy");
        OpHarness.AssertMatchesOnnxRuntime("Reshape", 13, new[] { StringsOf(2, 6), Ints(-1, 3) });
    }

    [TestMethod]
    public void Reshape_TwoMinusOnes_IsAShapeError()
    {
        var x = X(4, 2, 6);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Reshape", 13, new[] { x, Ints(-1, -1) })).Run(x, Ints(-1, -1)));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
    }

    // ---------------------------------------------------------------- Squeeze / Unsqueeze

    [TestMethod]
    public void Squeeze_AttributeAxesBefore13_InputAxesFrom13_AndNoAxes_MatchOnnxRuntime_AndGradients()
    {
        var x = X(5, 1, 3, 1, 4);
        OpHarness.AssertMatchesOnnxRuntime("Squeeze", 11, new[] { x }, new[] { Axes(0, -2) });
        OpHarness.AssertMatchesOnnxRuntime("Squeeze", 1, new[] { x }, new[] { Axes(2) });
        OpHarness.AssertMatchesOnnxRuntime("Squeeze", 13, new[] { x, Ints(-2) });
        OpHarness.AssertMatchesOnnxRuntime("Squeeze", 13, new[] { x });
        OpHarness.AssertGradients("Squeeze", 13, new[] { x, Ints(0, 2) });
    }

    [TestMethod]
    public void Squeeze_AxisWhoseSizeIsNotOne_IsAShapeError()
    {
        var x = X(6, 2, 3);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Squeeze", 13, new[] { x, Ints(0) })).Run(x, Ints(0)));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
    }

    [TestMethod]
    public void NegativeAxesBeforeOpset11_AreAcceptedLikeOnnxRuntime()
    {
        // The spec adds negative axes in opset 11, but PyTorch's opset-6 exports use them (test_GLU).
        var x = X(6, 1, 3, 4);
        OpHarness.AssertMatchesOnnxRuntime("Squeeze", 7, new[] { x }, new[] { Axes(-3) });
        OpHarness.AssertMatchesOnnxRuntime("Unsqueeze", 7, new[] { x }, new[] { Axes(-1) });
        OpHarness.AssertMatchesOnnxRuntime("Split", 7, new[] { x }, new[] { NodeAttribute.Int("axis", -1) }, outputs: 2);
        OpHarness.AssertMatchesOnnxRuntime("Concat", 7, new[] { x, x }, new[] { NodeAttribute.Int("axis", -2) });
        OpHarness.AssertMatchesOnnxRuntime("Gather", 7, new[] { x, Ints(0, 2) }, new[] { NodeAttribute.Int("axis", -2) });
        // Flatten is the exception: ONNX Runtime's shape inference rejects it, and so do we.
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Flatten", 7, new[] { x }, new[] { NodeAttribute.Int("axis", -1) })));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, e.Code);
    }

    [TestMethod]
    public void Unsqueeze_AttributeBefore13_UnsortedNegativeInputAxesFrom13_MatchOnnxRuntime_AndGradients()
    {
        var x = X(7, 3, 4);
        OpHarness.AssertMatchesOnnxRuntime("Unsqueeze", 1, new[] { x }, new[] { Axes(0, 3) });
        OpHarness.AssertMatchesOnnxRuntime("Unsqueeze", 11, new[] { x }, new[] { Axes(-1, 1) });
        OpHarness.AssertMatchesOnnxRuntime("Unsqueeze", 13, new[] { x, Ints(4, -5, 2) });
        OpHarness.AssertMatchesOnnxRuntime("Unsqueeze", 13, new[] { Tensor.Scalar(2L), Ints(0) });
        OpHarness.AssertGradients("Unsqueeze", 13, new[] { x, Ints(1) });
    }

    // ---------------------------------------------------------------- Transpose

    [TestMethod]
    public void Transpose_Common4DPermutations_MatchOnnxRuntime_AndGradients()
    {
        var x = X(8, 2, 3, 5, 7);
        foreach (var perm in new[] { new long[] { 0, 2, 3, 1 }, new long[] { 0, 3, 1, 2 }, new long[] { 0, 2, 1, 3 }, new long[] { 3, 1, 2, 0 }, new long[] { 1, 0, 3, 2 }, new long[] { 0, 1, 2, 3 } })
        {
            var attrs = new[] { NodeAttribute.Ints("perm", perm) };
            OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { x }, attrs);
            OpHarness.AssertGradients("Transpose", 13, new[] { x }, attrs, samples: 24);
        }
        OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { x });
    }

    [TestMethod]
    public void Transpose_LargeBlockedAndParallel_MatchesOnnxRuntime()
    {
        // Sizes that are not multiples of the tile, enough work for several threads.
        OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { X(9, 301, 517) });
        OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { X(10, 3, 64, 33, 35) }, new[] { NodeAttribute.Ints("perm", 0, 2, 3, 1) });
        OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { X(11, 5, 37, 3, 41) }, new[] { NodeAttribute.Ints("perm", 3, 1, 0, 2) });
    }

    [TestMethod]
    public void Transpose_OtherElementTypes_MatchOnnxRuntime()
    {
        var perm = new[] { NodeAttribute.Ints("perm", 2, 0, 1) };
        OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { IntsOf(new[] { 3, 4, 5 }, i => i * 7 - 30) }, perm);
        OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { StringsOf(3, 4, 5) }, perm);
        OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { BoolsOf(3, 4, 5) }, perm);
        OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { HalvesOf(3, 4, 5) }, perm);
    }

    [TestMethod]
    public void Transpose_MovingOnlyUnitDims_IsAView()
    {
        var x = X(12, 1, 3, 1, 4);
        var attrs = new[] { NodeAttribute.Ints("perm", 2, 1, 0, 3) };
        var y = OpHarness.AssertMatchesOnnxRuntime("Transpose", 13, new[] { x }, attrs);
        Assert.AreSame(x.Data, y[0].Data);
    }

    [TestMethod]
    public void Transpose_PermThatIsNotAPermutation_IsAShapeError()
    {
        var x = X(13, 2, 3);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Transpose", 13, new[] { x }, new[] { NodeAttribute.Ints("perm", 0, 0) })).Run(x));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
    }

    // ---------------------------------------------------------------- Concat / Split

    [TestMethod]
    public void Concat_NegativeAxisAndEmptyInput_MatchesOnnxRuntime_AndGradients()
    {
        var a = X(14, 2, 3, 4);
        var b = X(15, 2, 1, 4);
        var empty = Tensor.Zeros(DataType.Float, new[] { 2, 0, 4 });
        var attrs = new[] { NodeAttribute.Int("axis", -2) };
        OpHarness.AssertMatchesOnnxRuntime("Concat", 13, new[] { a, empty, b }, attrs);
        OpHarness.AssertMatchesOnnxRuntime("Concat", 13, new[] { a, X(16, 2, 3, 5) }, new[] { NodeAttribute.Int("axis", 2) });
        OpHarness.AssertMatchesOnnxRuntime("Concat", 4, new[] { a, a }, new[] { NodeAttribute.Int("axis", 0) });
        OpHarness.AssertGradients("Concat", 13, new[] { a, b }, attrs);
    }

    [TestMethod]
    public void Concat_IntegerAndStringInputs_MatchOnnxRuntime()
    {
        var attrs = new[] { NodeAttribute.Int("axis", 1) };
        OpHarness.AssertMatchesOnnxRuntime("Concat", 13, new[] { IntsOf(new[] { 2, 2 }, i => i), IntsOf(new[] { 2, 3 }, i => -i) }, attrs);
        OpHarness.AssertMatchesOnnxRuntime("Concat", 13, new[] { StringsOf(2, 2), StringsOf(2, 1) }, attrs);
        OpHarness.AssertMatchesOnnxRuntime("Concat", 13, new[] { BoolsOf(2, 2), BoolsOf(2, 5) }, attrs);
    }

    [TestMethod]
    public void Split_EveryOpsetForm_MatchesOnnxRuntime()
    {
        var x = X(17, 4, 6);
        OpHarness.AssertMatchesOnnxRuntime("Split", 11, new[] { x }, new[] { NodeAttribute.Int("axis", 1), NodeAttribute.Ints("split", 1, 2, 3) }, outputs: 3);
        OpHarness.AssertMatchesOnnxRuntime("Split", 11, new[] { x }, new[] { NodeAttribute.Int("axis", -1) }, outputs: 2);
        OpHarness.AssertMatchesOnnxRuntime("Split", 13, new[] { x, Ints(3, 0, 1) }, new[] { NodeAttribute.Int("axis", 0) }, outputs: 3);
        OpHarness.AssertMatchesOnnxRuntime("Split", 13, new[] { x }, new[] { NodeAttribute.Int("axis", 1) }, outputs: 3);
        OpHarness.AssertMatchesOnnxRuntime("Split", 13, new[] { StringsOf(4, 6) }, new[] { NodeAttribute.Int("axis", 1) }, outputs: 2);
    }

    [TestMethod]
    public void Split_Opset18NumOutputs_UnevenLastChunk_MatchesOnnxRuntime()
    {
        var x = X(18, 7, 3);
        var ys = OpHarness.AssertMatchesOnnxRuntime("Split", 18, new[] { x }, new[] { NodeAttribute.Int("num_outputs", 3) }, outputs: 3);
        CollectionAssert.AreEqual(new[] { 3, 3, 1 }, ys.Select(y => y.Shape[0]).ToArray());
        OpHarness.AssertMatchesOnnxRuntime("Split", 18, new[] { X(19, 2, 8) }, new[] { NodeAttribute.Int("axis", 1), NodeAttribute.Int("num_outputs", 4) }, outputs: 4);
    }

    [TestMethod]
    public void Split_UnevenWithoutNumOutputs_IsAShapeError()
    {
        var x = X(20, 7);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Split", 13, new[] { x }, outputs: 2)).Run(x));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
    }

    [TestMethod]
    public void Split_Gradients_MatchFiniteDifferences()
    {
        OpHarness.AssertGradients("Split", 13, new[] { X(21, 3, 6), Ints(1, 3, 2) }, new[] { NodeAttribute.Int("axis", 1) }, outputs: 3);
        OpHarness.AssertGradients("Split", 18, new[] { X(22, 5, 2) }, new[] { NodeAttribute.Int("num_outputs", 2) }, outputs: 2);
    }

    // ---------------------------------------------------------------- Slice

    [TestMethod]
    public void Slice_StepsNegativeStepsAndSentinels_MatchOnnxRuntime()
    {
        var x = X(23, 5, 6, 7);
        long max = long.MaxValue, min = long.MinValue;
        var cases = new (long[] Starts, long[] Ends, long[] Axes, long[] Steps)[]
        {
            (new long[] { 1, 0 }, new long[] { 4, max }, new long[] { 0, 2 }, new long[] { 1, 2 }),
            (new long[] { -1 }, new long[] { min }, new long[] { 1 }, new long[] { -1 }),
            (new long[] { 100, -100 }, new long[] { -100, 100 }, new long[] { 2, 0 }, new long[] { -3, 2 }),
            (new long[] { 2 }, new long[] { 2 }, new long[] { -1 }, new long[] { 1 }),
            (new long[] { 10 }, new long[] { 20 }, new long[] { 1 }, new long[] { 1 }),
            (new long[] { -2, 5 }, new long[] { 0, -8 }, new long[] { -3, -2 }, new long[] { -1, -2 }),
        };
        foreach (var (starts, ends, axes, steps) in cases)
        {
            OpHarness.AssertMatchesOnnxRuntime("Slice", 13, new[] { x, Ints(starts), Ints(ends), Ints(axes), Ints(steps) });
            OpHarness.AssertGradients("Slice", 13, new[] { x, Ints(starts), Ints(ends), Ints(axes), Ints(steps) }, samples: 24);
        }
        OpHarness.AssertMatchesOnnxRuntime("Slice", 13, new[] { x, Ints(1, 2), Ints(3, -1) });
        OpHarness.AssertMatchesOnnxRuntime("Slice", 10, new[] { x, Ints(0, 1), Ints(-1, 1000), Ints(2, 0) });
    }

    [TestMethod]
    public void Slice_Opset1Attributes_MatchOnnxRuntime()
    {
        var x = X(24, 4, 5);
        OpHarness.AssertMatchesOnnxRuntime("Slice", 1, new[] { x }, new[] { NodeAttribute.Ints("starts", 1, -3), NodeAttribute.Ints("ends", 1000, -1), Axes(0, 1) });
        OpHarness.AssertMatchesOnnxRuntime("Slice", 9, new[] { x }, new[] { NodeAttribute.Ints("starts", 2), NodeAttribute.Ints("ends", 3) });
    }

    [TestMethod]
    public void Slice_IntegerAndStringData_MatchOnnxRuntime()
    {
        OpHarness.AssertMatchesOnnxRuntime("Slice", 13, new[] { IntsOf(new[] { 6, 4 }, i => i), Ints(5), Ints(0), Ints(0), Ints(-2) });
        OpHarness.AssertMatchesOnnxRuntime("Slice", 13, new[] { StringsOf(6, 4), Ints(1), Ints(3), Ints(1) });
    }

    [TestMethod]
    public void Slice_ZeroStep_IsAShapeError()
    {
        var inputs = new[] { X(25, 4), Ints(0), Ints(2), Ints(0), Ints(0) };
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Slice", 13, inputs)).Run(inputs));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
    }

    // ---------------------------------------------------------------- Gather

    [TestMethod]
    public void Gather_AnyAxisNegativeScalarAnd2DIndices_MatchOnnxRuntime_AndGradients()
    {
        var x = X(26, 4, 5, 3);
        var cases = new (Tensor Indices, long Axis)[]
        {
            (Ints(3, -1, 0, 0), 0),
            (Tensor.Scalar(-2L), 1),
            (Tensor.FromArray(new long[] { 2, 0, 1, 2, 2, 1 }, 2, 3), 2),
            (Tensor.FromArray(new[] { 1, -5, 4 }, 3), -2),
        };
        foreach (var (indices, axis) in cases)
        {
            var attrs = new[] { NodeAttribute.Int("axis", axis) };
            OpHarness.AssertMatchesOnnxRuntime("Gather", 13, new[] { x, indices }, attrs);
            // Repeated indices must add their gradients up.
            OpHarness.AssertGradients("Gather", 13, new[] { x, indices }, attrs, samples: 30);
        }
    }

    [TestMethod]
    public void Gather_EmbeddingOfStringsAndIntegers_MatchesOnnxRuntime()
    {
        OpHarness.AssertMatchesOnnxRuntime("Gather", 13, new[] { StringsOf(6), Ints(5, 0, 5) });
        OpHarness.AssertMatchesOnnxRuntime("Gather", 11, new[] { IntsOf(new[] { 4 }, i => 10 * i), Tensor.Scalar(-1L) });
        OpHarness.AssertMatchesOnnxRuntime("Gather", 13, new[] { IntsOf(new[] { 6, 2 }, i => i), Ints(5, 0, -1) });
    }

    [TestMethod]
    public void Gather_StringRows_MoveLikeIntegerRows()
    {
        // ONNX Runtime 1.31 drops all but the first string of each gathered row, so string rows are
        // checked against the same gather of integers naming the strings.
        var indices = Ints(5, 0, -1);
        var strings = new Executor(OpHarness.SingleNode("Gather", 13, new[] { StringsOf(6, 2), indices })).Run(StringsOf(6, 2), indices)[0];
        var numbers = IntsOf(new[] { 6, 2 }, i => i);
        var positions = new Executor(OpHarness.SingleNode("Gather", 13, new[] { numbers, indices })).Run(numbers, indices)[0].ArrayOf<long>();
        CollectionAssert.AreEqual(new[] { 3, 2 }, strings.Shape);
        CollectionAssert.AreEqual(positions.Select(p => "s" + p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), strings.ArrayOf<string>());
    }

    [TestMethod]
    public void Gather_IndexOutOfRange_IsAShapeError()
    {
        var inputs = new[] { X(27, 3, 2), Ints(3) };
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Gather", 13, inputs)).Run(inputs));
        Assert.AreEqual(ErrorCodes.ShapeMismatch, e.Code);
    }

    // ---------------------------------------------------------------- Expand / Tile

    [TestMethod]
    public void Expand_BidirectionalBroadcast_MatchesOnnxRuntime_AndGradients()
    {
        var x = X(28, 3, 1);
        foreach (var shape in new[] { Ints(2, 1, 4), Ints(3, 4), Ints(1), Ints(2, 3, 1) })
        {
            OpHarness.AssertMatchesOnnxRuntime("Expand", 13, new[] { x, shape });
            OpHarness.AssertGradients("Expand", 13, new[] { x, shape });
        }
        OpHarness.AssertMatchesOnnxRuntime("Expand", 8, new[] { IntsOf(new[] { 1, 3 }, i => i), Ints(4, 1) });
        OpHarness.AssertMatchesOnnxRuntime("Expand", 13, new[] { StringsOf(2, 1), Ints(2, 3) });
    }

    [TestMethod]
    public void Tile_MatchesOnnxRuntime_AndGradients()
    {
        var x = X(29, 2, 3, 1);
        OpHarness.AssertMatchesOnnxRuntime("Tile", 13, new[] { x, Ints(3, 1, 4) });
        OpHarness.AssertMatchesOnnxRuntime("Tile", 6, new[] { x, Ints(1, 2, 2) });
        OpHarness.AssertMatchesOnnxRuntime("Tile", 13, new[] { x, Ints(2, 0, 1) });
        OpHarness.AssertMatchesOnnxRuntime("Tile", 13, new[] { BoolsOf(2, 3), Ints(2, 2) });
        OpHarness.AssertGradients("Tile", 13, new[] { x, Ints(3, 2, 2) });
    }

    // ---------------------------------------------------------------- Pad

    [TestMethod]
    public void Pad_ConstantReflectEdge_WithCropping_MatchOnnxRuntime_AndGradients()
    {
        var x = X(30, 2, 4, 5);
        var pads = Ints(0, 2, 3, 1, -1, 2);
        foreach (var mode in new[] { "constant", "reflect", "edge" })
        {
            var attrs = new[] { NodeAttribute.String("mode", mode) };
            OpHarness.AssertMatchesOnnxRuntime("Pad", 13, new[] { x, pads }, attrs);
            OpHarness.AssertGradients("Pad", 13, new[] { x, pads }, attrs);
        }
        OpHarness.AssertMatchesOnnxRuntime("Pad", 13, new[] { x, pads, Tensor.Scalar(2.5f) });
        OpHarness.AssertGradients("Pad", 13, new[] { x, pads, Tensor.Scalar(2.5f) }, wrt: new[] { 0 });
    }

    [TestMethod]
    public void Pad_Opset2Attributes_AndOpset11Inputs_MatchOnnxRuntime()
    {
        var x = X(31, 3, 4);
        OpHarness.AssertMatchesOnnxRuntime("Pad", 2, new[] { x }, new[] { NodeAttribute.Ints("pads", 1, 0, 2, 3), NodeAttribute.Float("value", -1.5f) });
        OpHarness.AssertMatchesOnnxRuntime("Pad", 2, new[] { x }, new[] { NodeAttribute.Ints("pads", 1, 2, 1, 2), NodeAttribute.String("mode", "reflect") });
        OpHarness.AssertMatchesOnnxRuntime("Pad", 11, new[] { x, Ints(2, 1, 0, 3), Tensor.Scalar(7f) });
        OpHarness.AssertMatchesOnnxRuntime("Pad", 11, new[] { x, Ints(2, 1, 0, 3) }, new[] { NodeAttribute.String("mode", "edge") });
    }

    [TestMethod]
    public void Pad_Opset18Axes_MatchesOnnxRuntime()
    {
        var x = X(32, 2, 3, 4);
        OpHarness.AssertMatchesOnnxRuntime("Pad", 18, new[] { x, Ints(1, 2, 0, 3), Tensor.Scalar(0.5f), Ints(-1, 0) });
        OpHarness.AssertMatchesOnnxRuntime("Pad", 18, new[] { x, Ints(2, 1), Tensor.Scalar(0f), Ints(1) }, new[] { NodeAttribute.String("mode", "reflect") });
    }

    [TestMethod]
    public void Pad_IntegerAndBoolData_MatchOnnxRuntime()
    {
        OpHarness.AssertMatchesOnnxRuntime("Pad", 13, new[] { IntsOf(new[] { 2, 3 }, i => i + 1), Ints(1, 1, 0, 2), Tensor.Scalar(-9L) });
        OpHarness.AssertMatchesOnnxRuntime("Pad", 13, new[] { BoolsOf(2, 3), Ints(0, 1, 1, 0) }, new[] { NodeAttribute.String("mode", "edge") });
    }

    [TestMethod]
    public void Pad_WrapMode_IsInvalid()
    {
        var x = X(33, 2, 2);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Pad", 18, new[] { x, Ints(1, 1, 1, 1) }, new[] { NodeAttribute.String("mode", "wrap") })));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, e.Code);
    }

    // ---------------------------------------------------------------- Shape / ConstantOfShape / Constant / Identity

    [TestMethod]
    public void Shape_StartAndEnd_MatchOnnxRuntime()
    {
        var x = X(34, 2, 3, 4, 5);
        OpHarness.AssertMatchesOnnxRuntime("Shape", 13, new[] { x });
        foreach (var (start, end) in new[] { (1L, 3L), (-3L, -1L), (-10L, 10L), (3L, 1L), (0L, -4L) })
            OpHarness.AssertMatchesOnnxRuntime("Shape", 15, new[] { x }, new[] { NodeAttribute.Int("start", start), NodeAttribute.Int("end", end) });
        OpHarness.AssertMatchesOnnxRuntime("Shape", 15, new[] { x }, new[] { NodeAttribute.Int("start", 2) });
    }

    [TestMethod]
    public void ConstantOfShape_DefaultAndTypedValues_MatchOnnxRuntime()
    {
        OpHarness.AssertMatchesOnnxRuntime("ConstantOfShape", 9, new[] { Ints(2, 3) });
        OpHarness.AssertMatchesOnnxRuntime("ConstantOfShape", 9, new[] { Ints(4) }, new[] { NodeAttribute.TensorValue("value", Tensor.FromArray(new[] { 7L }, 1)) });
        OpHarness.AssertMatchesOnnxRuntime("ConstantOfShape", 9, new[] { Ints(2, 0) }, new[] { NodeAttribute.TensorValue("value", Tensor.FromArray(new[] { 1.5f }, 1)) });
        OpHarness.AssertMatchesOnnxRuntime("ConstantOfShape", 9, new[] { Ints(3, 1) }, new[] { NodeAttribute.TensorValue("value", Tensor.FromArray(new[] { true }, 1)) });
        var scalar = OpHarness.AssertMatchesOnnxRuntime("ConstantOfShape", 9, new[] { Tensor.FromArray(Array.Empty<long>(), 0) }, new[] { NodeAttribute.TensorValue("value", Tensor.FromArray(new[] { 3 }, 1)) });
        Assert.AreEqual(0, scalar[0].Rank);
    }

    [TestMethod]
    public void Constant_EveryValueAttribute_MatchesOnnxRuntime()
    {
        var attrs = new[]
        {
            NodeAttribute.TensorValue("value", X(35, 2, 3)),
            NodeAttribute.Float("value_float", 1.25f),
            NodeAttribute.Floats("value_floats", 1f, -2f, 3.5f),
            NodeAttribute.Int("value_int", -7),
            NodeAttribute.Ints("value_ints", 4, 5, 6),
            NodeAttribute.String("value_string", "hello"),
            NodeAttribute.Strings("value_strings", "a", "bc"),
        };
        foreach (var a in attrs) OpHarness.AssertMatchesOnnxRuntime("Constant", 13, Array.Empty<Tensor>(), new[] { a });
    }

    [TestMethod]
    public void Constant_ValueFloatBeforeOpset12_AndTwoValues_AreInvalid()
    {
        var e1 = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Constant", 11, Array.Empty<Tensor>(), new[] { NodeAttribute.Float("value_float", 1f) })));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, e1.Code);
        var e2 = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(OpHarness.SingleNode("Constant", 13, Array.Empty<Tensor>(), new[] { NodeAttribute.Float("value_float", 1f), NodeAttribute.Int("value_int", 1) })));
        Assert.AreEqual(ErrorCodes.InvalidAttribute, e2.Code);
    }

    [TestMethod]
    public void Identity_SharesTheInput_MatchesOnnxRuntime_AndGradients()
    {
        var x = X(36, 3, 4);
        var y = OpHarness.AssertMatchesOnnxRuntime("Identity", 16, new[] { x });
        Assert.AreSame(x.Data, y[0].Data);
        OpHarness.AssertMatchesOnnxRuntime("Identity", 13, new[] { StringsOf(2) });
        OpHarness.AssertGradients("Identity", 13, new[] { x });
    }

    // ---------------------------------------------------------------- Dropout

    [TestMethod]
    public void Dropout_Inference_IsIdentityWithAllTrueMask_MatchesOnnxRuntime()
    {
        var x = X(37, 3, 4, 5);
        OpHarness.AssertMatchesOnnxRuntime("Dropout", 7, new[] { x }, new[] { NodeAttribute.Float("ratio", 0.3f) });
        OpHarness.AssertMatchesOnnxRuntime("Dropout", 10, new[] { x }, new[] { NodeAttribute.Float("ratio", 0.3f) });
        // Before opset 12 ONNX Runtime fills the inference mask with 0/false; the ONNX reference (and
        // ONNX Runtime from opset 12) mark every element kept. Opsets 7–9 type the mask like the input.
        var mask7 = new Executor(OpHarness.SingleNode("Dropout", 7, new[] { x }, outputs: 2)).Run(x)[1];
        Assert.AreEqual(DataType.Float, mask7.DataType);
        Assert.IsTrue(mask7.Floats.All(v => v == 1f));
        var mask10 = new Executor(OpHarness.SingleNode("Dropout", 10, new[] { x }, outputs: 2)).Run(x)[1];
        Assert.IsTrue(mask10.ArrayOf<bool>().All(k => k));
        OpHarness.AssertMatchesOnnxRuntime("Dropout", 13, new[] { x }, outputs: 2);
        OpHarness.AssertMatchesOnnxRuntime("Dropout", 13, new[] { x, Tensor.Scalar(0.7f) }, outputs: 2);
        OpHarness.AssertMatchesOnnxRuntime("Dropout", 13, new[] { x, Tensor.Scalar(0.7f), Tensor.Scalar(false) }, outputs: 2);
        OpHarness.AssertGradients("Dropout", 13, new[] { x });
    }

    [TestMethod]
    public void Dropout_Opset6IsTest_StaysIdentityWhileTraining()
    {
        // ONNX Runtime has no Dropout-6 kernel; is_test=1 must keep the input even in a training run.
        var x = X(42, 4, 5);
        var training = new RunOptions { Training = true };
        var test = new Executor(OpHarness.SingleNode("Dropout", 6, new[] { x }, new[] { NodeAttribute.Int("is_test", 1) }));
        Assert.AreSame(x.Data, test.Run(new[] { x }, training)[0].Data);
        var train = new Executor(OpHarness.SingleNode("Dropout", 6, new[] { x }));
        Assert.IsTrue(train.Run(new[] { x }, training)[0].Floats.Any(v => v == 0f), "is_test=0 drops in a training run");
        Assert.AreSame(x.Data, train.Run(x)[0].Data, "and is the identity in inference");
    }

    [TestMethod]
    public void Dropout_TrainingWithZeroRatio_MatchesOnnxRuntime()
    {
        var x = X(38, 3, 4, 5);
        OpHarness.AssertMatchesOnnxRuntime("Dropout", 13, new[] { x, Tensor.Scalar(0f), Tensor.Scalar(true) }, outputs: 2);
    }

    [TestMethod]
    public void Dropout_Training_DropsAboutRatio_ScalesKept_IsReproducible_AndVariesPerStep()
    {
        var x = RandomTensors.Uniform(39, 1f, 2f, 100, 100);
        var model = OpHarness.SingleNode("Dropout", 13, new[] { x, Tensor.Scalar(0.25f), Tensor.Scalar(true) }, outputs: 2);
        var named = new Dictionary<string, Tensor> { ["x0"] = x, ["x1"] = Tensor.Scalar(0.25f), ["x2"] = Tensor.Scalar(true) };
        var options = new RunOptions { Seed = 5 };
        var first = new Executor(model).Run(named, options);
        var y = first["dropout0_out0"].Floats;
        var mask = first["dropout0_out1"].ArrayOf<bool>();
        int dropped = mask.Count(k => !k);
        Assert.IsTrue(Math.Abs(dropped / 10000.0 - 0.25) < 0.02, $"dropped {dropped} of 10000 at ratio 0.25");
        for (int i = 0; i < y.Length; i++)
            Assert.AreEqual(mask[i] ? x.Floats[i] / 0.75f : 0f, y[i], 1e-6f);

        var again = new Executor(model).Run(named, options)["dropout0_out1"].ArrayOf<bool>();
        CollectionAssert.AreEqual(mask, again, "the same seed and step must give the same mask");
        var exec = new Executor(model);
        var step1 = exec.Run(named, options)["dropout0_out1"].ArrayOf<bool>();
        var step2 = exec.Run(named, options)["dropout0_out1"].ArrayOf<bool>();
        CollectionAssert.AreNotEqual(step1, step2, "each training step must draw a new mask");
        var otherSeed = new Executor(model).Run(named, new RunOptions { Seed = 6 })["dropout0_out1"].ArrayOf<bool>();
        CollectionAssert.AreNotEqual(mask, otherSeed);
    }

    [TestMethod]
    public void Dropout_RunInTrainingMode_DropsWithoutTrainingModeInput_AndGradientIsMaskTimesScale()
    {
        var x = X(40, 6, 7);
        var model = OpHarness.SingleNode("Dropout", 13, new[] { x }, new[] { NodeAttribute.Int("seed", 3) }, outputs: 2);
        var exec = new Executor(model);
        var options = new RunOptions { Training = true, Seed = 1, MaxDegreeOfParallelism = 1 };
        var record = exec.Forward(new Dictionary<string, Tensor> { ["x0"] = x }, options);
        var mask = record.Outputs[0]![1]; // the single node's mask output
        var dy = X(41, 6, 7);
        var dx = exec.Backward(record, new Dictionary<string, Tensor> { ["dropout0_out0"] = dy }, new[] { "x0" })["x0"].Floats;
        var keep = mask!.ArrayOf<bool>();
        Assert.IsTrue(keep.Any(k => !k) && keep.Any(k => k), "a 0.5 dropout of 42 elements keeps some and drops some");
        for (int i = 0; i < dx.Length; i++)
            Assert.AreEqual(keep[i] ? dy.Floats[i] * 2f : 0f, dx[i], 1e-6f);
    }

    // ---------------------------------------------------------------- Static shapes with a symbolic batch

    /// <summary>Runs the kernels' shape inference over a graph the way the static pass does.</summary>
    private static Dictionary<string, ValueFacts> InferStatically(Model model)
    {
        var facts = new Dictionary<string, ValueFacts>(StringComparer.Ordinal);
        foreach (var i in model.Graph.Inputs) facts[i.Name] = new ValueFacts(i.ElementType, i.Shape);
        foreach (var (name, t) in model.Graph.Initializers) facts[name] = ValueFacts.Of(t);
        foreach (var node in model.Graph.Nodes)
        {
            var kernel = OperatorRegistry.Create(node, model.Opset, "test");
            var inputs = node.Inputs.Select(n => n.Length == 0 ? null : facts[n]).ToArray();
            var ctx = new ShapeContext(kernel, inputs, node.Outputs.Count);
            kernel.InferShapes(ctx);
            for (int k = 0; k < node.Outputs.Count; k++)
                if (ctx.Output(k) is { } f) facts[node.Outputs[k]] = f;
        }
        return facts;
    }

    [TestMethod]
    public void StaticShapes_ShapeGatherUnsqueezeConcatReshape_ResolveBatchBy400()
    {
        var b = new ModelBuilder(13);
        var x = b.Input("x", DataType.Float, "batch", 16, 5, 5);
        var shape = b.Node("Shape", new[] { x });
        var batch = b.Node("Gather", new[] { shape, b.Initializer("zero", Tensor.Scalar(0L)) }, NodeAttribute.Int("axis", 0));
        var batchVector = b.Node("Unsqueeze", new[] { batch, b.Initializer("axes", Ints(0)) });
        var target = b.Node("Concat", new[] { batchVector, b.Initializer("minus1", Ints(-1)) }, NodeAttribute.Int("axis", 0));
        var y = b.Node("Reshape", new[] { x, target });
        b.Output(y);
        var facts = InferStatically(b.Build());

        Assert.AreEqual("[batch,16,5,5]", Dim.Format(facts[shape].Elements!));
        Assert.AreEqual(0, facts[batch].Shape!.Length, "a scalar index drops the axis");
        Assert.AreEqual("[batch]", Dim.Format(facts[batch].Elements!));
        Assert.AreEqual("[batch,-1]", Dim.Format(facts[target].Elements!));
        Assert.AreEqual("[batch,400]", Dim.Format(facts[y].Shape!));
    }

    [TestMethod]
    public void StaticShapes_SliceSqueezeIdentityAndExpandOfSymbolicShapes()
    {
        var b = new ModelBuilder(13);
        var x = b.Input("x", DataType.Float, "batch", 16, 5, 5);
        var shape = b.Node("Shape", new[] { x });
        var tail = b.Node("Slice", new[] { shape, b.Initializer("s", Ints(1)), b.Initializer("e", Ints(long.MaxValue)) });
        var head = b.Node("Slice", new[] { shape, b.Initializer("s0", Ints(0)), b.Initializer("e0", Ints(1)) });
        var batch = b.Node("Squeeze", new[] { head, b.Initializer("ax", Ints(0)) });
        var same = b.Node("Identity", new[] { shape });
        var ones = b.Node("ConstantOfShape", new[] { same });
        var wide = b.Node("Expand", new[] { b.Initializer("one", Tensor.FromArray(new[] { 1f }, 1, 1)), b.Node("Concat", new[] { head, b.Initializer("c", Ints(7)) }, NodeAttribute.Int("axis", 0)) });
        var tiled = b.Node("Tile", new[] { b.Input("t", DataType.Float, "batch", 3), b.Initializer("r", Ints(2, 1)) });
        var facts = InferStatically(b.Build());

        Assert.AreEqual("[16,5,5]", Dim.Format(facts[tail].Elements!));
        Assert.IsNotNull(facts[tail].Value, "known elements make a constant");
        Assert.AreEqual(0, facts[batch].Shape!.Length);
        Assert.AreEqual("[batch]", Dim.Format(facts[batch].Elements!));
        Assert.AreEqual("[batch,16,5,5]", Dim.Format(facts[ones].Shape!));
        Assert.AreEqual("[batch,7]", Dim.Format(facts[wide].Shape!));
        Assert.AreEqual("[2*batch,3]", Dim.Format(facts[tiled].Shape!));
    }

    [TestMethod]
    public void StaticShapes_ReshapeToSymbolicMultiple_InfersWithoutMinusOne()
    {
        var b = new ModelBuilder(13);
        var x = b.Input("x", DataType.Float, "batch", 16, 5, 5);
        var node = new Node("Reshape", new[] { x, "shape" }, new[] { "y" });
        var kernel = OperatorRegistry.Create(node, 13, "test");
        var shapeFacts = new ValueFacts(DataType.Int64, new Dim[] { 2 }, null, new[] { Dim.Symbolic("batch", 16), Dim.Of(25) });
        var ctx = new ShapeContext(kernel, new[] { new ValueFacts(DataType.Float, new[] { Dim.Symbolic("batch"), 16, 5, 5 }), shapeFacts }, 1);
        kernel.InferShapes(ctx);
        Assert.AreEqual("[16*batch,25]", Dim.Format(ctx.Output(0)!.Shape!));

        var minusOne = new ValueFacts(DataType.Int64, new Dim[] { 2 }, null, new[] { Dim.Of(-1), Dim.Of(25) });
        ctx = new ShapeContext(kernel, new[] { new ValueFacts(DataType.Float, new[] { Dim.Symbolic("batch"), 16, 5, 5 }), minusOne }, 1);
        kernel.InferShapes(ctx);
        Assert.AreEqual("[16*batch,25]", Dim.Format(ctx.Output(0)!.Shape!));

        // Two different symbols: equal dims cancel, so the -1 is still known.
        var twoSymbols = new[] { Dim.Symbolic("batch"), Dim.Symbolic("seq"), 8, 4 };
        var keepBoth = new ValueFacts(DataType.Int64, new Dim[] { 3 }, null, new[] { Dim.Symbolic("batch"), Dim.Symbolic("seq"), Dim.Of(-1) });
        ctx = new ShapeContext(kernel, new[] { new ValueFacts(DataType.Float, twoSymbols), keepBoth }, 1);
        kernel.InferShapes(ctx);
        Assert.AreEqual("[batch,seq,32]", Dim.Format(ctx.Output(0)!.Shape!));
    }
}
