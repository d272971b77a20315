using CompressBuild.Core.Compression;
using CompressBuild.Core.Execution;
using CompressBuild.Generator.Tests.Harness;
using CompressBuild.Onnx;

namespace CompressBuild.Generator.Tests;

/// <summary>
/// Quantized models built in code: float x → QuantizeLinear → one integer op (constant 8-bit weights,
/// per-channel scales, biases, zero points) → DequantizeLinear → float y, the form of a QDQ model
/// after the engine's integer lowering. Each variant picks a different kernel path (column- or
/// channel-paired taps, the strided scalar path, GEMV rows in place, transposed B, int32 outputs).
/// Int8 weights multiplying uint8 activations stay within 7 bits (ONNX Runtime's reduce_range):
/// ONNX Runtime's AVX2 u8s8 kernels pair products in saturating int16 (vpmaddubsw) and are off
/// by many steps on full-range weights, where the generated kernels (int16 operands, exact int32
/// sums) and the engine agree exactly.
/// </summary>
internal static class QuantModels
{
    private static NodeAttribute I(string name, long v) => NodeAttribute.Int(name, v);

    private static NodeAttribute Is(string name, params long[] v) => NodeAttribute.Ints(name, v);

    private static int Seed(string name, int[] shape) => name.Sum(c => c) * 131 + shape.Aggregate(17, (h, d) => h * 31 + d);

    private static object[] Dims(int[] shape, bool batched) => shape.Select((d, k) => k == 0 && batched ? (object)"N" : d).ToArray();

    /// <summary>Random 8-bit constant in [low, high] of the given type.</summary>
    private static string Q(ModelBuilder b, string name, DataType type, int low, int high, params int[] shape)
    {
        var rng = new Random(Seed(name, shape));
        int n = shape.Aggregate(1, (a, d) => a * d);
        Array data = type == DataType.Int8
            ? Enumerable.Range(0, n).Select(_ => (sbyte)rng.Next(low, high + 1)).ToArray()
            : Enumerable.Range(0, n).Select(_ => (byte)rng.Next(low, high + 1)).ToArray();
        return b.Initializer(name, Tensor.FromArray(type, data, shape));
    }

