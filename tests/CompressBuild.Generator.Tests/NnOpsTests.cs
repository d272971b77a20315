using CompressBuild.Core.Compression;
using CompressBuild.Core.Execution;
using CompressBuild.Generator.Tests.Harness;
using CompressBuild.Onnx;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Tests;

/// <summary>
/// The neural-network op family (N-d Conv, ConvTranspose, N-d and typed pooling, global pooling,
/// BatchNormalization, LayerNormalization, LSTM, GRU, Resize, broadcast MatMul): small models per
/// attribute variant, each generated predictor against the engine's executor and ONNX Runtime.
/// </summary>
internal static class NnModels
{
    private static NodeAttribute I(string name, long v) => NodeAttribute.Int(name, v);

    private static NodeAttribute Is(string name, params long[] v) => NodeAttribute.Ints(name, v);

    private static NodeAttribute F(string name, float v) => NodeAttribute.Float(name, v);

    private static NodeAttribute S(string name, string v) => NodeAttribute.String(name, v);

    // Seeds depend only on the initializer's name and shape, so every build of a case is identical.
    private static int Seed(string name, int[] shape) => name.Sum(c => c) * 131 + shape.Aggregate(17, (h, d) => h * 31 + d);

    private static string W(ModelBuilder b, string name, params int[] shape) => b.Initializer(name, RandomTensors.Normal(Seed(name, shape), 0.5f, shape));

    private static string Positive(ModelBuilder b, string name, params int[] shape) => b.Initializer(name, RandomTensors.Uniform(Seed(name, shape), 0.5f, 1.5f, shape));

    private static object[] Dims(int[] shape, bool batched) => shape.Select((d, k) => k == 0 && batched ? (object)"N" : d).ToArray();

    /// <summary>One node on input x (batched along axis 0 unless <paramref name="batched"/> is false), optionally followed by Relu.</summary>
    private static Model One(string op, int[] xShape, int[] yShape, Func<ModelBuilder, string, string[]> inputs, int opset = 13, bool batched = true, bool relu = false, params NodeAttribute[] attrs)
    {
        var b = new ModelBuilder(opset);
        string x = b.Input("x", DataType.Float, Dims(xShape, batched));
        string y = b.Node(op, inputs(b, x), attrs);
        if (relu) y = b.Node("Relu", new[] { y });
        b.Output(y, DataType.Float, Dims(yShape, batched));
        return b.Build();
    }

    private static OpCase Case(string name, Func<Model> build, params int[][] inputs) => new(name, build, inputs);

    public static readonly OpCase Conv1D = Case("NnConv1D", () => One("Conv", new[] { 2, 4, 20 }, new[] { 2, 6, 8 },
        (b, x) => new[] { x, W(b, "w", 6, 2, 5), W(b, "b", 6) }, attrs: new[] { I("group", 2), Is("pads", 2, 1), Is("strides", 2), Is("dilations", 2) }),
        new[] { 2, 4, 20 });

    public static readonly OpCase Conv1DSameRelu = Case("NnConv1DSameRelu", () => One("Conv", new[] { 2, 3, 17 }, new[] { 2, 5, 6 },
        (b, x) => new[] { x, W(b, "w", 5, 3, 4) }, relu: true, attrs: new[] { S("auto_pad", "SAME_UPPER"), Is("strides", 3) }),
        new[] { 2, 3, 17 });

    public static readonly OpCase Conv3D = Case("NnConv3D", () => One("Conv", new[] { 2, 4, 5, 6, 7 }, new[] { 2, 6, 3, 3, 6 },
        (b, x) => new[] { x, W(b, "w", 6, 2, 3, 2, 3), W(b, "b", 6) }, relu: true,
        attrs: new[] { I("group", 2), Is("pads", 1, 0, 1, 1, 1, 0), Is("strides", 1, 2, 1), Is("dilations", 2, 1, 1) }),
        new[] { 2, 4, 5, 6, 7 });

