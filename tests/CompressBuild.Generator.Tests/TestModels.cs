using CompressBuild.Onnx;

namespace CompressBuild.Generator.Tests;

/// <summary>A small model exercising one op / attribute variant, with its inputs' shapes (batch 2 where batched).</summary>
internal sealed record OpCase(string Name, Func<Model> Build, int[][] Inputs, string Quantize = "none")
{
    public override string ToString() => Quantize == "none" ? Name : $"{Name}_{Quantize}";

    /// <summary>Class name of the generated predictor.</summary>
    public string ClassName => Quantize == "none" ? Name : $"{Name}{char.ToUpperInvariant(Quantize[0])}{Quantize[1..]}";

    public Tensor[] RandomInputs(int seed) => Inputs.Select((s, k) => RandomTensors.Uniform(seed + k, -1f, 1f, s)).ToArray();

    public OpCase With(string quantize) => this with { Quantize = quantize };
}

/// <summary>The op catalogue of this round (one model per op family and attribute variant).</summary>
internal static class TestModels
{
    // Seeds depend only on the initializer's name and shape, so every build of a case is identical.
    private static string W(ModelBuilder b, string name, params int[] shape) =>
        b.Initializer(name, RandomTensors.Normal(name.Sum(c => c) * 131 + shape.Aggregate(17, (h, d) => h * 31 + d), 0.5f, shape));

    private static NodeAttribute I(string name, long v) => NodeAttribute.Int(name, v);

    private static NodeAttribute Is(string name, params long[] v) => NodeAttribute.Ints(name, v);

    private static Model One(string op, int[] xShape, int[] yShape, Func<ModelBuilder, string, string[]> inputs, int opset = 13, params NodeAttribute[] attrs)
    {
        var b = new ModelBuilder(opset);
        string x = b.Input("x", DataType.Float, Batch(xShape));
        string y = b.Node(op, inputs(b, x), attrs);
        b.Output(y, DataType.Float, Batch(yShape));
        return b.Build();
    }

    private static object[] Batch(int[] shape) => shape.Select((d, k) => k == 0 ? (object)"N" : d).ToArray();

    private static Model Relu(string op, int[] xShape, int[] yShape, Func<ModelBuilder, string, string[]> inputs, params NodeAttribute[] attrs)
    {
        var b = new ModelBuilder();
        string x = b.Input("x", DataType.Float, Batch(xShape));
        string h = b.Node(op, inputs(b, x), attrs);
        string y = b.Node("Relu", new[] { h });
        b.Output(y, DataType.Float, Batch(yShape));
        return b.Build();
    }

    public static readonly OpCase GemmRelu = new("GemmRelu", () => Relu("Gemm", new[] { 2, 16 }, new[] { 2, 8 },
        (b, x) => new[] { x, W(b, "w", 8, 16), W(b, "b", 8) }, I("transB", 1)), new[] { new[] { 2, 16 } });

    public static readonly OpCase GemmTransA = new("GemmTransA", () =>
    {
        var b = new ModelBuilder();
        string a = b.Input("a", DataType.Float, 16, 3);
        string y = b.Node("Gemm", new[] { a, W(b, "w", 16, 8), W(b, "c", 1, 8) }, I("transA", 1), NodeAttribute.Float("alpha", 0.5f), NodeAttribute.Float("beta", 2f));
        b.Output(y, DataType.Float, 3, 8);
        return b.Build();
    }, new[] { new[] { 16, 3 } });

    public static readonly OpCase GemmRowBias = new("GemmRowBias", () =>
    {
        var b = new ModelBuilder();
        string a = b.Input("a", DataType.Float, 5, 10);
        string y = b.Node("Gemm", new[] { a, W(b, "w", 7, 10), W(b, "c", 5, 1) }, I("transB", 1));
        b.Output(y, DataType.Float, 5, 7);
        return b.Build();
    }, new[] { new[] { 5, 10 } });

    public static readonly OpCase MatMul2D = new("MatMul2D", () => One("MatMul", new[] { 2, 12 }, new[] { 2, 9 },
        (b, x) => new[] { x, W(b, "w", 12, 9) }), new[] { new[] { 2, 12 } });

    public static readonly OpCase MatMulBatched = new("MatMulBatched", () => One("MatMul", new[] { 2, 3, 12 }, new[] { 2, 3, 5 },
        (b, x) => new[] { x, W(b, "w", 12, 5) }), new[] { new[] { 2, 3, 12 } });

    public static readonly OpCase MatMulVector = new("MatMulVector", () =>
    {
        var b = new ModelBuilder();
        string x = b.Input("x", DataType.Float, 16);
        string y = b.Node("MatMul", new[] { x, W(b, "w", 16, 4) });
        b.Output(y, DataType.Float, 4);
        return b.Build();
    }, new[] { new[] { 16 } });