    private static string Ints(ModelBuilder b, string name, int low, int high, params int[] shape)
    {
        var rng = new Random(Seed(name, shape));
        return b.Initializer(name, Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, d) => a * d)).Select(_ => rng.Next(low, high + 1)).ToArray(), shape));
    }

    private static string Scales(ModelBuilder b, string name, float low, float high, params int[] shape) =>
        b.Initializer(name, RandomTensors.Uniform(Seed(name, shape), low, high, shape));

    private static string F(ModelBuilder b, string name, float v) => b.Initializer(name, Tensor.Scalar(v));

    private static string Zero(ModelBuilder b, string name, DataType type, int v) =>
        b.Initializer(name, type == DataType.Int8 ? Tensor.Scalar((sbyte)v) : Tensor.Scalar((byte)v));

    /// <summary>x → QuantizeLinear(x_scale, x_zp) → body → DequantizeLinear(y_scale, y_zp) → y.</summary>
    private static Model Wrap(int[] x, int[] y, DataType xType, int xZero, float yScale, DataType yType, int yZero,
        Func<ModelBuilder, string, string, string, string, string, string[]> body, string op, bool batched = true, string domain = "", params NodeAttribute[] attrs)
    {
        var b = new ModelBuilder(13);
        string input = b.Input("x", DataType.Float, Dims(x, batched));
        string xs = F(b, "x_scale", 2f / 255f), xz = Zero(b, "x_zp", xType, xZero);
        string q = b.Node("QuantizeLinear", new[] { input, xs, xz });
        string ys = F(b, "y_scale", yScale), yz = Zero(b, "y_zp", yType, yZero);
        string r = b.Node(op, body(b, q, xs, xz, ys, yz), attrs);
        string dq = b.Node("DequantizeLinear", new[] { r, ys, yz });
        b.Output(dq, DataType.Float, Dims(y, batched));
        var model = b.Build();
        if (domain.Length > 0)
        {
            model.Graph.Nodes.Single(n => n.OpType == op).Domain = domain;
            model.OpsetImports[domain] = 1;
        }
        return model;
    }

    private static OpCase Case(string name, Func<Model> build, params int[][] inputs) => new(name, build, inputs);

    /// <summary>LeNet-5's first layer: 1 → 6 channels, 5x5, pads 2 (taps paired by kernel column), ReLU as y_zp = 0.</summary>
    public static readonly OpCase ConvLeNet1 = Case("QConvLeNet1", () => Wrap(new[] { 2, 1, 28, 28 }, new[] { 2, 6, 28, 28 }, DataType.UInt8, 128, 0.02f, DataType.UInt8, 0,
        (b, q, xs, xz, ys, yz) => new[] { q, xs, xz, Q(b, "w", DataType.Int8, -63, 63, 6, 1, 5, 5), Scales(b, "w_scale", 0.002f, 0.01f, 6),
            b.Initializer("w_zp", Tensor.FromArray(new sbyte[6], 6)), ys, yz, Ints(b, "bias", -3000, 3000, 6) }, "QLinearConv", attrs: Is("pads", 2, 2, 2, 2)),
        new[] { 2, 1, 28, 28 });

    /// <summary>LeNet-5's second layer: 6 → 16 channels, 5x5 (taps paired by input channel), one w_scale, y_zp 128.</summary>
    public static readonly OpCase ConvLeNet2 = Case("QConvLeNet2", () => Wrap(new[] { 2, 6, 14, 14 }, new[] { 2, 16, 10, 10 }, DataType.UInt8, 100, 0.05f, DataType.UInt8, 128,
        (b, q, xs, xz, ys, yz) => new[] { q, xs, xz, Q(b, "w", DataType.Int8, -63, 63, 16, 6, 5, 5), F(b, "w_scale", 0.003f), Zero(b, "w_zp", DataType.Int8, 0), ys, yz }, "QLinearConv"),
        new[] { 2, 6, 14, 14 });

    /// <summary>Depthwise, stride 2, dilation 2 (the scalar path), int8 x and y with non-zero zero points.</summary>
    public static readonly OpCase ConvDepthwiseStrided = Case("QConvDepthwiseStrided", () => Wrap(new[] { 2, 4, 9, 9 }, new[] { 2, 4, 4, 4 }, DataType.Int8, -3, 0.01f, DataType.Int8, 5,
        (b, q, xs, xz, ys, yz) => new[] { q, xs, xz, Q(b, "w", DataType.Int8, -127, 127, 4, 1, 3, 3), Scales(b, "w_scale", 0.005f, 0.02f, 4),
            b.Initializer("w_zp", Tensor.FromArray(new sbyte[4], 4)), ys, yz, Ints(b, "bias", -500, 500, 4) }, "QLinearConv",
        attrs: new[] { I("group", 4), Is("strides", 2, 2), Is("dilations", 2, 2), Is("pads", 1, 1, 1, 1) }),
        new[] { 2, 4, 9, 9 });

    /// <summary>Two groups of three channels (odd: column pairs), uint8 weights with a zero point, asymmetric pads.</summary>
    public static readonly OpCase ConvGroupUInt8 = Case("QConvGroupUInt8", () => Wrap(new[] { 2, 6, 8, 7 }, new[] { 2, 4, 8, 6 }, DataType.UInt8, 128, 0.03f, DataType.UInt8, 128,
        (b, q, xs, xz, ys, yz) => new[] { q, xs, xz, Q(b, "w", DataType.UInt8, 0, 255, 4, 3, 3, 2), F(b, "w_scale", 0.004f), Zero(b, "w_zp", DataType.UInt8, 120), ys, yz }, "QLinearConv",
        attrs: new[] { I("group", 2), Is("pads", 1, 0, 1, 0) }),
        new[] { 2, 6, 8, 7 });

    /// <summary>1-D convolution (height 1).</summary>
    public static readonly OpCase Conv1D = Case("QConv1D", () => Wrap(new[] { 2, 4, 20 }, new[] { 2, 5, 20 }, DataType.UInt8, 128, 0.02f, DataType.UInt8, 128,
        (b, q, xs, xz, ys, yz) => new[] { q, xs, xz, Q(b, "w", DataType.Int8, -63, 63, 5, 4, 4), Scales(b, "w_scale", 0.002f, 0.01f, 5),
            b.Initializer("w_zp", Tensor.FromArray(new sbyte[5], 5)), ys, yz }, "QLinearConv", attrs: Is("pads", 1, 2)),
        new[] { 2, 4, 20 });

    /// <summary>QLinearMatMul [*,3,20] x [20,7] (B transposed into rows), b_scale per column, all int8.</summary>
    public static readonly OpCase MatMulPerColumn = Case("QMatMulPerColumn", () => Wrap(new[] { 2, 3, 20 }, new[] { 2, 3, 7 }, DataType.Int8, -3, 0.02f, DataType.Int8, -10,
        (b, q, xs, xz, ys, yz) => new[] { q, xs, xz, Q(b, "w", DataType.Int8, -63, 63, 20, 7), Scales(b, "w_scale", 0.002f, 0.01f, 7),
            b.Initializer("w_zp", Tensor.FromArray(new sbyte[7], 7)), ys, yz }, "QLinearMatMul"),
        new[] { 2, 3, 20 });

    /// <summary>ONNX Runtime's QGemm as Linear layers are quantized: B [N,K] int8 rows read in place (K = 40: a vector tail), per-column scales, int32 C.</summary>
    public static readonly OpCase GemmLinear = Case("QGemmLinear", () => Wrap(new[] { 2, 40 }, new[] { 2, 13 }, DataType.UInt8, 128, 0.05f, DataType.UInt8, 128,
        (b, q, xs, xz, ys, yz) => new[] { q, xs, xz, Q(b, "w", DataType.Int8, -63, 63, 13, 40), Scales(b, "w_scale", 0.002f, 0.01f, 13),
            b.Initializer("w_zp", Tensor.FromArray(new sbyte[13], 13)), Ints(b, "bias", -4000, 4000, 13), ys, yz }, "QGemm", domain: "com.microsoft", attrs: I("transB", 1)),
        new[] { 2, 40 });

    /// <summary>QGemm with transA, B [K,N] uint8 with a zero point, alpha, and float output (no y_scale).</summary>
    public static readonly OpCase GemmFloatOutput = Case("QGemmFloatOutput", () =>
    {
        var b = new ModelBuilder(13);
        string x = b.Input("x", DataType.Float, 37, 3);
        string xs = F(b, "x_scale", 2f / 255f), xz = Zero(b, "x_zp", DataType.UInt8, 128);
        string q = b.Node("QuantizeLinear", new[] { x, xs, xz });
        string y = b.Node("QGemm", new[] { q, xs, xz, Q(b, "w", DataType.UInt8, 0, 255, 37, 5), F(b, "w_scale", 0.01f), Zero(b, "w_zp", DataType.UInt8, 131) },
            I("transA", 1), NodeAttribute.Float("alpha", 0.5f));
        b.Output(y, DataType.Float, 3, 5);
        var model = b.Build();
        model.Graph.Nodes.Single(n => n.OpType == "QGemm").Domain = "com.microsoft";
        model.OpsetImports["com.microsoft"] = 1;
        return model;
    }, new[] { 37, 3 });

    /// <summary>MatMulInteger with uint8 B and per-column zero points; the int32 result dequantized.</summary>
    public static readonly OpCase MatMulInteger = Case("QMatMulInteger", () =>
    {
        var b = new ModelBuilder(13);
        string x = b.Input("x", DataType.Float, "N", 2, 30);
        string xs = F(b, "x_scale", 2f / 255f), xz = Zero(b, "x_zp", DataType.UInt8, 100);
        string q = b.Node("QuantizeLinear", new[] { x, xs, xz });
        string acc = b.Node("MatMulInteger", new[] { q, Q(b, "w", DataType.UInt8, 0, 255, 30, 9), xz, Q(b, "w_zp", DataType.UInt8, 100, 150, 9) });
        string y = b.Node("DequantizeLinear", new[] { acc, F(b, "acc_scale", 0.001f) });
        b.Output(y, DataType.Float, "N", 2, 9);
        return b.Build();
    }, new[] { 2, 2, 30 });

    /// <summary>ConvInteger with a uint8 weight zero point; the int32 result dequantized.</summary>
    public static readonly OpCase ConvInteger = Case("QConvInteger", () =>
    {
        var b = new ModelBuilder(13);
        string x = b.Input("x", DataType.Float, "N", 2, 7, 7);
        string xs = F(b, "x_scale", 2f / 255f), xz = Zero(b, "x_zp", DataType.UInt8, 128);
        string q = b.Node("QuantizeLinear", new[] { x, xs, xz });
        string acc = b.Node("ConvInteger", new[] { q, Q(b, "w", DataType.UInt8, 0, 255, 3, 2, 3, 3), xz, Zero(b, "w_zp", DataType.UInt8, 127) }, Is("pads", 1, 1, 1, 1));
        string y = b.Node("DequantizeLinear", new[] { acc, F(b, "acc_scale", 0.0005f) });
        b.Output(y, DataType.Float, "N", 3, 7, 7);
        return b.Build();
    }, new[] { 2, 2, 7, 7 });

    /// <summary>QuantizeLinear and DequantizeLinear per axis (opset 13), int8.</summary>
    public static readonly OpCase PerAxis = Case("QPerAxis", () =>
    {
        var b = new ModelBuilder(13);
        string x = b.Input("x", DataType.Float, "N", 3, 4, 5);
        string s = Scales(b, "scale", 0.004f, 0.02f, 3);
        string z = b.Initializer("zp", Tensor.FromArray(new sbyte[] { -5, 0, 7 }, 3));
        string q = b.Node("QuantizeLinear", new[] { x, s, z }, I("axis", 1));
        string y = b.Node("DequantizeLinear", new[] { q, s, z }, I("axis", 1));
        b.Output(y, DataType.Float, "N", 3, 4, 5);
        return b.Build();
    }, new[] { 2, 3, 4, 5 });

    /// <summary>DynamicQuantizeLinear's runtime scale and zero point feeding DequantizeLinear.</summary>
    public static readonly OpCase Dynamic = Case("QDynamic", () =>
    {
        var b = new ModelBuilder(13);
        string x = b.Input("x", DataType.Float, 6, 5);
        var outs = b.NodeMulti("DynamicQuantizeLinear", new[] { x }, 3);
        string y = b.Node("DequantizeLinear", outs);
        b.Output(y, DataType.Float, 6, 5);
        return b.Build();
    }, new[] { 6, 5 });

    /// <summary>MaxPool 2x2 / stride 2 on quantized activations (uint8 with vector rows, int8 with short rows).</summary>
    private static Model Pool(int[] x, int[] y, DataType type, int zero)
    {
        var b = new ModelBuilder(13);
        string input = b.Input("x", DataType.Float, Dims(x, true));
        string s = F(b, "scale", 2f / 255f), z = Zero(b, "zp", type, zero);
        string q = b.Node("QuantizeLinear", new[] { input, s, z });
        string p = b.Node("MaxPool", new[] { q }, Is("kernel_shape", 2, 2), Is("strides", 2, 2));
        b.Output(b.Node("DequantizeLinear", new[] { p, s, z }), DataType.Float, Dims(y, true));
        return b.Build();
    }

    public static readonly OpCase MaxPoolUInt8 = Case("QMaxPoolUInt8", () => Pool(new[] { 2, 3, 6, 21 }, new[] { 2, 3, 3, 10 }, DataType.UInt8, 128), new[] { 2, 3, 6, 21 });

    public static readonly OpCase MaxPoolInt8 = Case("QMaxPoolInt8", () => Pool(new[] { 2, 2, 8, 10 }, new[] { 2, 2, 4, 5 }, DataType.Int8, -7), new[] { 2, 2, 8, 10 });

    public static readonly OpCase[] All =
    {
        MaxPoolUInt8, MaxPoolInt8,
        ConvLeNet1, ConvLeNet2, ConvDepthwiseStrided, ConvGroupUInt8, Conv1D, MatMulPerColumn, GemmLinear, GemmFloatOutput, MatMulInteger, ConvInteger, PerAxis, Dynamic,
    };
}