    public static readonly OpCase ConvTranspose2D = Case("NnConvTranspose2D", () => One("ConvTranspose", new[] { 2, 4, 5, 6 }, new[] { 2, 6, 11, 20 },
        (b, x) => new[] { x, W(b, "w", 4, 3, 3, 3), W(b, "b", 6) }, relu: true,
        attrs: new[] { I("group", 2), Is("strides", 2, 3), Is("pads", 1, 0, 0, 2), Is("output_padding", 1, 2), Is("dilations", 1, 2) }),
        new[] { 2, 4, 5, 6 });

    public static readonly OpCase ConvTranspose1DOutputShape = Case("NnConvTranspose1DOutputShape", () => One("ConvTranspose", new[] { 2, 3, 7 }, new[] { 2, 2, 15 },
        (b, x) => new[] { x, W(b, "w", 3, 2, 4) }, attrs: new[] { Is("strides", 2), Is("output_shape", 15) }),
        new[] { 2, 3, 7 });

    public static readonly OpCase ConvTranspose3DSameLower = Case("NnConvTranspose3DSameLower", () => One("ConvTranspose", new[] { 2, 2, 3, 4, 3 }, new[] { 2, 3, 6, 4, 6 },
        (b, x) => new[] { x, W(b, "w", 2, 3, 2, 3, 2), W(b, "b", 3) }, attrs: new[] { Is("strides", 2, 1, 2), S("auto_pad", "SAME_LOWER") }),
        new[] { 2, 2, 3, 4, 3 });

    public static readonly OpCase MaxPool3D = Case("NnMaxPool3D", () => One("MaxPool", new[] { 2, 3, 6, 7, 8 }, new[] { 2, 3, 4, 4, 7 },
        (b, x) => new[] { x }, opset: 12,
        attrs: new[] { Is("kernel_shape", 2, 3, 2), Is("strides", 2, 2, 1), Is("pads", 1, 1, 0, 0, 1, 1), Is("dilations", 1, 1, 2), I("ceil_mode", 1) }),
        new[] { 2, 3, 6, 7, 8 });

    public static readonly OpCase MaxPool1D = Case("NnMaxPool1D", () => One("MaxPool", new[] { 2, 4, 15 }, new[] { 2, 4, 8 },
        (b, x) => new[] { x }, attrs: new[] { Is("kernel_shape", 3), Is("strides", 2), Is("pads", 1, 1) }),
        new[] { 2, 4, 15 });

    public static readonly OpCase AveragePool3D = Case("NnAveragePool3D", () => One("AveragePool", new[] { 2, 2, 5, 6, 7 }, new[] { 2, 2, 3, 4, 4 },
        (b, x) => new[] { x }, attrs: new[] { Is("kernel_shape", 3, 2, 3), Is("strides", 2, 2, 2), Is("pads", 1, 0, 1, 1, 1, 0), I("count_include_pad", 1) }),
        new[] { 2, 2, 5, 6, 7 });

    public static readonly OpCase AveragePool3DCeil = Case("NnAveragePool3DCeil", () => One("AveragePool", new[] { 2, 2, 5, 6, 7 }, new[] { 2, 2, 3, 3, 4 },
        (b, x) => new[] { x }, opset: 12, attrs: new[] { Is("kernel_shape", 3, 2, 3), Is("strides", 2, 2, 2), Is("pads", 1, 0, 1, 1, 0, 0), I("ceil_mode", 1) }),
        new[] { 2, 2, 5, 6, 7 });

    public static readonly OpCase AveragePool1D = Case("NnAveragePool1D", () => One("AveragePool", new[] { 2, 3, 11 }, new[] { 2, 3, 4 },
        (b, x) => new[] { x }, attrs: new[] { Is("kernel_shape", 4), Is("strides", 3), Is("pads", 2, 1) }),
        new[] { 2, 3, 11 });

    public static readonly OpCase GlobalMaxPool3D = Case("NnGlobalMaxPool3D", () => One("GlobalMaxPool", new[] { 2, 3, 4, 5, 6 }, new[] { 2, 3, 1, 1, 1 },
        (b, x) => new[] { x }), new[] { 2, 3, 4, 5, 6 });

    public static readonly OpCase GlobalMaxPool1D = Case("NnGlobalMaxPool1D", () => One("GlobalMaxPool", new[] { 2, 5, 9 }, new[] { 2, 5, 1 },
        (b, x) => new[] { x }), new[] { 2, 5, 9 });

