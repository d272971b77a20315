using System.Reflection;
using System.Runtime.Intrinsics;
using System.Text;
using CompressBuild.Core.Compression;
using CompressBuild.Core.Execution;
using CompressBuild.Generator.Tests.Harness;
using CompressBuild.Plan;
using CompressBuild.Runtime;
using Microsoft.CodeAnalysis;

namespace CompressBuild.Generator.Tests;

/// <summary>A data-movement / reduction model with typed inputs; <paramref name="Ort"/> false where ONNX Runtime lacks the kernel for the type.</summary>
internal sealed record LayoutCase(string Name, Func<Model> Build, Func<Tensor[]> Inputs, bool Ort = true)
{
    public override string ToString() => Name;
}

/// <summary>The data-movement, reduction and softmax-family models (every element type the kernels take).</summary>
internal static class LayoutModels
{
    private static NodeAttribute I(string name, long v) => NodeAttribute.Int(name, v);

    private static NodeAttribute Is(string name, params long[] v) => NodeAttribute.Ints(name, v);

    /// <summary>Deterministic data of any element type: floats in [-2, 2), small signed/unsigned integers, bools.</summary>
    public static Tensor Data(DataType type, int seed, params int[] shape)
    {
        var rng = new Random(seed);
        int n = shape.Aggregate(1, (a, d) => a * d);
        Array data = type switch
        {
            DataType.Float => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray(),
            DataType.Double => Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).ToArray(),
            DataType.Float16 => Enumerable.Range(0, n).Select(_ => (Half)(rng.NextDouble() * 4 - 2)).ToArray(),
            DataType.Int8 => Enumerable.Range(0, n).Select(_ => (sbyte)rng.Next(-100, 100)).ToArray(),
            DataType.UInt8 => Enumerable.Range(0, n).Select(_ => (byte)rng.Next(0, 256)).ToArray(),
            DataType.Int16 => Enumerable.Range(0, n).Select(_ => (short)rng.Next(-30000, 30000)).ToArray(),
            DataType.UInt16 => Enumerable.Range(0, n).Select(_ => (ushort)rng.Next(0, 65536)).ToArray(),
            DataType.Int32 => Enumerable.Range(0, n).Select(_ => rng.Next(-1000, 1000)).ToArray(),
            DataType.UInt32 => Enumerable.Range(0, n).Select(_ => (uint)rng.Next(0, 100000)).ToArray(),
            DataType.Int64 => Enumerable.Range(0, n).Select(_ => (long)rng.Next(-100000, 100000) * 1000).ToArray(),
            DataType.UInt64 => Enumerable.Range(0, n).Select(_ => (ulong)rng.Next(0, 100000) * 1000).ToArray(),
            DataType.Bool => Enumerable.Range(0, n).Select(_ => rng.Next(2) == 1).ToArray(),
            _ => throw new ArgumentException(type.ToString()),
        };
        return Tensor.FromArray(type, data, shape);
    }

    private static Model One(string op, DataType type, int[] x, DataType outType, int[] y, Func<ModelBuilder, string, string[]> inputs, int opset = 13, params NodeAttribute[] attrs)
    {
        var b = new ModelBuilder(opset);
        string input = b.Input("x", type, x.Cast<object>().ToArray());
        b.Output(b.Node(op, inputs(b, input), attrs), outType, y.Cast<object>().ToArray());
        return b.Build();
    }

    private static LayoutCase Case(string name, string op, DataType type, int[] x, int[] y, Func<ModelBuilder, string, string[]> inputs, int opset = 13, bool ort = true, params NodeAttribute[] attrs) =>
        new(name, () => One(op, type, x, type, y, inputs, opset, attrs), () => new[] { Data(type, name.Length * 7919, x) }, ort);

    private static string[] X(ModelBuilder b, string x) => new[] { x };

    private static Func<ModelBuilder, string, string[]> With(params (string Name, Tensor Value)[] constants) =>
        (b, x) => new[] { x }.Concat(constants.Select(c => c.Value is null ? "" : b.Initializer(c.Name, c.Value))).ToArray();

    private static Tensor L(params long[] v) => Tensor.Int64Vector(v);

    public static readonly LayoutCase[] All =
    {
        // Transpose: tiled NCHW→NHWC (float), other types and permutations.
        Case("TransposeNhwc", "Transpose", DataType.Float, new[] { 1, 16, 9, 12 }, new[] { 1, 9, 12, 16 }, X, attrs: Is("perm", 0, 2, 3, 1)),
        Case("TransposeOddFloat", "Transpose", DataType.Float, new[] { 1, 10, 5, 7 }, new[] { 1, 5, 7, 10 }, X, attrs: Is("perm", 0, 2, 3, 1)),
        Case("TransposeInt32", "Transpose", DataType.Int32, new[] { 7, 13 }, new[] { 13, 7 }, X),
        Case("TransposeInt64", "Transpose", DataType.Int64, new[] { 3, 4, 5 }, new[] { 5, 3, 4 }, X, attrs: Is("perm", 2, 0, 1)),
        Case("TransposeBool", "Transpose", DataType.Bool, new[] { 2, 3, 4 }, new[] { 4, 3, 2 }, X),
        Case("TransposeHalf", "Transpose", DataType.Float16, new[] { 6, 10 }, new[] { 10, 6 }, X, attrs: Is("perm", 1, 0)),
        Case("TransposeUInt16", "Transpose", DataType.UInt16, new[] { 2, 3, 4, 5, 2 }, new[] { 2, 5, 3, 2, 4 }, X, ort: false, attrs: Is("perm", 0, 3, 1, 4, 2)),

        // Slice: negative steps and clamping (opset 13 inputs), attributes (opset 9).
        Case("SliceStepsInt32", "Slice", DataType.Int32, new[] { 10, 8 }, new[] { 5, 3 },
            With(("starts", L(-1, 1)), ("ends", L(-100, 1000)), ("axes", L(0, 1)), ("steps", L(-2, 3)))),
        Case("SliceOpset9", "Slice", DataType.Float, new[] { 4, 6, 5 }, new[] { 2, 6, 4 }, X, 9, attrs: new[] { Is("starts", 1, 0), Is("ends", 3, -1), Is("axes", 0, 2) }),
        Case("SliceReverseDouble", "Slice", DataType.Double, new[] { 3, 7 }, new[] { 3, 7 }, With(("starts", L(-1)), ("ends", L(long.MinValue)), ("axes", L(-1)), ("steps", L(-1)))),

        // Concat with a constant part; Split by attribute, by input, equally.
        new("ConcatUInt8", () =>
        {
            var b = new ModelBuilder(13);
            string a = b.Input("a", DataType.UInt8, 2, 3, 4);
            string c = b.Input("c", DataType.UInt8, 2, 2, 4);
            string k = b.Initializer("k", Data(DataType.UInt8, 5, 2, 1, 4));
            b.Output(b.Node("Concat", new[] { a, k, c }, I("axis", -2)), DataType.UInt8, 2, 6, 4);
            return b.Build();
        }, () => new[] { Data(DataType.UInt8, 1, 2, 3, 4), Data(DataType.UInt8, 2, 2, 2, 4) }),
        new("SplitInt16", () =>
        {
            var b = new ModelBuilder(11);
            string x = b.Input("x", DataType.Int16, 6, 5);
            var outs = b.NodeMulti("Split", new[] { x }, 2, I("axis", 1), Is("split", 2, 3));
            b.Output(outs[0], DataType.Int16, 6, 2).Output(outs[1], DataType.Int16, 6, 3);
            return b.Build();
        }, () => new[] { Data(DataType.Int16, 3, 6, 5) }),
        new("SplitInput", () =>
        {
            var b = new ModelBuilder(13);
            string x = b.Input("x", DataType.Float, 2, 9, 3);
            var outs = b.NodeMulti("Split", new[] { x, b.Initializer("split", L(4, 0, 5)) }, 3, I("axis", 1));
            b.Output(outs[0], DataType.Float, 2, 4, 3).Output(outs[1], DataType.Float, 2, 0, 3).Output(outs[2], DataType.Float, 2, 5, 3);
            return b.Build();
        }, () => new[] { Data(DataType.Float, 4, 2, 9, 3) }),

        // Gather: runtime int32 indices (negative), a constant table with runtime int64 indices, constant indices.
        new("GatherRuntime", () =>
        {
            var b = new ModelBuilder(13);
            string x = b.Input("x", DataType.Float, 5, 4, 3);
            string i = b.Input("i", DataType.Int32, 2, 2);
            b.Output(b.Node("Gather", new[] { x, i }, I("axis", 1)), DataType.Float, 5, 2, 2, 3);
            return b.Build();
        }, () => new[] { Data(DataType.Float, 6, 5, 4, 3), Tensor.FromArray(new[] { 0, -1, 3, -4 }, 2, 2) }),
        new("GatherEmbedding", () =>
        {
            var b = new ModelBuilder(13);
            string i = b.Input("i", DataType.Int64, 3);
            b.Output(b.Node("Gather", new[] { b.Initializer("table", Data(DataType.Float, 7, 10, 6)), i }), DataType.Float, 3, 6);
            return b.Build();
        }, () => new[] { Tensor.Int64Vector(9, 0, 4) }),
        Case("GatherConstIndices", "Gather", DataType.Int64, new[] { 4, 5 }, new[] { 4, 3 }, With(("idx", L(3, -1, 0))), attrs: I("axis", 1)),

        // Expand, Tile.
        Case("ExpandDouble", "Expand", DataType.Double, new[] { 3, 1 }, new[] { 2, 3, 4 }, With(("shape", L(2, 1, 4)))),
        Case("TileInt8", "Tile", DataType.Int8, new[] { 2, 3 }, new[] { 6, 6 }, With(("repeats", L(3, 2))), ort: false),
        Case("TileFloat4D", "Tile", DataType.Float, new[] { 1, 2, 3, 4 }, new[] { 2, 2, 6, 8 }, With(("repeats", L(2, 1, 2, 2)))),

        // Pad: reflect, edge with cropping, constant from an input, opset 2 value attribute.
        Case("PadReflect", "Pad", DataType.Float, new[] { 1, 3, 5, 6 }, new[] { 1, 3, 8, 10 }, With(("pads", L(0, 0, 2, 1, 0, 0, 1, 3))), attrs: NodeAttribute.String("mode", "reflect")),
        Case("PadEdgeInt32", "Pad", DataType.Int32, new[] { 4, 5 }, new[] { 7, 6 }, With(("pads", L(1, -1, 2, 2))), attrs: NodeAttribute.String("mode", "edge")),
        Case("PadConstantInput", "Pad", DataType.Float, new[] { 3, 4 }, new[] { 4, 7 }, With(("pads", L(1, 2, 0, 1)), ("value", Tensor.Scalar(1.5f)))),
        Case("PadConstantCrop", "Pad", DataType.Int64, new[] { 3, 4 }, new[] { 3, 3 }, With(("pads", L(-1, 2, 1, -3)))),
        Case("PadOpset2", "Pad", DataType.Float, new[] { 2, 3 }, new[] { 3, 6 }, X, 2, attrs: new[] { Is("pads", 1, 1, 0, 2), NodeAttribute.Float("value", -0.5f) }),

        // Views the planner keeps as steps (of a constant), Shape, ConstantOfShape, Constant.
        new("ReshapeConstant", () =>
        {
            var b = new ModelBuilder(13);
            string x = b.Input("x", DataType.Float, 2, 3);
            b.Output(b.Node("Relu", new[] { x }), DataType.Float, 2, 3);
            b.Output(b.Node("Reshape", new[] { b.Initializer("k", Data(DataType.Float, 9, 2, 6)), b.Initializer("s", L(3, -1)) }), DataType.Float, 3, 4);
            return b.Build();
        }, () => new[] { Data(DataType.Float, 8, 2, 3) }),
        new("ShapeSlice", () => One("Shape", DataType.Float, new[] { 2, 3, 4, 5 }, DataType.Int64, new[] { 2 }, X, 15, I("start", 1), I("end", -1)), () => new[] { Data(DataType.Float, 15, 2, 3, 4, 5) }),
        new("ConstantOfShapeInt32", () =>
        {
            var b = new ModelBuilder(13);
            string x = b.Input("x", DataType.Float, 2, 3);
            b.Output(b.Node("Relu", new[] { x }), DataType.Float, 2, 3);
            b.Output(b.Node("ConstantOfShape", new[] { b.Initializer("s", L(2, 3)) }, NodeAttribute.TensorValue("value", Tensor.FromArray(new[] { 7 }, 1))), DataType.Int32, 2, 3);
            return b.Build();
        }, () => new[] { Data(DataType.Float, 10, 2, 3) }),
        new("ConstantFloats", () =>
        {
            var b = new ModelBuilder(13);
            string x = b.Input("x", DataType.Float, 2, 3);
            b.Output(b.Node("Relu", new[] { x }), DataType.Float, 2, 3);
            b.Output(b.Node("Constant", Array.Empty<string>(), NodeAttribute.Floats("value_floats", 1f, -2.5f, 3f)), DataType.Float, 3);
            return b.Build();
        }, () => new[] { Data(DataType.Float, 11, 2, 3) }),

        // Reductions: integer types, axes as inputs and attributes, kept and reduced inner groups, NaN, noop.
        Case("ReduceSumInt64", "ReduceSum", DataType.Int64, new[] { 3, 4, 5 }, new[] { 4 }, With(("axes", L(0, 2))), attrs: I("keepdims", 0)),
        Case("ReduceMeanGroups", "ReduceMean", DataType.Float, new[] { 2, 5, 16, 3 }, new[] { 2, 1, 16, 1 }, X, attrs: Is("axes", 1, 3)),
        Case("ReduceMeanLeading", "ReduceMean", DataType.Float, new[] { 6, 40 }, new[] { 40 }, X, attrs: new[] { Is("axes", 0), I("keepdims", 0) }),
        Case("ReduceMeanInt32", "ReduceMean", DataType.Int32, new[] { 4, 6 }, new[] { 4, 1 }, X, attrs: Is("axes", -1)),
        Case("ReduceMaxUInt8", "ReduceMax", DataType.UInt8, new[] { 4, 7 }, new[] { 4, 1 }, X, attrs: Is("axes", 1)),
        Case("ReduceMaxAll", "ReduceMax", DataType.Float, new[] { 3, 37 }, new[] { 1, 1 }, X),
        Case("ReduceSumNoop", "ReduceSum", DataType.Float, new[] { 3, 4 }, new[] { 3, 4 }, With(("axes", Tensor.FromArray(Array.Empty<long>(), 0))), attrs: I("noop_with_empty_axes", 1)),
        Case("ReduceMaxEmpty", "ReduceMax", DataType.Float, new[] { 3, 0 }, new[] { 3 }, X, ort: false, attrs: new[] { Is("axes", 1), I("keepdims", 0) }),
        Case("ReduceMaxEmptyInt8", "ReduceMax", DataType.Int8, new[] { 0, 2 }, new[] { 1, 2 }, X, ort: false, attrs: Is("axes", 0)),
        Case("ReduceSumEmptyInt32", "ReduceSum", DataType.Int32, new[] { 2, 0, 3 }, new[] { 2, 3 }, With(("axes", L(1))), ort: false, attrs: I("keepdims", 0)),
        Case("ReduceMeanEmpty", "ReduceMean", DataType.Float, new[] { 4, 0 }, new[] { 4, 1 }, X, ort: false, attrs: Is("axes", 1)),
        new("ReduceMaxNaN", () => One("ReduceMax", DataType.Float, new[] { 3, 37 }, DataType.Float, new[] { 3 }, X, 13, Is("axes", 1), I("keepdims", 0)), () =>
        {
            var t = Data(DataType.Float, 12, 3, 37);
            var f = t.ArrayOf<float>();
            f[37 + 20] = float.NaN;
            f[2 * 37] = float.NaN;
            return new[] { t };
        }, Ort: false),

        // ArgMax with ties, last index, negative axis.
        new("ArgMaxTiesLast", () => One("ArgMax", DataType.Float, new[] { 3, 4, 5 }, DataType.Int64, new[] { 3, 1, 5 }, X, 13, I("axis", 1), I("select_last_index", 1)), () =>
        {
            var t = Data(DataType.Float, 13, 3, 4, 5);
            var f = t.ArrayOf<float>();
            for (int i = 0; i < f.Length; i++) f[i] = MathF.Round(f[i]);
            return new[] { t };
        }),
        new("ArgMaxInt32", () => One("ArgMax", DataType.Int32, new[] { 6, 4 }, DataType.Int64, new[] { 6 }, X, 13, I("axis", -1), I("keepdims", 0)), () => new[] { Data(DataType.Int32, 14, 6, 4) }),

        // LogSoftmax: vectors across inner positions (with a tail), along rows, opset 11 coercion, double.
        Case("LogSoftmaxColumns", "LogSoftmax", DataType.Float, new[] { 2, 5, 20 }, new[] { 2, 5, 20 }, X, attrs: I("axis", 1)),
        Case("LogSoftmaxRow", "LogSoftmax", DataType.Float, new[] { 3, 37 }, new[] { 3, 37 }, X),
        Case("LogSoftmaxOpset11", "LogSoftmax", DataType.Float, new[] { 2, 3, 4 }, new[] { 2, 3, 4 }, X, 11, attrs: I("axis", 1)),
        Case("LogSoftmaxDouble", "LogSoftmax", DataType.Double, new[] { 4, 6 }, new[] { 4, 6 }, X, attrs: I("axis", 1)),
    };
}