[TestClass]
public sealed class QuantOpsTests
{
    private static readonly string[] Targets = { "generic", "scalar", "arm64", "x64-avx2", "x64-avx512" };

    private static string Name(OpCase c, string target) => c.ClassName + "_" + target.Replace("-", "_", StringComparison.Ordinal);

    // Cases the engine cannot compress, with the reason (none expected; kept so a regression says why).
    private static readonly Dictionary<string, string> NotCompressed = new(StringComparer.Ordinal);

    // Every case planned once and emitted for every target (the Target picks the kernels' SIMD width).
    private static readonly Lazy<(GeneratedAssembly Assembly, Dictionary<string, (OpCase Case, CompressionOutput Output)> Cases)> Ops = new(() =>
    {
        var cases = new Dictionary<string, (OpCase, CompressionOutput)>(StringComparer.Ordinal);
        foreach (var c in QuantModels.All)
        {
            CompressionOutput output;
            var model = c.Build();
            try
            {
                // QGemm (com.microsoft) only exists in graphs the engine's QDQ fusion builds; the reader refuses it in files.
                output = model.Graph.Nodes.Any(n => n.Domain == "com.microsoft") ? EndToEnd.PlanInMemory(model, c.ClassName) : EndToEnd.Compress(model, c.ClassName);
            }
            catch (CompressBuildException e)
            {
                NotCompressed[c.ClassName] = e.Message;
                continue;
            }
            foreach (var target in Targets)
            {
                string name = Name(c, target);
                var plan = output.Plan.Plan;
                var retargeted = plan with
                {
                    ClassName = name,
                    Target = target,
                    Weights = plan.Weights with { File = name + ".weights.b64", ResourceName = plan.Weights.ResourceName.Length == 0 ? "" : "CompressBuild." + name + ".weights" },
                };
                cases[name] = (c, output with { Plan = output.Plan with { Plan = retargeted } });
            }
        }
        return (EndToEnd.Build(cases.Values.Select(v => v.Item2).ToList()), cases);
    });