    public static readonly OpCase BatchNorm4DRelu = Case("NnBatchNorm4DRelu", () => One("BatchNormalization", new[] { 2, 3, 5, 6 }, new[] { 2, 3, 5, 6 },
        (b, x) => new[] { x, W(b, "s", 3), W(b, "bias", 3), W(b, "mean", 3), Positive(b, "var", 3) }, opset: 15, relu: true, attrs: new[] { F("epsilon", 1e-3f) }),
        new[] { 2, 3, 5, 6 });

    public static readonly OpCase BatchNorm2D = Case("NnBatchNorm2D", () => One("BatchNormalization", new[] { 2, 7 }, new[] { 2, 7 },
        (b, x) => new[] { x, W(b, "s", 7), W(b, "bias", 7), W(b, "mean", 7), Positive(b, "var", 7) }, opset: 15),
        new[] { 2, 7 });

    public static readonly OpCase BatchNormTraining = Case("NnBatchNormTraining", () =>
    {
        var b = new ModelBuilder(15);
        string x = b.Input("x", DataType.Float, 4, 3, 5);
        var outs = b.NodeMulti("BatchNormalization", new[] { x, W(b, "s", 3), W(b, "bias", 3), W(b, "mean", 3), Positive(b, "var", 3) }, 3,
            I("training_mode", 1), F("momentum", 0.8f));
        b.Output(outs[0], DataType.Float, 4, 3, 5);
        b.Output(outs[1], DataType.Float, 3);
        b.Output(outs[2], DataType.Float, 3);
        return b.Build();
    }, new[] { 4, 3, 5 });

    public static readonly OpCase LayerNorm = Case("NnLayerNorm", () =>
    {
        var b = new ModelBuilder(17);
        string x = b.Input("x", DataType.Float, "N", 4, 6);
        var outs = b.NodeMulti("LayerNormalization", new[] { x, W(b, "s", 6), W(b, "bias", 6) }, 3, F("epsilon", 1e-4f));
        b.Output(outs[0], DataType.Float, "N", 4, 6);
        b.Output(outs[1], DataType.Float, "N", 4, 1);
        b.Output(outs[2], DataType.Float, "N", 4, 1);
        return b.Build();
    }, new[] { 2, 4, 6 });

    public static readonly OpCase LayerNormBroadcast = Case("NnLayerNormBroadcast", () => One("LayerNormalization", new[] { 2, 3, 4, 5 }, new[] { 2, 3, 4, 5 },
        (b, x) => new[] { x, W(b, "s", 4, 1), W(b, "bias", 5) }, opset: 17, attrs: new[] { I("axis", 1) }),
        new[] { 2, 3, 4, 5 });

    private static Model Lstm(bool batchFirst)
    {
        var b = new ModelBuilder(14);
        if (!batchFirst)
        {
            // Bidirectional, every optional input, clip, custom activations.
            string x = b.Input("x", DataType.Float, 5, 3, 4);
            string lens = b.Initializer("lens", Tensor.FromArray(new[] { 5, 3, 1 }, 3));
            var outs = b.NodeMulti("LSTM", new[] { x, W(b, "w", 2, 24, 4), W(b, "r", 2, 24, 6), W(b, "b", 2, 48), lens, W(b, "h0", 2, 3, 6), W(b, "c0", 2, 3, 6), W(b, "p", 2, 18) }, 3,
                I("hidden_size", 6), S("direction", "bidirectional"), F("clip", 3f),
                NodeAttribute.Strings("activations", "HardSigmoid", "Tanh", "Tanh", "Sigmoid", "Elu", "Softsign"),
                NodeAttribute.Floats("activation_alpha", 0.3f, 0.7f), NodeAttribute.Floats("activation_beta", 0.4f));
            b.Output(outs[0], DataType.Float, 5, 2, 3, 6);
            b.Output(outs[1], DataType.Float, 2, 3, 6);
            b.Output(outs[2], DataType.Float, 2, 3, 6);
            return b.Build();
        }
        string xb = b.Input("x", DataType.Float, "N", 4, 3);
        var o = b.NodeMulti("LSTM", new[] { xb, W(b, "w", 1, 20, 3), W(b, "r", 1, 20, 5), W(b, "b", 1, 40) }, 2,
            I("hidden_size", 5), I("layout", 1), I("input_forget", 1));
        b.Output(o[0], DataType.Float, "N", 4, 1, 5);
        b.Output(o[1], DataType.Float, "N", 1, 5);
        return b.Build();
    }