/// <summary>
/// The data-movement, reduction and softmax-family ops through the whole chain with typed inputs and
/// outputs (compress → plan → generate → strict compile → run), compared with the engine's executor
/// and ONNX Runtime; the float kernels at every SIMD width; the batch-axis refusal; baselines.
/// </summary>
[TestClass]
public sealed class LayoutOpsTests
{
    private const string Namespace = "E2E";

    private static readonly Lazy<(Assembly Assembly, Dictionary<string, CompressionOutput> Outputs)> Built = new(() =>
    {
        var outputs = LayoutModels.All.ToDictionary(c => c.Name, c => EndToEnd.Compress(c.Build(), c.Name));
        var (texts, resources) = EndToEnd.Inputs(outputs.Values);
        var hosts = outputs.Values.Select(o => TypedHost.Source(o.Plan.Plan, "LayoutHost", Namespace)).ToArray();
        var (_, result, compilation) = GeneratorHarness.Run(texts, GeneratorHarness.NewCompilation(true, hosts));
        var errors = result.Diagnostics.Where(d => d.Severity > DiagnosticSeverity.Info).ToList();
        Assert.AreEqual(0, errors.Count, "generator diagnostics:\n" + string.Join("\n", errors));
        return (GeneratorHarness.EmitAndLoad(compilation, resources), outputs);
    });