    private static void RequireCompressed(string className)
    {
        _ = Ops.Value;
        if (NotCompressed.TryGetValue(className, out var reason)) Assert.Inconclusive($"the engine does not compress {className} yet: {reason}");
    }

    public static IEnumerable<object[]> CaseNames => QuantModels.All.Select(c => new object[] { c.ClassName });

    /// <summary>
    /// Every target's predictor equals the others exactly, and the engine's executor exactly (the same
    /// integer accumulation) except that requantized outputs may be one output step apart: the predictor
    /// requantizes in fixed point, the executor in float32 (ONNX Runtime's way), which differ on rare
    /// near-ties (FixedPointTests measures the rate). ONNX Runtime to within one output step (its
    /// kernels may round a tie differently).
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void QuantizedOp_EqualsExecutorOnEveryTarget_AndMatchesOnnxRuntime(string className)
    {
        RequireCompressed(className);
        var (assembly, cases) = Ops.Value;
        var (opCase, output) = cases[className + "_generic"];
        var inputs = opCase.RandomInputs(11);
        var engine = new Executor(output.CompressedModel).Run(inputs);
        var ort = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(output.CompressedModel), inputs);
        var generic = assembly.Create(Name(opCase, "generic")).Run(inputs);
        bool requantizes = output.CompressedModel.Graph.Nodes.Any(n => n.OpType is "QLinearConv" or "QLinearMatMul" || (n.OpType == "QGemm" && n.HasInput(7)));
        foreach (var target in Targets)
        {
            var actual = assembly.Create(Name(opCase, target)).Run(inputs);
            Assert.AreEqual(engine.Length, actual.Length);
            for (int k = 0; k < actual.Length; k++)
            {
                Numerics.AssertClose(generic[k], actual[k], 0, 0, $"{className} ({target}) output {k} vs target generic");
                if (requantizes && Step(output.CompressedModel) is { } oneStep)
                    Assert.IsTrue(Numerics.MaxAbsDiff(engine[k], actual[k]) <= oneStep * 1.001, $"{className} ({target}) output {k} vs executor: max difference {Numerics.MaxAbsDiff(engine[k], actual[k])}");
                else Numerics.AssertClose(engine[k], actual[k], 0, 0, $"{className} ({target}) output {k} vs executor");
                if (Step(output.CompressedModel) is { } step)
                    Assert.IsTrue(Numerics.MaxAbsDiff(ort[k], actual[k]) <= step * 1.001, $"{className} ({target}) output {k} vs ONNX Runtime: max difference {Numerics.MaxAbsDiff(ort[k], actual[k])}");
                else Numerics.AssertClose(ort[k], actual[k], 1e-5, 1e-5, $"{className} ({target}) output {k} vs ONNX Runtime");
            }
        }
    }

    [TestMethod]
    public void QuantizedOps_PredictAllocatesNothing()
    {
        foreach (var c in QuantModels.All.Where(c => Ops.Value.Cases.ContainsKey(Name(c, "generic"))))
        {
            var predictor = Ops.Value.Assembly.Create(Name(c, "generic"));
            bool batched = predictor.Plan.Inputs.All(v => v.Batched);
            var inputs = c.Inputs.Select(s => new float[s.Skip(batched ? 1 : 0).Aggregate(1, (a, d) => a * d)]).ToArray();
            Assert.AreEqual(0L, predictor.Allocated(inputs, 50), $"{c.ClassName} allocated during Predict");
        }
    }

    /// <summary>The quantized ops become integer steps, not float fallbacks.</summary>
    [TestMethod]
    public void QuantizedModels_PlanIntegerSteps()
    {
        var (_, cases) = Ops.Value;
        foreach (var c in QuantModels.All.Where(c => cases.ContainsKey(Name(c, "generic"))))
        {
            var ops = cases[Name(c, "generic")].Output.Plan.Plan.Steps.Select(s => s.Op).ToList();
            Assert.IsTrue(ops.Any(o => o is "QLinearConv" or "QLinearMatMul" or "QGemm" or "MatMulInteger" or "ConvInteger" or "DynamicQuantizeLinear" or "QuantizeLinear"),
                $"{c.ClassName}: {string.Join(", ", ops)}");
        }
    }

    /// <summary>The generated class of an integer convolution between QuantizeLinear and DequantizeLinear, against its reviewed baseline.</summary>
    [TestMethod]
    public void QLinearConv_GeneratedClass_MatchesBaseline()
    {
        var (_, result, _) = GeneratorHarness.Run(Baselines.PlanTexts(QuantModels.ConvLeNet1.Build(), "QConvLeNet1"));
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
        Baselines.Verify("QConvLeNet1", result, hint => !hint.StartsWith("CompressBuild.Runtime.", StringComparison.Ordinal));
    }

    // One step of the model's quantized output: the scale of its final DequantizeLinear (runtime scales: the largest possible, 2/255); null for a float output.
    internal static double? Step(Model model) =>
        model.Graph.Nodes.LastOrDefault(n => n.OpType == "DequantizeLinear") is { } dq
            ? model.Graph.Initializers.TryGetValue(dq.Inputs[1], out var s) ? s.Floats[0] : 2.0 / 255
            : null;
}