    public static readonly OpCase LstmBidirectional = Case("NnLstmBidirectional", () => Lstm(false), new[] { 5, 3, 4 });

    public static readonly OpCase LstmBatchFirst = Case("NnLstmBatchFirst", () => Lstm(true), new[] { 2, 4, 3 });

    public static readonly OpCase GruReverse = Case("NnGruReverse", () =>
    {
        var b = new ModelBuilder(14);
        string x = b.Input("x", DataType.Float, 4, 2, 3);
        var outs = b.NodeMulti("GRU", new[] { x, W(b, "w", 1, 15, 3), W(b, "r", 1, 15, 5), W(b, "b", 1, 30), "", W(b, "h0", 1, 2, 5) }, 2,
            I("hidden_size", 5), S("direction", "reverse"), I("linear_before_reset", 1));
        b.Output(outs[0], DataType.Float, 4, 1, 2, 5);
        b.Output(outs[1], DataType.Float, 1, 2, 5);
        return b.Build();
    }, new[] { 4, 2, 3 });

    public static readonly OpCase GruBidirectional = Case("NnGruBidirectional", () =>
    {
        var b = new ModelBuilder(14);
        string x = b.Input("x", DataType.Float, 3, 3, 2);
        string lens = b.Initializer("lens", Tensor.FromArray(new[] { 3, 1, 2 }, 3));
        var outs = b.NodeMulti("GRU", new[] { x, W(b, "w", 2, 12, 2), W(b, "r", 2, 12, 4), W(b, "b", 2, 24), lens }, 2,
            I("hidden_size", 4), S("direction", "bidirectional"), F("clip", 2f),
            NodeAttribute.Strings("activations", "Sigmoid", "Tanh", "HardSigmoid", "Softsign"));
        b.Output(outs[0], DataType.Float, 3, 2, 3, 4);
        b.Output(outs[1], DataType.Float, 2, 3, 4);
        return b.Build();
    }, new[] { 3, 3, 2 });

    public static readonly OpCase ResizeLinear = Case("NnResizeLinear", () => One("Resize", new[] { 2, 3, 5, 6 }, new[] { 2, 3, 10, 9 },
        (b, x) => new[] { x, "", b.Initializer("scales", new[] { 1f, 1f, 2f, 1.5f }, 4) }, attrs: new[] { S("mode", "linear") }),
        new[] { 2, 3, 5, 6 });

    public static readonly OpCase ResizeCubic = Case("NnResizeCubic", () => One("Resize", new[] { 1, 2, 9, 8 }, new[] { 1, 2, 5, 3 },
        (b, x) => new[] { x, "", "", b.Initializer("sizes", Tensor.FromArray(new long[] { 1, 2, 5, 3 }, 4)) }, batched: false,
        attrs: new[] { S("mode", "cubic"), I("exclude_outside", 1), F("cubic_coeff_a", -0.5f), S("coordinate_transformation_mode", "align_corners") }),
        new[] { 1, 2, 9, 8 });

    public static readonly OpCase ResizeNearestCrop = Case("NnResizeNearestCrop", () => One("Resize", new[] { 1, 1, 6, 7 }, new[] { 1, 1, 4, 5 },
        (b, x) => new[] { x, b.Initializer("roi", new[] { 0f, 0f, 0.2f, 0.1f, 1f, 1f, 0.9f, 1.2f }, 8), "", b.Initializer("sizes", Tensor.FromArray(new long[] { 1, 1, 4, 5 }, 4)) },
        batched: false, attrs: new[] { S("mode", "nearest"), S("coordinate_transformation_mode", "tf_crop_and_resize"), F("extrapolation_value", 7f), S("nearest_mode", "round_prefer_ceil") }),
        new[] { 1, 1, 6, 7 });