    public static readonly OpCase MatMulTwoInputs = new("MatMulTwoInputs", () =>
    {
        var b = new ModelBuilder();
        string a = b.Input("a", DataType.Float, "N", 4, 6);
        string c = b.Input("b", DataType.Float, "N", 6, 5);
        string y = b.Node("MatMul", new[] { a, c });
        b.Output(y, DataType.Float, "N", 4, 5);
        return b.Build();
    }, new[] { new[] { 2, 4, 6 }, new[] { 2, 6, 5 } });

    public static readonly OpCase ConvPad = new("ConvPad", () => Relu("Conv", new[] { 2, 3, 10, 12 }, new[] { 2, 5, 10, 12 },
        (b, x) => new[] { x, W(b, "w", 5, 3, 3, 3), W(b, "b", 5) }, Is("pads", 1, 1, 1, 1)), new[] { new[] { 2, 3, 10, 12 } });

    public static readonly OpCase ConvStride = new("ConvStride", () => One("Conv", new[] { 2, 2, 11, 9 }, new[] { 2, 4, 6, 4 },
        (b, x) => new[] { x, W(b, "w", 4, 2, 3, 3) }, 13, Is("strides", 2, 2), Is("pads", 1, 0, 1, 0)), new[] { new[] { 2, 2, 11, 9 } });

    public static readonly OpCase ConvDilated = new("ConvDilated", () => One("Conv", new[] { 2, 2, 12, 12 }, new[] { 2, 3, 12, 12 },
        (b, x) => new[] { x, W(b, "w", 3, 2, 3, 3), W(b, "b", 3) }, 13, Is("dilations", 2, 2), Is("pads", 2, 2, 2, 2)), new[] { new[] { 2, 2, 12, 12 } });

    public static readonly OpCase ConvGroup = new("ConvGroup", () => One("Conv", new[] { 2, 4, 8, 8 }, new[] { 2, 6, 6, 6 },
        (b, x) => new[] { x, W(b, "w", 6, 2, 3, 3), W(b, "b", 6) }, 13, I("group", 2)), new[] { new[] { 2, 4, 8, 8 } });

    public static readonly OpCase ConvDepthwise = new("ConvDepthwise", () => Relu("Conv", new[] { 2, 4, 9, 9 }, new[] { 2, 4, 5, 5 },
        (b, x) => new[] { x, W(b, "w", 4, 1, 3, 3), W(b, "b", 4) }, I("group", 4), Is("pads", 1, 1, 1, 1), Is("strides", 2, 2)), new[] { new[] { 2, 4, 9, 9 } });

    public static readonly OpCase ConvSameUpper = new("ConvSameUpper", () => One("Conv", new[] { 2, 2, 7, 7 }, new[] { 2, 3, 7, 7 },
        (b, x) => new[] { x, W(b, "w", 3, 2, 4, 4) }, 13, NodeAttribute.String("auto_pad", "SAME_UPPER")), new[] { new[] { 2, 2, 7, 7 } });

    public static readonly OpCase ConvPointwise = new("ConvPointwise", () => One("Conv", new[] { 2, 8, 5, 5 }, new[] { 2, 16, 5, 5 },
        (b, x) => new[] { x, W(b, "w", 16, 8, 1, 1), W(b, "b", 16) }), new[] { new[] { 2, 8, 5, 5 } });

    public static readonly OpCase ConvFixedBatch = new("ConvFixedBatch", () =>
    {
        var b = new ModelBuilder();
        string x = b.Input("x", DataType.Float, 2, 2, 6, 6);
        string y = b.Node("Conv", new[] { x, W(b, "w", 3, 2, 3, 3), W(b, "b", 3) }, Is("pads", 1, 1, 1, 1));
        b.Output(y, DataType.Float, 2, 3, 6, 6);
        return b.Build();
    }, new[] { new[] { 2, 2, 6, 6 } });

    public static readonly OpCase MaxPool2 = new("MaxPool2", () => One("MaxPool", new[] { 2, 3, 8, 20 }, new[] { 2, 3, 4, 10 },
        (b, x) => new[] { x }, 13, Is("kernel_shape", 2, 2), Is("strides", 2, 2)), new[] { new[] { 2, 3, 8, 20 } });

    public static readonly OpCase MaxPoolPadCeil = new("MaxPoolPadCeil", () => One("MaxPool", new[] { 2, 2, 9, 9 }, new[] { 2, 2, 5, 5 },
        (b, x) => new[] { x }, 13, Is("kernel_shape", 3, 3), Is("strides", 2, 2), Is("pads", 1, 1, 1, 1), I("ceil_mode", 1)), new[] { new[] { 2, 2, 9, 9 } });

    public static readonly OpCase MaxPoolDilated = new("MaxPoolDilated", () => One("MaxPool", new[] { 2, 2, 10, 13 }, new[] { 2, 2, 8, 11 },
        (b, x) => new[] { x }, 13, Is("kernel_shape", 2, 2), Is("dilations", 2, 2)), new[] { new[] { 2, 2, 10, 13 } });