/// <summary>
/// The QGemm kernel called directly (the engine's ONNX reader does not take com.microsoft models
/// yet), against ONNX Runtime's QGemm semantics written out naively, at every integer SIMD width.
/// </summary>
[TestClass]
public sealed class QGemmKernelTests
{
    private readonly struct Linear : CompressBuild.Runtime.IQGemmShape
    {
        public static int M => 3;
        public static int N => 13;
        public static int K => 40;
        public static bool TransA => false;
        public static bool TransB => true;
        public static bool ASigned => false;
        public static bool BSigned => true;
        public static bool YSigned => false;
        public static float Alpha => 1f;
        public static bool HasC => true;
        public static int CRowStride => 0;
        public static int CColStride => 1;
        public static int Batch => 1;
        public static int AStride => 0;
        public static int BStride => 0;
    }

    private readonly struct TransposedA : CompressBuild.Runtime.IQGemmShape
    {
        public static int M => 3;
        public static int N => 5;
        public static int K => 37;
        public static bool TransA => true;
        public static bool TransB => false;
        public static bool ASigned => false;
        public static bool BSigned => false;
        public static bool YSigned => false;
        public static float Alpha => 0.5f;
        public static bool HasC => false;
        public static int CRowStride => 0;
        public static int CColStride => 0;
        public static int Batch => 1;
        public static int AStride => 0;
        public static int BStride => 0;
    }