    public static readonly OpCase ResizeAntialias = Case("NnResizeAntialias", () => One("Resize", new[] { 1, 3, 12, 10 }, new[] { 1, 3, 6, 4 },
        (b, x) => new[] { x, "", b.Initializer("scales", new[] { 0.5f, 0.4f }, 2) }, opset: 18, batched: false,
        attrs: new[] { S("mode", "linear"), I("antialias", 1), Is("axes", 2, 3) }),
        new[] { 1, 3, 12, 10 });

    public static readonly OpCase MatMulBroadcast = Case("NnMatMulBroadcast", () => One("MatMul", new[] { 2, 3, 4 }, new[] { 3, 2, 3, 5 },
        (b, x) => new[] { x, W(b, "w", 3, 1, 4, 5) }, batched: false),
        new[] { 2, 3, 4 });

    /// <summary>
    /// x (float, ×<paramref name="gain"/>) cast to <paramref name="type"/>, one node, its outputs cast
    /// back to float: typed kernels behind a float interface.
    /// </summary>
    private static Model Typed(DataType type, int[] xShape, float gain, string op, Func<ModelBuilder, string, string[]> inputs, (int[] Shape, DataType Type)[] outputs, int opset = 13, params NodeAttribute[] attrs)
    {
        var b = new ModelBuilder(opset);
        string x = b.Input("x", DataType.Float, xShape.Cast<object>().ToArray());
        // Unsigned types get |x| (casting negative floats to them is undefined).
        if (type is DataType.UInt8 or DataType.UInt16 or DataType.UInt32 or DataType.UInt64) x = b.Node("Abs", new[] { x });
        string scaled = b.Node("Mul", new[] { x, b.Initializer("gain", new[] { gain }, 1) });
        string typed = b.Node("Cast", new[] { scaled }, I("to", (long)type));
        var outs = b.NodeMulti(op, inputs(b, typed), outputs.Length, attrs);
        for (int k = 0; k < outs.Length; k++)
        {
            string f = outputs[k].Type == DataType.Float ? outs[k] : b.Node("Cast", new[] { outs[k] }, I("to", (long)DataType.Float));
            b.Output(f, DataType.Float, outputs[k].Shape.Cast<object>().ToArray());
        }
        return b.Build();
    }

    public static readonly OpCase MaxPoolInt8Indices = Case("NnMaxPoolInt8Indices", () => Typed(DataType.Int8, new[] { 2, 3, 7, 8 }, 100f, "MaxPool",
        (b, x) => new[] { x }, new[] { (new[] { 2, 3, 4, 4 }, DataType.Int8), (new[] { 2, 3, 4, 4 }, DataType.Int64) }, 12,
        Is("kernel_shape", 3, 3), Is("strides", 2, 2), Is("pads", 1, 1, 1, 1), I("storage_order", 1)),
        new[] { 2, 3, 7, 8 });

    public static readonly OpCase MaxPoolUInt8 = Case("NnMaxPoolUInt8", () => Typed(DataType.UInt8, new[] { 1, 2, 6, 6 }, 100f, "MaxPool",
        (b, x) => new[] { x }, new[] { (new[] { 1, 2, 3, 3 }, DataType.UInt8) }, 12, Is("kernel_shape", 2, 2), Is("strides", 2, 2)),
        new[] { 1, 2, 6, 6 });

    public static readonly OpCase AveragePoolDouble = Case("NnAveragePoolDouble", () => Typed(DataType.Double, new[] { 2, 3, 6, 7 }, 1f, "AveragePool",
        (b, x) => new[] { x }, new[] { (new[] { 2, 3, 3, 4 }, DataType.Double) }, 13, Is("kernel_shape", 3, 2), Is("strides", 2, 2), Is("pads", 1, 1, 0, 0)),
        new[] { 2, 3, 6, 7 });

    public static readonly OpCase GlobalMaxPoolFloat16 = Case("NnGlobalMaxPoolFloat16", () => Typed(DataType.Float16, new[] { 2, 3, 4, 5 }, 1f, "GlobalMaxPool",
        (b, x) => new[] { x }, new[] { (new[] { 2, 3, 1, 1 }, DataType.Float16) }),
        new[] { 2, 3, 4, 5 });