    public static readonly OpCase AvgPoolExclude = new("AvgPoolExclude", () => One("AveragePool", new[] { 2, 2, 8, 8 }, new[] { 2, 2, 4, 4 },
        (b, x) => new[] { x }, 13, Is("kernel_shape", 3, 3), Is("strides", 2, 2), Is("pads", 1, 1, 1, 1)), new[] { new[] { 2, 2, 8, 8 } });

    public static readonly OpCase AvgPoolInclude = new("AvgPoolInclude", () => One("AveragePool", new[] { 2, 2, 9, 9 }, new[] { 2, 2, 5, 5 },
        (b, x) => new[] { x }, 13, Is("kernel_shape", 3, 3), Is("strides", 2, 2), Is("pads", 1, 1, 1, 1), I("count_include_pad", 1), I("ceil_mode", 1)), new[] { new[] { 2, 2, 9, 9 } });

    public static readonly OpCase AvgPool2 = new("AvgPool2", () => One("AveragePool", new[] { 2, 3, 6, 20 }, new[] { 2, 3, 3, 10 },
        (b, x) => new[] { x }, 13, Is("kernel_shape", 2, 2), Is("strides", 2, 2)), new[] { new[] { 2, 3, 6, 20 } });

    public static readonly OpCase GlobalAvgPool = new("GlobalAvgPool", () => One("GlobalAveragePool", new[] { 2, 5, 6, 7 }, new[] { 2, 5, 1, 1 },
        (b, x) => new[] { x }), new[] { new[] { 2, 5, 6, 7 } });

    public static readonly OpCase AddChannelBias = new("AddChannelBias", () => Relu("Add", new[] { 2, 3, 4, 5 }, new[] { 2, 3, 4, 5 },
        (b, x) => new[] { x, W(b, "c", 3, 1, 1) }), new[] { new[] { 2, 3, 4, 5 } });

    public static readonly OpCase MulScalar = new("MulScalar", () => One("Mul", new[] { 2, 6 }, new[] { 2, 6 },
        (b, x) => new[] { x, b.Initializer("s", new[] { 1.5f }, 1) }), new[] { new[] { 2, 6 } });

    public static readonly OpCase SubTwoInputs = new("SubTwoInputs", () =>
    {
        var b = new ModelBuilder();
        string a = b.Input("a", DataType.Float, "N", 3, 4);
        string c = b.Input("b", DataType.Float, "N", 1, 4);
        string y = b.Node("Sub", new[] { a, c });
        b.Output(y, DataType.Float, "N", 3, 4);
        return b.Build();
    }, new[] { new[] { 2, 3, 4 }, new[] { 2, 1, 4 } });

    public static readonly OpCase DivRow = new("DivRow", () => One("Div", new[] { 2, 2, 3 }, new[] { 2, 2, 3 },
        (b, x) => new[] { x, b.Initializer("d", new[] { 2f, -4f, 0.5f }, 3) }), new[] { new[] { 2, 2, 3 } });

    public static readonly OpCase Softmax13 = new("Softmax13", () => One("Softmax", new[] { 2, 2, 5 }, new[] { 2, 2, 5 },
        (b, x) => new[] { x }), new[] { new[] { 2, 2, 5 } });

    public static readonly OpCase SoftmaxMiddle = new("SoftmaxMiddle", () => One("Softmax", new[] { 2, 3, 4 }, new[] { 2, 3, 4 },
        (b, x) => new[] { x }, 13, I("axis", 1)), new[] { new[] { 2, 3, 4 } });

    public static readonly OpCase Softmax11 = new("Softmax11", () => One("Softmax", new[] { 2, 2, 5 }, new[] { 2, 2, 5 },
        (b, x) => new[] { x }, 11), new[] { new[] { 2, 2, 5 } });

    public static readonly OpCase ReluInput = new("ReluInput", () => One("Relu", new[] { 2, 20 }, new[] { 2, 20 },
        (b, x) => new[] { x }), new[] { new[] { 2, 20 } });

    /// <summary>Every case, fp32, plus the weight-precision variants of the weight ops.</summary>
    public static IReadOnlyList<OpCase> All { get; } = new[]
    {
        GemmRelu, GemmTransA, GemmRowBias, MatMul2D, MatMulBatched, MatMulVector, MatMulTwoInputs,
        ConvPad, ConvStride, ConvDilated, ConvGroup, ConvDepthwise, ConvSameUpper, ConvPointwise, ConvFixedBatch,
        MaxPool2, MaxPoolPadCeil, MaxPoolDilated, AvgPoolExclude, AvgPoolInclude, AvgPool2, GlobalAvgPool,
        AddChannelBias, MulScalar, SubTwoInputs, DivRow, Softmax13, SoftmaxMiddle, Softmax11, ReluInput,
        GemmRelu.With("fp16"), GemmRelu.With("int8"), GemmTransA.With("int8"), MatMul2D.With("int8"), MatMulBatched.With("fp16"),
        ConvPad.With("fp16"), ConvPad.With("int8"), ConvDepthwise.With("int8"), ConvGroup.With("int8"), ConvStride.With("fp16"),
    };
}