    private static byte[] Bytes(int seed, int n, int low, int high)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (byte)rng.Next(low, high + 1)).ToArray();
    }

    private static int Acc<TShape>(byte[] a, int za, byte[] b, byte[] zb, int i, int j) where TShape : struct, CompressBuild.Runtime.IQGemmShape
    {
        int sum = 0;
        for (int k = 0; k < TShape.K; k++)
        {
            int av = TShape.ASigned ? (sbyte)a[TShape.TransA ? k * TShape.M + i : i * TShape.K + k] : a[TShape.TransA ? k * TShape.M + i : i * TShape.K + k];
            byte braw = b[TShape.TransB ? j * TShape.K + k : k * TShape.N + j];
            int bv = TShape.BSigned ? (sbyte)braw : braw;
            int z = zb.Length == 1 ? (TShape.BSigned ? (sbyte)zb[0] : zb[0]) : (TShape.BSigned ? (sbyte)zb[j] : zb[j]);
            sum += (av - za) * (bv - z);
        }
        return sum;
    }

    [TestMethod]
    public void QuantizedOutput_PerColumnScales_Bias_MatchesOrtSemantics_AtEveryWidth()
    {
        var a = Bytes(1, 3 * 40, 0, 255);
        var b = Bytes(2, 13 * 40, 0, 255); // full-range int8 rows
        var bScale = Enumerable.Range(0, 13).Select(j => 0.002f + 0.0007f * j).ToArray();
        var c = Enumerable.Range(0, 13).Select(j => j * 997 % 8000 - 4000).ToArray();
        float aScale = 2f / 255, yScale = 0.05f;
        var expected = new byte[3 * 13];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 13; j++)
            {
                // ONNX Runtime's float32 multiplier; the product in double is exact (|acc| < 2^22, 24-bit significand), rounded half to even.
                float multiplier = 1f * aScale * bScale[j] / yScale;
                double v = Math.Round((double)(Acc<Linear>(a, 128, b, new byte[13], i, j) + c[j]) * multiplier, MidpointRounding.ToEven) + 128;
                expected[i * 13 + j] = (byte)Math.Clamp(v, 0, 255);
            }
        var scratch = new float[CompressBuild.Runtime.QGemm.ScratchInts<Linear>()];
        foreach (var run in new Action<byte[]>[]
                 {
                     y => CompressBuild.Runtime.QGemm.Linear<Linear, CompressBuild.Runtime.SimdScalar, float>(a, new[] { aScale }, new byte[] { 128 }, b, bScale, new byte[13], c, new[] { yScale }, new byte[] { 128 }, y, scratch),
                     y => CompressBuild.Runtime.QGemm.Linear<Linear, CompressBuild.Runtime.Simd128, System.Runtime.Intrinsics.Vector128<float>>(a, new[] { aScale }, new byte[] { 128 }, b, bScale, new byte[13], c, new[] { yScale }, new byte[] { 128 }, y, scratch),
                     y => CompressBuild.Runtime.QGemm.Linear<Linear, CompressBuild.Runtime.Simd256, System.Runtime.Intrinsics.Vector256<float>>(a, new[] { aScale }, new byte[] { 128 }, b, bScale, new byte[13], c, new[] { yScale }, new byte[] { 128 }, y, scratch),
                 })
        {
            var y = new byte[3 * 13];
            run(y);
            CollectionAssert.AreEqual(expected, y);
        }
    }

    [TestMethod]
    public void FloatOutput_TransposedA_BWithZeroPoint_Alpha_MatchesOrtSemantics_AtEveryWidth()
    {
        var a = Bytes(3, 37 * 3, 0, 255);
        var b = Bytes(4, 37 * 5, 0, 255);
        float aScale = 0.01f, bScale = 0.02f;
        var expected = new float[3 * 5];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++) expected[i * 5 + j] = Acc<TransposedA>(a, 120, b, new byte[] { 131 }, i, j) * (0.5f * aScale * bScale);
        var scratch = new float[CompressBuild.Runtime.QGemm.ScratchInts<TransposedA>()];
        foreach (var run in new Action<float[]>[]
                 {
                     y => CompressBuild.Runtime.QGemm.Float<TransposedA, CompressBuild.Runtime.SimdScalar, float>(a, new[] { aScale }, new byte[] { 120 }, b, new[] { bScale }, new byte[] { 131 }, default, y, scratch),
                     y => CompressBuild.Runtime.QGemm.Float<TransposedA, CompressBuild.Runtime.Simd128, System.Runtime.Intrinsics.Vector128<float>>(a, new[] { aScale }, new byte[] { 120 }, b, new[] { bScale }, new byte[] { 131 }, default, y, scratch),
                     y => CompressBuild.Runtime.QGemm.Float<TransposedA, CompressBuild.Runtime.Simd256, System.Runtime.Intrinsics.Vector256<float>>(a, new[] { aScale }, new byte[] { 120 }, b, new[] { bScale }, new byte[] { 131 }, default, y, scratch),
                 })
        {
            var y = new float[3 * 5];
            run(y);
            CollectionAssert.AreEqual(expected, y);
        }
    }
}