    public static readonly OpCase GlobalAveragePoolDouble = Case("NnGlobalAveragePoolDouble", () => Typed(DataType.Double, new[] { 2, 3, 4, 5 }, 1f, "GlobalAveragePool",
        (b, x) => new[] { x }, new[] { (new[] { 2, 3, 1, 1 }, DataType.Double) }),
        new[] { 2, 3, 4, 5 });

    public static readonly OpCase ResizeLinearInt32 = Case("NnResizeLinearInt32", () => Typed(DataType.Int32, new[] { 1, 2, 3, 4 }, 100f, "Resize",
        (b, x) => new[] { x, "", b.Initializer("scales", new[] { 1f, 1f, 2f, 1.5f }, 4) }, new[] { (new[] { 1, 2, 6, 6 }, DataType.Int32) }, 13, S("mode", "linear")),
        new[] { 1, 2, 3, 4 });

    public static readonly OpCase ResizeNearestInt64 = Case("NnResizeNearestInt64", () => Typed(DataType.Int64, new[] { 1, 2, 3, 4 }, 100f, "Resize",
        (b, x) => new[] { x, "", "", b.Initializer("sizes", Tensor.FromArray(new long[] { 1, 2, 5, 7 }, 4)) }, new[] { (new[] { 1, 2, 5, 7 }, DataType.Int64) }, 13,
        S("mode", "nearest"), S("nearest_mode", "floor"), S("coordinate_transformation_mode", "asymmetric")),
        new[] { 1, 2, 3, 4 });

    public static readonly OpCase ResizeCubicDouble = Case("NnResizeCubicDouble", () => Typed(DataType.Double, new[] { 1, 2, 4, 5 }, 1f, "Resize",
        (b, x) => new[] { x, "", b.Initializer("scales", new[] { 1f, 1f, 1.5f, 0.8f }, 4) }, new[] { (new[] { 1, 2, 6, 4 }, DataType.Double) }, 13, S("mode", "cubic")),
        new[] { 1, 2, 4, 5 });

    public static readonly OpCase MatMulInt32 = Case("NnMatMulInt32", () => Typed(DataType.Int32, new[] { 2, 3, 4 }, 10f, "MatMul",
        (b, x) => new[] { x, b.Initializer("w", Tensor.FromArray(Enumerable.Range(0, 40).Select(i => i % 7 - 3).ToArray(), 2, 4, 5)) },
        new[] { (new[] { 2, 3, 5 }, DataType.Int32) }),
        new[] { 2, 3, 4 });

    public static readonly OpCase MatMulDoubleBroadcast = Case("NnMatMulDoubleBroadcast", () => Typed(DataType.Double, new[] { 3, 1, 2, 4 }, 1f, "MatMul",
        (b, x) => new[] { x, b.Initializer("w", Tensor.FromArray(Enumerable.Range(0, 40).Select(i => (i % 5) * 0.25 - 0.5).ToArray(), 2, 4, 5)) },
        new[] { (new[] { 3, 2, 2, 5 }, DataType.Double) }),
        new[] { 3, 1, 2, 4 });

    /// <summary>Every case (with compressed-weight variants of the weight ops).</summary>
    public static IReadOnlyList<OpCase> All { get; } = new[]
    {
        Conv1D, Conv1D.With("int8"), Conv1DSameRelu, Conv3D, Conv3D.With("int8"), Conv3D.With("fp16"),
        ConvTranspose2D, ConvTranspose2D.With("int8"), ConvTranspose2D.With("fp16"), ConvTranspose1DOutputShape, ConvTranspose3DSameLower,
        MaxPool3D, MaxPool1D, AveragePool3D, AveragePool3DCeil, AveragePool1D, GlobalMaxPool3D, GlobalMaxPool1D,
        BatchNorm4DRelu, BatchNorm2D, BatchNormTraining, LayerNorm, LayerNormBroadcast,
        LstmBidirectional, LstmBidirectional.With("int8"), LstmBidirectional.With("fp16"), LstmBatchFirst, GruReverse, GruReverse.With("int8"), GruBidirectional,
        ResizeLinear, ResizeCubic, ResizeNearestCrop, ResizeAntialias, MatMulBroadcast, MatMulBroadcast.With("int8"),
        MaxPoolInt8Indices, MaxPoolUInt8, AveragePoolDouble, GlobalMaxPoolFloat16, GlobalAveragePoolDouble,
        ResizeLinearInt32, ResizeNearestInt64, ResizeCubicDouble, MatMulInt32, MatMulDoubleBroadcast,
    };
}