    public static IEnumerable<object[]> Cases => LayoutModels.All.Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void Op_MatchesExecutorAndOnnxRuntime(string name)
    {
        var c = LayoutModels.All.Single(m => m.Name == name);
        var (assembly, outputs) = Built.Value;
        var plan = outputs[name].Plan.Plan;
        var inputs = c.Inputs();
        var actual = Run(assembly, plan, inputs);
        var model = outputs[name].CompressedModel;
        var engine = new Executor(model).Run(inputs);
        for (int k = 0; k < actual.Length; k++) Numerics.AssertClose(engine[k], actual[k], 1e-5, 1e-6, $"{name} output {k} vs executor");
        if (!c.Ort) return;
        var ort = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), inputs);
        for (int k = 0; k < actual.Length; k++) Numerics.AssertClose(ort[k], actual[k], 1e-5, 1e-6, $"{name} output {k} vs ONNX Runtime");
    }

    [TestMethod]
    public void Predict_AllocatesNothing()
    {
        var (assembly, outputs) = Built.Value;
        foreach (var name in new[] { "TransposeNhwc", "ConcatUInt8", "SplitInput", "GatherRuntime", "PadReflect", "PadConstantInput", "ReduceMeanGroups", "ReduceMaxUInt8", "ArgMaxTiesLast", "LogSoftmaxColumns", "ConstantOfShapeInt32", "ShapeSlice" })
        {
            var plan = outputs[name].Plan.Plan;
            var (host, predictor, inArrays, outArrays) = Prepare(assembly, plan, LayoutModels.All.Single(m => m.Name == name).Inputs());
            long bytes = (long)host.GetMethod("Allocated")!.Invoke(null, new object[] { predictor, inArrays, outArrays, 100 })!;
            Assert.AreEqual(0L, bytes, $"{name} allocated during Predict");
        }
    }

    [TestMethod]
    public void Gather_ThrowsForARuntimeIndexOutsideTheAxis()
    {
        var (assembly, outputs) = Built.Value;
        var inputs = new[] { LayoutModels.Data(DataType.Float, 6, 5, 4, 3), Tensor.FromArray(new[] { 0, -5, 3, 1 }, 2, 2) };
        var e = Assert.ThrowsExactly<IndexOutOfRangeException>(() => Run(assembly, outputs["GatherRuntime"].Plan.Plan, inputs));
        StringAssert.Contains(e.Message, "-5");
    }

    [TestMethod]
    public void ReductionOverABatchAxis_IsRefused_WhenThePredictorRunsPerSample()
    {
        // mean over the batch axis, broadcast back onto the batch: PredictBatch would compute it per sample.
        var b = new ModelBuilder(13);
        string x = b.Input("x", DataType.Float, "N", 4);
        string m = b.Node("ReduceMean", new[] { x }, NodeAttribute.Ints("axes", 0));
        b.Output(b.Node("Sub", new[] { x, m }), DataType.Float, "N", 4);
        var output = EndToEnd.Compress(b.Build(), "BatchMean");
        var (texts, _) = EndToEnd.Inputs(new[] { output });
        var (_, result, _) = GeneratorHarness.Run(texts);
        var d = result.Diagnostics.Single(x => x.Id == "CB7005");
        StringAssert.Contains(d.GetMessage(), "batch axis");
    }

    // ---- float kernels at every width ----

    private readonly struct Rows37 : IReduceShape
    {
        public static int Input => 5 * 37;
        public static int Output => 5;
        public static int Inner => 37;
        public static bool InnerReduced => true;
        public static int Count => 37;
        public static ReadOnlySpan<int> Outer => new[] { 5, 1 };
    }

    private readonly struct Columns : IReduceShape
    {
        public static int Input => 3 * 7 * 29;
        public static int Output => 3 * 29;
        public static int Inner => 29;
        public static bool InnerReduced => false;
        public static int Count => 7;
        public static ReadOnlySpan<int> Outer => new[] { 3, 29, 7, 0 };
    }

    private readonly struct Axis : IAxisShape
    {
        public static int Outer => 2;
        public static int Length => 9;
        public static int Inner => 21;
        public static bool SelectLast => false;
    }

    private readonly struct Row : IAxisShape
    {
        public static int Outer => 3;
        public static int Length => 45;
        public static int Inner => 1;
        public static bool SelectLast => false;
    }

    private static float[] Floats(int seed, int n) => LayoutModels.Data(DataType.Float, seed, n).ArrayOf<float>().Select(v => v * 20f).ToArray();

    private static void AllWidths(Action<string, Func<float[], float[]>> check, Func<float[], float[]> simd128, Func<float[], float[]> simd256, Func<float[], float[]> simd512, Func<float[], float[]> scalar)
    {
        check("Simd128", simd128);
        check("Simd256", simd256);
        if (Vector512.IsHardwareAccelerated) check("Simd512", simd512);
        check("SimdScalar", scalar);
    }

    [TestMethod]
    public void FloatReductions_AgreeAcrossWidths()
    {
        var x = Floats(21, 5 * 37);
        x[40] = float.NaN;
        var reference = new float[5];
        Reduce.Max<Rows37, float>(x, reference);
        Assert.IsTrue(float.IsNaN(reference[1]));
        AllWidths((w, f) => CollectionAssert.AreEqual(reference, f(x), $"max rows {w}"),
            v => { var y = new float[5]; Reduce.MaxFloat<Rows37, Simd128, Vector128<float>>(v, y); return y; },
            v => { var y = new float[5]; Reduce.MaxFloat<Rows37, Simd256, Vector256<float>>(v, y); return y; },
            v => { var y = new float[5]; Reduce.MaxFloat<Rows37, Simd512, Vector512<float>>(v, y); return y; },
            v => { var y = new float[5]; Reduce.MaxFloat<Rows37, SimdScalar, float>(v, y); return y; });

        var c = Floats(22, 3 * 7 * 29);
        c[29 + 5] = float.NaN;
        var mean = new float[3 * 29];
        Reduce.Mean<Columns, float>(c, mean);
        AllWidths((w, f) =>
            {
                var y = f(c);
                for (int i = 0; i < y.Length; i++)
                    Assert.IsTrue(float.IsNaN(mean[i]) ? float.IsNaN(y[i]) : Math.Abs(y[i] - mean[i]) <= 1e-5f * (1 + Math.Abs(mean[i])), $"mean columns {w} [{i}]");
            },
            v => { var y = new float[87]; Reduce.MeanFloat<Columns, Simd128, Vector128<float>>(v, y); return y; },
            v => { var y = new float[87]; Reduce.MeanFloat<Columns, Simd256, Vector256<float>>(v, y); return y; },
            v => { var y = new float[87]; Reduce.MeanFloat<Columns, Simd512, Vector512<float>>(v, y); return y; },
            v => { var y = new float[87]; Reduce.MeanFloat<Columns, SimdScalar, float>(v, y); return y; });
    }

    [TestMethod]
    public void Softmax_AgreesAcrossWidths_WithTheDoubleReference()
    {
        foreach (bool log in new[] { false, true })
        {
            var a = Floats(23, 2 * 9 * 21);
            var r = Floats(24, 3 * 45);
            var refA = new double[a.Length];
            Reduce.Softmax<Axis, double>(a.Select(v => (double)v).ToArray(), refA, log);
            var refR = new double[r.Length];
            Reduce.Softmax<Row, double>(r.Select(v => (double)v).ToArray(), refR, log);
            void Close(double[] expected, float[] actual, string what)
            {
                for (int i = 0; i < expected.Length; i++)
                    Assert.IsTrue(Math.Abs(actual[i] - expected[i]) <= 2e-6 + 2e-6 * Math.Abs(expected[i]), $"{what} [{i}]: {actual[i]} vs {expected[i]}");
            }
            AllWidths((w, f) => Close(refA, f(a), $"columns {w} log={log}"),
                v => { var y = new float[v.Length]; Reduce.SoftmaxFloat<Axis, Simd128, Vector128<float>>(v, y, log); return y; },
                v => { var y = new float[v.Length]; Reduce.SoftmaxFloat<Axis, Simd256, Vector256<float>>(v, y, log); return y; },
                v => { var y = new float[v.Length]; Reduce.SoftmaxFloat<Axis, Simd512, Vector512<float>>(v, y, log); return y; },
                v => { var y = new float[v.Length]; Reduce.SoftmaxFloat<Axis, SimdScalar, float>(v, y, log); return y; });
            AllWidths((w, f) => Close(refR, f(r), $"rows {w} log={log}"),
                v => { var y = new float[v.Length]; Reduce.SoftmaxFloat<Row, Simd128, Vector128<float>>(v, y, log); return y; },
                v => { var y = new float[v.Length]; Reduce.SoftmaxFloat<Row, Simd256, Vector256<float>>(v, y, log); return y; },
                v => { var y = new float[v.Length]; Reduce.SoftmaxFloat<Row, Simd512, Vector512<float>>(v, y, log); return y; },
                v => { var y = new float[v.Length]; Reduce.SoftmaxFloat<Row, SimdScalar, float>(v, y, log); return y; });
        }
    }

    [TestMethod]
    public void VectorExp_IsWithinTwoUlps_OnTheSoftmaxRange()
    {
        var v128 = new float[4];
        var v256 = new float[8];
        for (float x = -87f; x <= 0f; x += 0.0137f)
        {
            float expected = (float)Math.Exp(x);
            var a = FloatVectors.Exp<Simd128, Vector128<float>>(Vector128.Create(x));
            var b = FloatVectors.Exp<Simd256, Vector256<float>>(Vector256.Create(x));
            foreach (float got in new[] { a.GetElement(0), b.GetElement(0) })
            {
                int ulps = Math.Abs(BitConverter.SingleToInt32Bits(got) - BitConverter.SingleToInt32Bits(expected));
                Assert.IsTrue(ulps <= 2, $"exp({x}) = {got}, expected {expected} ({ulps} ulps)");
            }
        }
        Assert.IsTrue(float.IsNaN(FloatVectors.Exp<Simd256, Vector256<float>>(Vector256.Create(float.NaN)).GetElement(3)));
    }

    [TestMethod]
    public void Copy_RejectsAGeometryOutsideItsSpans()
    {
        var x = Enumerable.Range(0, 10).ToArray();
        var y = new int[10];
        Assert.ThrowsExactly<InvalidOperationException>(() => Layout.Copy<int>(x, y, new[] { 0, 0, 0, 11, 1, 1 }));
        Assert.ThrowsExactly<InvalidOperationException>(() => Layout.Copy<int>(x, y, new[] { 0, 0, 0, 3, -1, 1 }));
        Assert.ThrowsExactly<InvalidOperationException>(() => Layout.Copy<int>(x, y, new[] { 0, 0, 1, 2, 2, 5, 5, 1, 1 }));
        Layout.Copy<int>(x, y, new[] { 9, 0, 0, 10, -1, 1 });
        CollectionAssert.AreEqual(new[] { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 }, y);
    }

    // ---- baselines: one representative step per op kind ----

    private static void Baseline(string test, string name)
    {
        var c = LayoutModels.All.Single(m => m.Name == name);
        var (_, result, _) = GeneratorHarness.Run(Baselines.PlanTexts(c.Build(), name));
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
        Baselines.Verify(test, result, hint => !hint.StartsWith("CompressBuild.Runtime.", StringComparison.Ordinal));
    }

    [TestMethod]
    public void LayoutTranspose() => Baseline(nameof(LayoutTranspose), "TransposeNhwc");

    [TestMethod]
    public void LayoutSlice() => Baseline(nameof(LayoutSlice), "SliceStepsInt32");

    [TestMethod]
    public void LayoutConcat() => Baseline(nameof(LayoutConcat), "ConcatUInt8");

    [TestMethod]
    public void LayoutSplit() => Baseline(nameof(LayoutSplit), "SplitInput");

    [TestMethod]
    public void LayoutGather() => Baseline(nameof(LayoutGather), "GatherRuntime");

    [TestMethod]
    public void LayoutExpand() => Baseline(nameof(LayoutExpand), "ExpandDouble");

    [TestMethod]
    public void LayoutTile() => Baseline(nameof(LayoutTile), "TileFloat4D");

    [TestMethod]
    public void LayoutPadReflect() => Baseline(nameof(LayoutPadReflect), "PadReflect");

    [TestMethod]
    public void LayoutPadConstant() => Baseline(nameof(LayoutPadConstant), "PadConstantInput");

    [TestMethod]
    public void LayoutViewCopy() => Baseline(nameof(LayoutViewCopy), "ReshapeConstant");

    [TestMethod]
    public void LayoutShape() => Baseline(nameof(LayoutShape), "ShapeSlice");

    [TestMethod]
    public void LayoutConstantOfShape() => Baseline(nameof(LayoutConstantOfShape), "ConstantOfShapeInt32");

    [TestMethod]
    public void LayoutConstant() => Baseline(nameof(LayoutConstant), "ConstantFloats");

    [TestMethod]
    public void ReduceMeanGroups() => Baseline(nameof(ReduceMeanGroups), "ReduceMeanGroups");

    [TestMethod]
    public void ReduceMaxUInt8() => Baseline(nameof(ReduceMaxUInt8), "ReduceMaxUInt8");

    [TestMethod]
    public void ReduceArgMax() => Baseline(nameof(ReduceArgMax), "ArgMaxTiesLast");

    [TestMethod]
    public void ReduceLogSoftmax() => Baseline(nameof(ReduceLogSoftmax), "LogSoftmaxColumns");

    // ---- typed host ----

    private static Tensor[] Run(Assembly assembly, ModelPlan plan, Tensor[] inputs)
    {
        var (host, predictor, inArrays, outArrays) = Prepare(assembly, plan, inputs);
        try
        {
            host.GetMethod("Predict")!.Invoke(null, new object[] { predictor, inArrays, outArrays });
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
        return plan.Outputs.Select((v, k) => Tensor.FromArray(TypedHost.OnnxType(v.ElementType), outArrays[k], v.Shape.ToArray())).ToArray();
    }

    private static (Type Host, object Predictor, Array[] In, Array[] Out) Prepare(Assembly assembly, ModelPlan plan, Tensor[] inputs)
    {
        var host = assembly.GetType($"LayoutHost.Host_{plan.ClassName}", throwOnError: true)!;
        object predictor = host.GetMethod("Create")!.Invoke(null, null)!;
        var byName = plan.Inputs.Select((v, k) => inputs[k].Data).ToArray();
        var outArrays = plan.Outputs.Select(v => Array.CreateInstance(TypedHost.ClrType(v.ElementType), v.Shape.Aggregate(1, (a, d) => a * d))).ToArray();
        return (host, predictor, byName, outArrays);
    }

}