/// <summary>LeNet-5 statically quantized by the engine (int8 weights, uint8 activations) through the integer kernels.</summary>
[TestClass]
public sealed class QuantizedLeNetTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void LeNet5StaticInt8_Predictor_EqualsExecutor_OnTestImages()
    {
        string root = TestData.RequireFashionMnist();
        var settings = new CompressionSettings
        {
            ClassName = "LeNet5Static", Namespace = EndToEnd.Namespace, Quantize = "int8", Activations = "int8",
            CalibrationData = Path.Combine(root, "train-images-idx3-ubyte.gz"),
        };
        var output = Compressor.Run(TestData.Model("lenet5.onnx"), settings);
        var ops = output.Plan.Plan.Steps.Select(s => s.Op).ToList();
        TestContext.WriteLine("steps: " + string.Join(", ", ops));
        var predictor = EndToEnd.Build(new[] { output }).Create("LeNet5Static");
        var (images, labels) = TestData.FashionMnistTest();
        var batch = Tensor.FromArray(images.Floats.AsSpan(0, 1000 * 784).ToArray(), 1000, 1, 28, 28);
        var actual = predictor.Run(new[] { batch })[0];
        var engine = new Executor(output.CompressedModel).Run(batch)[0];
        // The engine runs the QDQ model (float arithmetic between DequantizeLinear and QuantizeLinear);
        // the predictor the integer lowering of it, requantized in fixed point: a rare near-tie may
        // land one step apart (and move the next layer's inputs by one step).
        double step = QuantOpsTests.Step(output.CompressedModel) ?? 0;
        int differing = Enumerable.Range(0, actual.Length).Count(i => actual.Floats[i] != engine.Floats[i]);
        TestContext.WriteLine($"{differing} of {actual.Length} outputs differ from the executor's, max difference {Numerics.MaxAbsDiff(engine, actual) / step:F2} steps");
        Assert.IsTrue(Numerics.MaxAbsDiff(engine, actual) <= step * 1.001, $"max difference {Numerics.MaxAbsDiff(engine, actual)} exceeds one output step {step}");
        var a = Numerics.ArgMaxRows(actual);
        var e = Numerics.ArgMaxRows(engine);
        double agreement = a.Zip(e).Count(p => p.First == p.Second) / (double)a.Length;
        Assert.IsTrue(agreement >= 0.99, $"argmax agreement {agreement}");
        TestContext.WriteLine($"argmax agreement with the executor {agreement:F4}; top-1 on 1000 test images: predictor {Numerics.Top1(actual, labels.Take(1000).ToArray()):F4}, executor {Numerics.Top1(engine, labels.Take(1000).ToArray()):F4}");
    }
}