[TestClass]
public sealed class NnOpsTests
{
    private static readonly Lazy<(GeneratedAssembly Assembly, Dictionary<string, (OpCase Case, CompressionOutput Output)> Cases)> Ops = new(() =>
    {
        var cases = NnModels.All.ToDictionary(c => c.ClassName, c => (c, EndToEnd.Compress(c.Build(), c.ClassName, c.Quantize)));
        return (EndToEnd.Build(cases.Values.Select(v => v.Item2).ToList()), cases);
    });

    public static IEnumerable<object[]> OpCases => NnModels.All.Select(c => new object[] { c.ClassName });

    /// <summary>Cases compared with the executor only, and why ONNX Runtime cannot serve as the oracle.</summary>
    private static readonly Dictionary<string, string> EngineOnly = new(StringComparer.Ordinal)
    {
        ["NnLstmBatchFirst"] = "ONNX Runtime's CPU LSTM rejects layout 1 (batchwise recurrent operations are not supported)",
        ["NnAveragePoolDouble"] = "ONNX Runtime has no double AveragePool kernel",
        ["NnGlobalAveragePoolDouble"] = "ONNX Runtime has no double GlobalAveragePool kernel",
        ["NnResizeNearestInt64"] = "ONNX Runtime has no int64 Resize kernel",
        ["NnResizeCubicDouble"] = "ONNX Runtime has no double Resize kernel",
        ["NnGlobalMaxPoolFloat16"] = "ONNX Runtime's optimizer removes the float → float16 → float round trip around the pooling",
    };

    [TestMethod]
    [DynamicData(nameof(OpCases))]
    public void NnOp_MatchesExecutorAndOnnxRuntime(string className)
    {
        var (assembly, cases) = Ops.Value;
        var (opCase, output) = cases[className];
        var inputs = opCase.RandomInputs(7);
        var actual = assembly.Create(className).Run(inputs);
        var engine = new Executor(output.CompressedModel).Run(inputs);
        var ort = EngineOnly.ContainsKey(className) ? null : OnnxRuntimeOracle.Run(OnnxModel.ToBytes(output.CompressedModel), inputs);
        Assert.AreEqual(engine.Length, actual.Length);
        for (int k = 0; k < actual.Length; k++)
        {
            Numerics.AssertClose(engine[k], actual[k], 1e-4, 1e-5, $"{className} output {k} vs executor");
            if (ort is not null) Numerics.AssertClose(ort[k], actual[k], 1e-4, 1e-5, $"{className} output {k} vs ONNX Runtime");
        }
    }

    [TestMethod]
    public void NnOps_PredictAllocatesNothing()
    {
        foreach (var c in new[] { NnModels.Conv3D.With("int8"), NnModels.ConvTranspose2D, NnModels.MaxPool3D, NnModels.BatchNorm4DRelu, NnModels.LayerNorm,
                     NnModels.LstmBidirectional, NnModels.GruReverse, NnModels.ResizeLinear, NnModels.ResizeCubic, NnModels.MatMulBroadcast })
        {
            var predictor = Ops.Value.Assembly.Create(c.ClassName);
            bool batched = predictor.Plan.Inputs.All(v => v.Batched);
            var inputs = c.Inputs.Select(s => new float[s.Skip(batched ? 1 : 0).Aggregate(1, (a, d) => a * d)]).ToArray();
            Assert.AreEqual(0L, predictor.Allocated(inputs, 50), $"{c.ClassName} allocated during Predict");
        }
    }

    /// <summary>The planner reserves the scratch of LSTM/GRU, Resize and 1-D Conv in the arena (no scratch after it).</summary>
    [TestMethod]
    public void NnScratch_IsPlannedInTheArena()
    {
        foreach (var c in new[] { NnModels.Conv1D, NnModels.LstmBidirectional, NnModels.GruReverse, NnModels.ResizeLinear })
        {
            var predictor = Ops.Value.Assembly.Create(c.ClassName);
            Assert.IsTrue(predictor.Plan.Steps.Any(s => s.Attribute(KernelScratch.Attribute) is not null), $"{c.ClassName} has no planned scratch");
            Assert.AreEqual(predictor.Plan.ArenaBytes, predictor.Constant<long>("ArenaBytes"), $"{c.ClassName}: the class needs scratch beyond the planned arena");
        }
    }

    private static IEnumerable<Microsoft.CodeAnalysis.Diagnostic> Diagnostics(Model model, string className)
    {
        var (_, result, _) = GeneratorHarness.Run(Baselines.PlanTexts(model, className));
        return result.Diagnostics;
    }

    [TestMethod]
    public void LstmLayout0_InABatchedModel_IsCB7005()
    {
        var b = new ModelBuilder(14);
        string x = b.Input("x", DataType.Float, "N", 3, 2);
        var outs = b.NodeMulti("LSTM", new[] { x, b.Initializer("w", RandomTensors.Normal(1, 0.5f, 1, 12, 2)), b.Initializer("r", RandomTensors.Normal(2, 0.5f, 1, 12, 3)) }, 2,
            NodeAttribute.Int("hidden_size", 3));
        b.Output(outs[1], DataType.Float, 1, 3, 3);
        var d = Diagnostics(b.Build(), "LstmBatched").Single(e => e.Id == "CB7005");
        StringAssert.Contains(d.GetMessage(), "layout 0 in a batched model");
    }

    [TestMethod]
    public void MaxPoolIndices_InABatchedModel_IsCB7005()
    {
        var b = new ModelBuilder(12);
        string x = b.Input("x", DataType.Float, "N", 1, 4, 4);
        var outs = b.NodeMulti("MaxPool", new[] { x }, 2, NodeAttribute.Ints("kernel_shape", 2, 2));
        b.Output(outs[0], DataType.Float, "N", 1, 3, 3);
        b.Output(outs[1], DataType.Int64, "N", 1, 3, 3);
        var d = Diagnostics(b.Build(), "MaxPoolBatched").Single(e => e.Id == "CB7005");
        StringAssert.Contains(d.GetMessage(), "the Indices output of a batched model");
    }
}

/// <summary>The generated code of one representative step per NN op kind, against reviewed baselines.</summary>
[TestClass]
public sealed class NnBaselineTests
{
    private static void Check(string test, OpCase c, string quantize = "none")
    {
        var (_, result, _) = GeneratorHarness.Run(Baselines.PlanTexts(c.Build(), test, quantize));
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
        Baselines.Verify(test, result, hint => !hint.StartsWith("CompressBuild.Runtime.", StringComparison.Ordinal));
    }

    [TestMethod]
    public void NnConv1D() => Check(nameof(NnConv1D), NnModels.Conv1D);

    [TestMethod]
    public void NnConv3DInt8() => Check(nameof(NnConv3DInt8), NnModels.Conv3D, "int8");

    [TestMethod]
    public void NnConvTranspose() => Check(nameof(NnConvTranspose), NnModels.ConvTranspose2D);

    [TestMethod]
    public void NnMaxPool3D() => Check(nameof(NnMaxPool3D), NnModels.MaxPool3D);

    [TestMethod]
    public void NnGlobalMaxPool() => Check(nameof(NnGlobalMaxPool), NnModels.GlobalMaxPool3D);

    [TestMethod]
    public void NnBatchNorm() => Check(nameof(NnBatchNorm), NnModels.BatchNorm4DRelu);

    [TestMethod]
    public void NnLayerNorm() => Check(nameof(NnLayerNorm), NnModels.LayerNorm);

    [TestMethod]
    public void NnLstm() => Check(nameof(NnLstm), NnModels.LstmBidirectional);

    [TestMethod]
    public void NnGru() => Check(nameof(NnGru), NnModels.GruReverse);

    [TestMethod]
    public void NnResize() => Check(nameof(NnResize), NnModels.ResizeLinear);

    [TestMethod]
    public void NnMatMulBroadcast() => Check(nameof(NnMatMulBroadcast), NnModels.MatMulBroadcast);
}
