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

/// <summary>A model of the element-wise family with typed inputs (engine tensors, batch 2 where batched).</summary>
internal sealed record ElementCase(string Name, Func<Model> Build, Func<int, Tensor[]> Inputs, bool Retarget = true)
{
    public override string ToString() => Name;
}

/// <summary>
/// The element-wise family (unary functions and activations, Abs/Neg/Relu, Clip, Cast, Pow, PRelu,
/// Max/Min/Sum/Mean, Add/Sub/Mul/Div, Dropout) on every element type, end to end: compressed,
/// generated, compiled strictly, run at every SIMD target and compared with the engine's executor
/// (integers and bool exactly; float32 within 2e-6 relative, float16 within one half ulp).
/// </summary>
[TestClass]
public sealed class ElementwiseOpsTests
{
    private static readonly string[] Targets = { "generic", "scalar", "arm64", "x64-avx2", "x64-avx512" };

    // ---- inputs ----

    private static readonly float[] Specials = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-40f, -1e-40f, 1e-20f, 88.5f, -88.5f, 100f, -100f, 0.35f, -0.35f, 1e-6f, -1e-6f };

    private static object[] Batch(int[] shape) => shape.Select((d, k) => k == 0 ? (object)"N" : d).ToArray();

    /// <summary>Random values of <paramref name="type"/>: floats uniform in [lo, hi] with special values first (when asked); integers over the whole range.</summary>
    internal static Tensor Random(DataType type, int seed, int[] shape, double lo = -4, double hi = 4, bool specials = true, bool nonZero = false)
    {
        var rnd = new Random(seed);
        int n = shape.Aggregate(1, (a, d) => a * d);
        double F(int i) => specials && i < Specials.Length && i % 2 == seed % 2 ? Specials[i] : lo + (hi - lo) * rnd.NextDouble();
        long L()
        {
            long v = rnd.Next(4) == 0 ? rnd.Next(-9, 10) : rnd.NextInt64(long.MinValue, long.MaxValue);
            return nonZero && v == 0 ? 3 : v;
        }
        Array data = type switch
        {
            DataType.Float => Enumerable.Range(0, n).Select(i => (float)F(i)).ToArray(),
            DataType.Double => Enumerable.Range(0, n).Select(i => F(i)).ToArray(),
            DataType.Float16 => Enumerable.Range(0, n).Select(i => (Half)F(i)).ToArray(),
            DataType.Int8 => Enumerable.Range(0, n).Select(_ => NonZero((sbyte)L(), nonZero)).ToArray(),
            DataType.UInt8 => Enumerable.Range(0, n).Select(_ => NonZero((byte)L(), nonZero)).ToArray(),
            DataType.Int16 => Enumerable.Range(0, n).Select(_ => NonZero((short)L(), nonZero)).ToArray(),
            DataType.UInt16 => Enumerable.Range(0, n).Select(_ => NonZero((ushort)L(), nonZero)).ToArray(),
            DataType.Int32 => Enumerable.Range(0, n).Select(_ => NonZero((int)L(), nonZero)).ToArray(),
            DataType.UInt32 => Enumerable.Range(0, n).Select(_ => NonZero((uint)L(), nonZero)).ToArray(),
            DataType.Int64 => Enumerable.Range(0, n).Select(_ => L()).ToArray(),
            DataType.UInt64 => Enumerable.Range(0, n).Select(_ => (ulong)L()).ToArray(),
            DataType.Bool => Enumerable.Range(0, n).Select(_ => rnd.Next(2) == 1).ToArray(),
            _ => throw new ArgumentException(type.ToString()),
        };
        return Tensor.FromArray(type, data, shape);
    }

    private static T NonZero<T>(T v, bool nonZero) where T : System.Numerics.INumber<T> => nonZero && T.IsZero(v) ? T.One : v;

    private static Tensor Ints(DataType type, int seed, int[] shape, int lo, int hi)
    {
        var rnd = new Random(seed);
        var values = Enumerable.Range(0, shape.Aggregate(1, (a, d) => a * d)).Select(_ => (double)rnd.Next(lo, hi + 1)).ToArray();
        return ElementConversionOf(type, values, shape);
    }

    private static Tensor ElementConversionOf(DataType type, double[] v, int[] shape) => type switch
    {
        DataType.Float => Tensor.FromArray(v.Select(x => (float)x).ToArray(), shape),
        DataType.Double => Tensor.FromArray(v.ToArray(), shape),
        DataType.Float16 => Tensor.FromArray(v.Select(x => (Half)x).ToArray(), shape),
        DataType.Int8 => Tensor.FromArray(v.Select(x => (sbyte)x).ToArray(), shape),
        DataType.UInt8 => Tensor.FromArray(v.Select(x => (byte)x).ToArray(), shape),
        DataType.Int16 => Tensor.FromArray(v.Select(x => (short)x).ToArray(), shape),
        DataType.UInt16 => Tensor.FromArray(v.Select(x => (ushort)x).ToArray(), shape),
        DataType.Int32 => Tensor.FromArray(v.Select(x => (int)x).ToArray(), shape),
        DataType.UInt32 => Tensor.FromArray(v.Select(x => (uint)x).ToArray(), shape),
        DataType.Int64 => Tensor.FromArray(v.Select(x => (long)x).ToArray(), shape),
        DataType.UInt64 => Tensor.FromArray(v.Select(x => (ulong)x).ToArray(), shape),
        _ => throw new ArgumentException(type.ToString()),
    };

    private static string TypeName(DataType t) => DataTypes.OnnxName(t).Replace("FLOAT16", "Half", StringComparison.Ordinal).ToLowerInvariant() switch
    {
        var s => char.ToUpperInvariant(s[0]) + s[1..],
    };

    // ---- models ----

    private static Model Unary(string op, DataType t, int opset = 13, params NodeAttribute[] attrs)
    {
        var b = new ModelBuilder(opset);
        string x = b.Input("x", t, "N", 37);
        b.Output(b.Node(op, new[] { x }, attrs), t, "N", 37);
        return b.Build();
    }

    private static ElementCase UnaryCase(string op, DataType t, double lo = -4, double hi = 4, int opset = 13, params NodeAttribute[] attrs) =>
        new($"{op}{TypeName(t)}", () => Unary(op, t, opset, attrs), seed => new[] { Random(t, seed, new[] { 2, 37 }, lo, hi) });

    private static ElementCase BinaryCase(string op, DataType t, int[] a, int[] bShape, bool relu = false, bool nonZeroB = false, string suffix = "")
    {
        var y = a.Length >= bShape.Length ? a : bShape;
        return new($"{op}{TypeName(t)}{suffix}", () =>
        {
            var b = new ModelBuilder(14);
            string x0 = b.Input("a", t, Batch(a));
            string x1 = b.Input("b", t, bShape.Select(d => (object)d).ToArray());
            string r = b.Node(op, new[] { x0, x1 });
            if (relu) r = b.Node("Relu", new[] { r });
            b.Output(r, t, Batch(y));
            return b.Build();
        }, seed => new[] { Random(t, seed, a.Select((d, k) => k == 0 ? 2 : d).ToArray()), Random(t, seed + 1, bShape, nonZero: nonZeroB) });
    }

    private static ElementCase VariadicCase(string op, DataType t, params int[][] shapes)
    {
        var y = shapes.OrderByDescending(s => s.Length).First();
        return new($"{op}{TypeName(t)}{shapes.Length}", () =>
        {
            var b = new ModelBuilder(13);
            var xs = shapes.Select((s, k) => k == 0 ? b.Input("x0", t, Batch(s)) : b.Input("x" + k, t, s.Select(d => (object)d).ToArray())).ToArray();
            b.Output(b.Node(op, xs), t, Batch(y));
            return b.Build();
        }, seed => shapes.Select((s, k) => Random(t, seed + k, k == 0 ? s.Select((d, i) => i == 0 ? 2 : d).ToArray() : s)).ToArray());
    }

    private static ElementCase CastCase(DataType from, DataType to) => new($"Cast{TypeName(from)}To{TypeName(to)}", () =>
    {
        var b = new ModelBuilder(13);
        string x = b.Input("x", from, 64);
        b.Output(b.Node("Cast", new[] { x }, NodeAttribute.Int("to", (long)to)), to, 64);
        return b.Build();
    }, seed => new[] { CastInput(from, seed) }, Retarget: false);

    private static readonly double[] CastEdges =
    {
        double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e10, -1e10, 300.7, -300.7, 200.5, -129.9, 127.9, 65535.9, 65536.5, -1.5, 0.4,
        -0.0, 3e9, 4294967296.5, 9.3e18, -9.3e18, 2e19, 65520, 65519, 1e-8, 2049, 4097, 16777217, -2147483648.5, 2147483647.5, -0.9, 255.5, 32767.5, -32768.5,
    };

    private static Tensor CastInput(DataType from, int seed)
    {
        if (from is DataType.Float or DataType.Double or DataType.Float16)
        {
            var rnd = new Random(seed);
            var v = CastEdges.Concat(Enumerable.Range(0, 64 - CastEdges.Length).Select(_ => (rnd.NextDouble() - 0.5) * Math.Pow(10, rnd.Next(0, 12)))).ToArray();
            return from switch
            {
                DataType.Float => Tensor.FromArray(v.Select(d => (float)d).ToArray(), 64),
                DataType.Double => Tensor.FromArray(v, 64),
                _ => Tensor.FromArray(v.Select(d => (Half)d).ToArray(), 64),
            };
        }
        return Random(from, seed, new[] { 64 });
    }

    private static readonly DataType[] AllTypes =
    {
        DataType.Float, DataType.Double, DataType.Float16, DataType.Int8, DataType.UInt8, DataType.Int16, DataType.UInt16,
        DataType.Int32, DataType.UInt32, DataType.Int64, DataType.UInt64, DataType.Bool,
    };

    private static readonly DataType[] FloatTypes = { DataType.Float, DataType.Double, DataType.Float16 };

    private static readonly DataType[] NumericTypes = AllTypes.Where(t => t != DataType.Bool).ToArray();

    private static IEnumerable<ElementCase> BuildCases()
    {
        foreach (var t in FloatTypes)
        {
            yield return UnaryCase("Exp", t, -100, 100);
            yield return UnaryCase("Log", t, -1, 50);
            yield return UnaryCase("Sqrt", t, -1, 50);
            yield return UnaryCase("Reciprocal", t);
            yield return UnaryCase("Sigmoid", t, -30, 30);
            yield return UnaryCase("Tanh", t, -10, 10);
            yield return UnaryCase("Softplus", t, -30, 30);
            yield return UnaryCase("Erf", t);
            yield return UnaryCase("Elu", t, attrs: NodeAttribute.Float("alpha", 0.7f));
            yield return UnaryCase("Selu", t);
            yield return UnaryCase("LeakyRelu", t, attrs: NodeAttribute.Float("alpha", 0.2f));
            yield return UnaryCase("HardSigmoid", t, attrs: new[] { NodeAttribute.Float("alpha", 0.3f), NodeAttribute.Float("beta", 0.4f) });
            yield return UnaryCase("HardSwish", t, opset: 14);
            yield return UnaryCase("Abs", t);
            yield return UnaryCase("Neg", t);
            yield return UnaryCase("Relu", t, opset: 14);
        }
        yield return UnaryCase("Erf", DataType.Int32, -3, 3);
        foreach (var t in new[] { DataType.Int8, DataType.Int16, DataType.Int32, DataType.Int64 })
        {
            yield return UnaryCase("Abs", t);
            yield return UnaryCase("Neg", t);
            yield return UnaryCase("Relu", t, opset: 14);
        }
        yield return UnaryCase("Abs", DataType.UInt16);

        // Clip: attributes (opset 6), inputs (opset 13), one bound, integer types.
        yield return new("ClipAttributes", () => Unary("Clip", DataType.Float, 6, NodeAttribute.Float("min", -0.5f), NodeAttribute.Float("max", 0.75f)),
            seed => new[] { Random(DataType.Float, seed, new[] { 2, 37 }) });
        yield return new("ClipDefaults", () => Unary("Clip", DataType.Float, 6), seed => new[] { Random(DataType.Float, seed, new[] { 2, 37 }) });
        foreach (var t in new[] { DataType.Float, DataType.Int8, DataType.UInt64, DataType.Float16, DataType.Double })
        {
            yield return new($"ClipInputs{TypeName(t)}", () =>
            {
                var b = new ModelBuilder(13);
                string x = b.Input("x", t, "N", 37);
                string lo = b.Input("lo", t);
                string hi = b.Input("hi", t);
                b.Output(b.Node("Clip", new[] { x, lo, hi }), t, "N", 37);
                return b.Build();
            }, seed => new[] { Random(t, seed, new[] { 2, 37 }), Ints(t, seed, Array.Empty<int>(), -2, 1), Ints(t, seed + 7, Array.Empty<int>(), 0, 3) });
        }
        yield return new("ClipMaxConstant", () =>
        {
            var b = new ModelBuilder(13);
            string x = b.Input("x", DataType.Int32, "N", 37);
            string hi = b.Initializer("hi", Tensor.FromArray(new[] { 1000 }));
            b.Output(b.Node("Clip", new[] { x, "", hi }), DataType.Int32, "N", 37);
            return b.Build();
        }, seed => new[] { Random(DataType.Int32, seed, new[] { 2, 37 }) });

        // Binary arithmetic on every numeric type, with broadcasting both ways.
        foreach (var t in NumericTypes)
        {
            yield return BinaryCase("Add", t, new[] { 2, 3, 20 }, new[] { 20 });
            yield return BinaryCase("Sub", t, new[] { 2, 3, 20 }, new[] { 3, 1 });
            yield return BinaryCase("Mul", t, new[] { 2, 3, 20 }, new[] { 3, 20 });
            yield return BinaryCase("Div", t, new[] { 2, 3, 20 }, new[] { 20 }, nonZeroB: true);
            yield return VariadicCase("Max", t, new[] { 2, 2, 3, 9 }, new[] { 9 }, new[] { 3, 1 }, new[] { 2, 1, 1 });
            yield return VariadicCase("Min", t, new[] { 2, 3, 9 }, new[] { 3, 9 });
        }
        yield return BinaryCase("Add", DataType.Int32, new[] { 2, 3, 20 }, new[] { 20 }, relu: true, suffix: "Relu");
        yield return BinaryCase("Add", DataType.Float, new[] { 2, 3, 20 }, new[] { 3, 1 }, relu: true, suffix: "Relu");
        yield return new("DivInt32Wrap", () =>
        {
            var b = new ModelBuilder(14);
            string x = b.Input("a", DataType.Int32, 4);
            string d = b.Initializer("d", Tensor.FromArray(new[] { -1, 7, -7, -1 }, 4));
            b.Output(b.Node("Div", new[] { x, d }), DataType.Int32, 4);
            return b.Build();
        }, _ => new[] { Tensor.FromArray(new[] { int.MinValue, -20, 20, 5 }, 4) });
        yield return new("AddLegacyAxis", () =>
        {
            var b = new ModelBuilder(6);
            string x = b.Input("a", DataType.Float, "N", 3, 4, 5);
            string c = b.Initializer("c", RandomTensors.Uniform(3, -1f, 1f, 3, 4));
            b.Output(b.Node("Add", new[] { x, c }, NodeAttribute.Int("broadcast", 1), NodeAttribute.Int("axis", 1)), DataType.Float, "N", 3, 4, 5);
            return b.Build();
        }, seed => new[] { Random(DataType.Float, seed, new[] { 2, 3, 4, 5 }) });
        yield return new("MulLegacySuffix", () =>
        {
            var b = new ModelBuilder(6);
            string x = b.Input("a", DataType.Float, "N", 3, 4, 5);
            string c = b.Initializer("c", RandomTensors.Uniform(4, -1f, 1f, 5));
            b.Output(b.Node("Mul", new[] { x, c }, NodeAttribute.Int("broadcast", 1)), DataType.Float, "N", 3, 4, 5);
            return b.Build();
        }, seed => new[] { Random(DataType.Float, seed, new[] { 2, 3, 4, 5 }) });

        // Variadic: one input, float16 pairs (accumulated in float), means, sums.
        yield return VariadicCase("Sum", DataType.Float, new[] { 2, 3, 9 }, new[] { 9 }, new[] { 3, 1 }, new[] { 3, 9 });
        yield return VariadicCase("Sum", DataType.Double, new[] { 2, 3, 9 });
        yield return VariadicCase("Sum", DataType.Float16, new[] { 2, 3, 9 }, new[] { 3, 9 });
        yield return VariadicCase("Mean", DataType.Float, new[] { 2, 3, 9 }, new[] { 9 }, new[] { 3, 1 });
        yield return VariadicCase("Mean", DataType.Double, new[] { 2, 3, 9 }, new[] { 9 });
        yield return VariadicCase("Mean", DataType.Float16, new[] { 2, 3, 9 }, new[] { 3, 1 });
        yield return VariadicCase("Max", DataType.Float, new[] { 2, 17 });

        // Pow: every kind of base/exponent mix.
        foreach (var (ta, tb) in new[]
        {
            (DataType.Float, DataType.Float), (DataType.Float, DataType.Int32), (DataType.Float, DataType.Int64), (DataType.Float, DataType.UInt64),
            (DataType.Int32, DataType.Int32), (DataType.Int64, DataType.Int64), (DataType.Int32, DataType.Float), (DataType.Int64, DataType.Float),
            (DataType.Double, DataType.Double), (DataType.Float16, DataType.Float), (DataType.UInt8, DataType.Int8), (DataType.Double, DataType.Int16),
        })
        {
            yield return new($"Pow{TypeName(ta)}{TypeName(tb)}", () =>
            {
                var b = new ModelBuilder(15);
                string x = b.Input("a", ta, "N", 3, 8);
                string e = b.Input("e", tb, 8);
                b.Output(b.Node("Pow", new[] { x, e }), ta, "N", 3, 8);
                return b.Build();
            }, seed => new[] { ta is DataType.Float or DataType.Double or DataType.Float16 ? Random(ta, seed, new[] { 2, 3, 8 }, -3, 3, specials: false) : Ints(ta, seed, new[] { 2, 3, 8 }, -9, 9),
                tb is DataType.Float or DataType.Double or DataType.Float16 ? Random(tb, seed + 1, new[] { 8 }, -3, 3, specials: false) : Ints(tb, seed + 1, new[] { 8 }, -3, 12) });
        }
        foreach (float e in new[] { 2f, 3f, 0.5f })
        {
            yield return new($"PowScalar{(int)(e * 10)}", () =>
            {
                var b = new ModelBuilder(13);
                string x = b.Input("a", DataType.Float, "N", 19);
                string c = b.Initializer("e", Tensor.FromArray(new[] { e }));
                b.Output(b.Node("Pow", new[] { x, c }), DataType.Float, "N", 19);
                return b.Build();
            }, seed => new[] { Random(DataType.Float, seed, new[] { 2, 19 }) });
        }

        // PRelu: per-channel constant slope, integer slope broadcast, opset 6 channel vector.
        yield return new("PReluChannels", () =>
        {
            var b = new ModelBuilder(13);
            string x = b.Input("x", DataType.Float, "N", 3, 4, 5);
            string slope = b.Initializer("slope", RandomTensors.Uniform(9, -1f, 1f, 3, 1, 1));
            b.Output(b.Node("PRelu", new[] { x, slope }), DataType.Float, "N", 3, 4, 5);
            return b.Build();
        }, seed => new[] { Random(DataType.Float, seed, new[] { 2, 3, 4, 5 }) });
        yield return new("PReluInt32", () =>
        {
            var b = new ModelBuilder(13);
            string x = b.Input("x", DataType.Int32, "N", 3, 5);
            string slope = b.Input("slope", DataType.Int32, 5);
            b.Output(b.Node("PRelu", new[] { x, slope }), DataType.Int32, "N", 3, 5);
            return b.Build();
        }, seed => new[] { Random(DataType.Int32, seed, new[] { 2, 3, 5 }), Ints(DataType.Int32, seed, new[] { 5 }, -3, 3) });
        yield return new("PReluOpset6", () =>
        {
            var b = new ModelBuilder(6);
            string x = b.Input("x", DataType.Float, "N", 3, 4, 5);
            string slope = b.Initializer("slope", RandomTensors.Uniform(11, -1f, 1f, 3));
            b.Output(b.Node("PRelu", new[] { x, slope }), DataType.Float, "N", 3, 4, 5);
            return b.Build();
        }, seed => new[] { Random(DataType.Float, seed, new[] { 2, 3, 4, 5 }) });

        // Dropout kept as a step because its mask is an output.
        foreach (var (opset, t) in new[] { (13, DataType.Float), (13, DataType.Float16), (7, DataType.Float), (7, DataType.Double) })
        {
            yield return new($"DropoutMask{opset}{TypeName(t)}", () =>
            {
                var b = new ModelBuilder(opset);
                string x = b.Input("x", t, "N", 11);
                var outs = b.NodeMulti("Dropout", new[] { x }, 2);
                b.Output(outs[0], t, "N", 11);
                b.Output(outs[1], opset >= 10 ? DataType.Bool : t, "N", 11);
                return b.Build();
            }, seed => new[] { Random(t, seed, new[] { 2, 11 }) });
        }
        yield return new("DropoutTrainingModeFalse", () =>
        {
            var b = new ModelBuilder(13);
            string x = b.Input("x", DataType.Float, "N", 11);
            string ratio = b.Input("ratio", DataType.Float);
            string mode = b.Input("mode", DataType.Bool);
            var outs = b.NodeMulti("Dropout", new[] { x, ratio, mode }, 2);
            b.Output(outs[0], DataType.Float, "N", 11);
            b.Output(outs[1], DataType.Bool, "N", 11);
            return b.Build();
        }, seed => new[] { Random(DataType.Float, seed, new[] { 2, 11 }), Tensor.FromArray(new[] { 0.25f }), Tensor.FromArray(new[] { false }) }, Retarget: false);

        // Cast between every pair of supported types.
        foreach (var from in AllTypes)
            foreach (var to in AllTypes)
                if (from != to) yield return CastCase(from, to);
    }

    internal static readonly IReadOnlyList<ElementCase> Cases = BuildCases().ToList();

    // ---- build: every case at every target, one strict compilation ----

    private sealed record Built(ElementCase Case, CompressionOutput Output, ModelPlan Plan);

    private static readonly Lazy<(Assembly Assembly, Dictionary<string, Built> Classes)> Compiled = new(() =>
    {
        var classes = new Dictionary<string, Built>(StringComparer.Ordinal);
        foreach (var c in Cases)
        {
            var output = EndToEnd.Compress(c.Build(), c.Name);
            foreach (var target in c.Retarget ? Targets : Targets.Take(1))
            {
                string name = target == "generic" ? c.Name : c.Name + "_" + target.Replace("-", "_", StringComparison.Ordinal);
                var plan = output.Plan.Plan;
                var retargeted = plan with
                {
                    ClassName = name,
                    Target = target,
                    Weights = plan.Weights with { File = name + ".weights.b64", ResourceName = plan.Weights.ResourceName.Length == 0 ? "" : "CompressBuild." + name + ".weights" },
                };
                classes[name] = new Built(c, output with { Plan = output.Plan with { Plan = retargeted } }, retargeted);
            }
        }
        var (texts, resources) = EndToEnd.Inputs(classes.Values.Select(v => v.Output));
        var hosts = classes.Values.Select(v => TypedHost.Source(v.Plan, "ElementHost", EndToEnd.Namespace)).Append(EndToEnd.HostileConsumer).ToArray();
        var (_, result, compilation) = GeneratorHarness.Run(texts, GeneratorHarness.NewCompilation(true, hosts));
        var errors = result.Diagnostics.Where(d => d.Severity > DiagnosticSeverity.Info).ToList();
        Assert.AreEqual(0, errors.Count, "generator diagnostics:\n" + string.Join("\n", errors.Take(20)));
        return (GeneratorHarness.EmitAndLoad(compilation, resources), classes);
    });

    /// <summary>Runs the predictor sample by sample on engine-shaped inputs (batched along axis 0 when the model is).</summary>
    private static Tensor[] Run(Assembly assembly, ModelPlan plan, Tensor[] inputs, string method = "Predict")
    {
        var host = assembly.GetType($"ElementHost.Host_{plan.ClassName}", throwOnError: true)!;
        object predictor = host.GetMethod("Create")!.Invoke(null, null)!;
        bool batched = plan.Inputs.Any(v => v.Batched);
        int samples = batched ? inputs[plan.Inputs.ToList().FindIndex(v => v.Batched)].Shape[0] : 1;
        var outputs = plan.Outputs.Select(v => Array.CreateInstance(TypedHost.ClrType(v.ElementType), samples * v.Shape.Aggregate(1, (a, d) => a * d))).ToArray();
        for (int n = 0; n < samples; n++)
        {
            var ins = plan.Inputs.Select((v, k) => Slice(inputs[k].Data, v.Batched ? n : 0, v.Shape.Aggregate(1, (a, d) => a * d), TypedHost.ClrType(v.ElementType))).ToArray();
            var outs = plan.Outputs.Select(v => Array.CreateInstance(TypedHost.ClrType(v.ElementType), v.Shape.Aggregate(1, (a, d) => a * d))).ToArray();
            try
            {
                host.GetMethod(method)!.Invoke(null, new object[] { predictor, ins, outs });
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            }
            for (int k = 0; k < outs.Length; k++) Array.Copy(outs[k], 0, outputs[k], n * outs[k].Length, outs[k].Length);
        }
        return outputs.Select((o, k) =>
        {
            var shape = plan.Outputs[k].Shape.ToArray();
            if (plan.Outputs[k].Batched) shape[0] = samples;
            return Tensor.FromArray(TypedHost.OnnxType(plan.Outputs[k].ElementType), o, shape);
        }).ToArray();
    }

    private static Array Slice(Array data, int sample, int length, Type type)
    {
        var r = Array.CreateInstance(type, length);
        Array.Copy(data, sample * length, r, 0, length);
        return r;
    }

    /// <summary>Integers and bool exactly; float32 within 2e-6 relative; float16 within one half ulp; double within 1e-13 (NaN matches NaN, infinities exactly).</summary>
    internal static string? Compare(Tensor expected, Tensor actual)
    {
        if (expected.DataType != actual.DataType) return $"type {actual.DataType}, expected {expected.DataType}";
        if (!expected.Shape.SequenceEqual(actual.Shape)) return $"shape [{string.Join(",", actual.Shape)}], expected [{string.Join(",", expected.Shape)}]";
        if (!DataTypes.IsFloatingPoint(expected.DataType))
        {
            for (int i = 0; i < expected.Length; i++)
                if (!Equals(expected.Data.GetValue(i), actual.Data.GetValue(i)))
                    return $"element {i}: {actual.Data.GetValue(i)} vs expected {expected.Data.GetValue(i)}";
            return null;
        }
        var (rtol, atol) = expected.DataType switch
        {
            DataType.Float => (2e-6, 1e-37),
            DataType.Float16 => (1e-3, 1e-7),
            _ => (1e-13, 1e-300),
        };
        return Numerics.Compare(expected, actual, rtol, atol);
    }

    public static IEnumerable<object[]> ClassNames => Cases.SelectMany(c => (c.Retarget ? Targets : Targets.Take(1)).Select(t => new object[] { t == "generic" ? c.Name : c.Name + "_" + t.Replace("-", "_", StringComparison.Ordinal) }));

    [TestMethod]
    [DynamicData(nameof(ClassNames))]
    public void Case_MatchesTheExecutor(string className)
    {
        var (assembly, classes) = Compiled.Value;
        var built = classes[className];
        var inputs = built.Case.Inputs(11);
        var expected = new Executor(built.Output.CompressedModel).Run(inputs);
        var actual = Run(assembly, built.Plan, inputs);
        for (int k = 0; k < actual.Length; k++)
            if (Compare(expected[k], actual[k]) is { } problem) Assert.Fail($"{className} output {k}: {problem}");
    }

    [TestMethod]
    public void Predict_AllocatesNothing()
    {
        var (assembly, classes) = Compiled.Value;
        foreach (string name in new[] { "SigmoidHalf", "AddUint8", "MaxUint16" + "4", "CastFloatToInt8", "ClipInputsInt8", "PowInt32Float", "MeanFloat3", "TanhFloat_scalar", "DropoutMask13Float" })
        {
            var built = classes[name];
            var plan = built.Plan;
            var host = assembly.GetType($"ElementHost.Host_{name}", throwOnError: true)!;
            object predictor = host.GetMethod("Create")!.Invoke(null, null)!;
            var ins = plan.Inputs.Select(v => Array.CreateInstance(TypedHost.ClrType(v.ElementType), v.Shape.Aggregate(1, (a, d) => a * d))).ToArray();
            var outs = plan.Outputs.Select(v => Array.CreateInstance(TypedHost.ClrType(v.ElementType), v.Shape.Aggregate(1, (a, d) => a * d))).ToArray();
            if (name.StartsWith("Pow", StringComparison.Ordinal) || name.StartsWith("Clip", StringComparison.Ordinal)) ins = built.Case.Inputs(3).Select((t, k) => Slice(t.Data, 0, ins[k].Length, ins[k].GetType().GetElementType()!)).ToArray();
            long bytes = (long)host.GetMethod("Allocated")!.Invoke(null, new object[] { predictor, ins, outs, 100 })!;
            Assert.AreEqual(0L, bytes, $"{name} allocated during Predict");
        }
    }

    /// <summary>Integer wrap-around and float-to-integer saturation hold when the consumer compiles with overflow checking on.</summary>
    [TestMethod]
    public void CheckedConsumer_StillWraps()
    {
        var names = new[] { "AddInt8", "MulInt64", "NegInt8", "AbsInt32", "DivInt32Wrap", "PowInt32Int32", "CastFloatToInt8", "CastDoubleToUint64", "CastInt64ToInt8", "ExpFloat", "TanhFloat", "MeanFloat3" };
        var cases = names.Select(n => Cases.Single(c => c.Name == n)).ToList();
        var outputs = cases.Select(c => EndToEnd.Compress(c.Build(), c.Name)).ToList();
        var (texts, resources) = EndToEnd.Inputs(outputs);
        var compilation = GeneratorHarness.NewCompilation(true, outputs.Select(o => TypedHost.Source(o.Plan.Plan, "ElementHost", EndToEnd.Namespace)).ToArray());
        compilation = compilation.WithOptions(compilation.Options.WithOverflowChecks(true));
        var (_, result, output) = GeneratorHarness.Run(texts, compilation);
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
        var assembly = GeneratorHarness.EmitAndLoad(output, resources);
        for (int k = 0; k < cases.Count; k++)
        {
            var inputs = cases[k].Inputs(11);
            var expected = new Executor(outputs[k].CompressedModel).Run(inputs);
            var actual = Run(assembly, outputs[k].Plan.Plan, inputs);
            for (int o = 0; o < actual.Length; o++)
                if (Compare(expected[o], actual[o]) is { } problem) Assert.Fail($"{cases[k].Name} output {o}: {problem}");
        }
    }

    /// <summary>An Identity step (the planner keeps one when its input is a constant; here a Relu step is turned into one) copies.</summary>
    [TestMethod]
    public void IdentityStep_Copies()
    {
        var output = EndToEnd.Compress(Unary("Relu", DataType.Int16, 14), "IdentityStep");
        var plan = output.Plan.Plan;
        plan = plan with { Steps = plan.Steps.Select(st => st with { Op = "Identity" }).ToEquatableArray() };
        output = output with { Plan = output.Plan with { Plan = plan } };
        var (texts, resources) = EndToEnd.Inputs(new[] { output });
        var (_, result, compilation) = GeneratorHarness.Run(texts, GeneratorHarness.NewCompilation(true, TypedHost.Source(plan, "ElementHost", EndToEnd.Namespace)));
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
        var assembly = GeneratorHarness.EmitAndLoad(compilation, resources);
        var x = Random(DataType.Int16, 3, new[] { 2, 37 });
        var y = Run(assembly, plan, new[] { x })[0];
        CollectionAssert.AreEqual(x.Data, y.Data);
    }

    [TestMethod]
    public void TrainingDropout_Throws()
    {
        var (assembly, classes) = Compiled.Value;
        var built = classes["DropoutTrainingModeFalse"];
        var x = Random(DataType.Float, 1, new[] { 2, 11 });
        Run(assembly, built.Plan, new[] { x, Tensor.FromArray(new[] { 0f }), Tensor.FromArray(new[] { true }) });
        Assert.ThrowsExactly<NotSupportedException>(() => Run(assembly, built.Plan, new[] { x, Tensor.FromArray(new[] { 0.5f }), Tensor.FromArray(new[] { true }) }));
    }

    [TestMethod]
    public void HalfSumOfThree_IsUnsupported_NamingTheReason()
    {
        var c = VariadicCase("Sum", DataType.Float16, new[] { 2, 3 }, new[] { 3 }, new[] { 2, 1, 3 });
        var output = EndToEnd.Compress(c.Build(), "HalfSum3");
        var (texts, _) = EndToEnd.Inputs(new[] { output });
        var (_, result, _) = GeneratorHarness.Run(texts);
        var d = result.Diagnostics.Single();
        Assert.AreEqual("CB7005", d.Id);
        StringAssert.Contains(d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), "float16 inputs");
    }

    // ---- the float32 math at every width ----

    private delegate void Lanes(ReadOnlySpan<float> x, Span<float> y);

    private static void Map256(Func<Vector256<float>, Vector256<float>> f, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i += 8) f(Vector256.Create(x.Slice(i, 8))).CopyTo(y.Slice(i, 8));
    }

    private static void Map128(Func<Vector128<float>, Vector128<float>> f, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i += 4) f(Vector128.Create(x.Slice(i, 4))).CopyTo(y.Slice(i, 4));
    }

    private static readonly (string Name, Func<Vector256<float>, Vector256<float>> V256, Func<Vector128<float>, Vector128<float>> V128, Func<float, float> V1, Func<double, double> Exact, double Atol)[] Functions =
    {
        ("Exp", FloatMath.Exp<FloatLanes256, Vector256<float>>, FloatMath.Exp<FloatLanes128, Vector128<float>>, FloatMath.Exp<FloatLanes1, float>, Math.Exp, 1e-44),
        ("ExpM1", FloatMath.ExpM1<FloatLanes256, Vector256<float>>, FloatMath.ExpM1<FloatLanes128, Vector128<float>>, FloatMath.ExpM1<FloatLanes1, float>, x => x == 0 ? x : Math.Abs(x) < 1e-5 ? x + x * x / 2 : Math.Exp(x) - 1, 0),
        ("Log", FloatMath.Log<FloatLanes256, Vector256<float>>, FloatMath.Log<FloatLanes128, Vector128<float>>, FloatMath.Log<FloatLanes1, float>, Math.Log, 0),
        ("Sigmoid", FloatMath.Sigmoid<FloatLanes256, Vector256<float>>, FloatMath.Sigmoid<FloatLanes128, Vector128<float>>, FloatMath.Sigmoid<FloatLanes1, float>, x => 1 / (1 + Math.Exp(-x)), 1e-38),
        ("Tanh", FloatMath.Tanh<FloatLanes256, Vector256<float>>, FloatMath.Tanh<FloatLanes128, Vector128<float>>, FloatMath.Tanh<FloatLanes1, float>, Math.Tanh, 0),
        ("Softplus", FloatMath.Softplus<FloatLanes256, Vector256<float>>, FloatMath.Softplus<FloatLanes128, Vector128<float>>, FloatMath.Softplus<FloatLanes1, float>, FloatMath.Softplus, 1e-38),
        ("Erf", FloatMath.Erf<FloatLanes256, Vector256<float>>, FloatMath.Erf<FloatLanes128, Vector128<float>>, FloatMath.Erf<FloatLanes1, float>, FloatMath.Erf, 0),
    };

    public static IEnumerable<object[]> FunctionNames => Functions.Select(f => new object[] { f.Name });

    /// <summary>
    /// Every width computes bit-identical results, within 1e-6 relative of the exact value (2e-7 for
    /// most), over a sweep of every magnitude (subnormals to overflow) and the special values.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(FunctionNames))]
    public void FloatMath_IsAccurate_AndTheSameAtEveryWidth(string name)
    {
        var f = Functions.Single(g => g.Name == name);
        var values = new List<float>(Specials.Concat(new[] { 1f, -1f, 0.5f, 2f, 88.72f, 88.73f, -87.3f, -103.9f, -104.5f, 0.875f, 4f, 1.17549435E-38f, float.Epsilon }));
        var rnd = new Random(5);
        for (int e = -149; e < 128; e++)
            for (int k = 0; k < 24; k++)
            {
                float v = (float)((1 + rnd.NextDouble()) * Math.Pow(2, e));
                if (!float.IsInfinity(v)) values.Add(k % 2 == 0 ? v : -v);
            }
        while (values.Count % 8 != 0) values.Add(0.25f);
        var x = values.ToArray();
        var y256 = new float[x.Length];
        var y128 = new float[x.Length];
        Map256(f.V256, x, y256);
        Map128(f.V128, x, y128);
        double worst = 0;
        float worstX = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float y1 = f.V1(x[i]);
            Assert.AreEqual(BitConverter.SingleToInt32Bits(y1), BitConverter.SingleToInt32Bits(y256[i]), $"{name}({x[i]:R}): 256-bit {y256[i]:R} vs one lane {y1:R}");
            Assert.AreEqual(BitConverter.SingleToInt32Bits(y1), BitConverter.SingleToInt32Bits(y128[i]), $"{name}({x[i]:R}): 128-bit {y128[i]:R} vs one lane {y1:R}");
            double exact = f.Exact(x[i]);
            float rounded = (float)exact;
            if (double.IsNaN(exact)) { Assert.IsTrue(float.IsNaN(y1), $"{name}({x[i]:R}) = {y1:R}, expected NaN"); continue; }
            if (float.IsInfinity(rounded)) { Assert.AreEqual(rounded, y1, $"{name}({x[i]:R})"); continue; }
            double err = Math.Abs(y1 - exact);
            if (err <= f.Atol) continue;
            double rel = err / Math.Max(Math.Abs(exact), 1.17549435E-38);
            if (rel > worst) (worst, worstX) = (rel, x[i]);
        }
        Assert.IsTrue(worst < 1e-6, $"{name}: worst relative error {worst:G3} at x = {worstX:R}");
    }

    [TestMethod]
    public void Conversions_MatchTensorPrimitives_ForEveryPair()
    {
        // The engine's Cast is TensorPrimitives.ConvertTruncating (with bool as 0/1 and "not zero").
        var doubles = CastEdges.Concat(Enumerable.Range(0, 200).Select(i => Math.Sin(i) * Math.Pow(10, i % 21 - 3))).ToArray();
        var floats = doubles.Select(d => (float)d).ToArray();
        var halves = doubles.Select(d => (Half)d).ToArray();
        var longs = doubles.Select(d => double.IsNaN(d) ? 0 : (long)Math.Clamp(d, -9e18, 9e18)).Concat(new[] { long.MinValue, long.MaxValue, -1L, 65520L, 16777217L }).ToArray();
        void Check<TFrom, TTo>(TFrom[] x) where TFrom : unmanaged, System.Numerics.INumberBase<TFrom> where TTo : unmanaged, System.Numerics.INumberBase<TTo>
        {
            var expected = new TTo[x.Length];
            System.Numerics.Tensors.TensorPrimitives.ConvertTruncating<TFrom, TTo>(x, expected);
            var actual = new TTo[x.Length];
            Conversions.Convert<TFrom, TTo>(x, actual);
            for (int i = 0; i < x.Length; i++)
                Assert.IsTrue(expected[i].Equals(actual[i]) || (TTo.IsNaN(expected[i]) && TTo.IsNaN(actual[i])), $"{typeof(TFrom).Name} {x[i]} -> {typeof(TTo).Name}: {actual[i]} vs {expected[i]}");
        }
        void From<TFrom>(TFrom[] x) where TFrom : unmanaged, System.Numerics.INumberBase<TFrom>
        {
            Check<TFrom, float>(x); Check<TFrom, double>(x); Check<TFrom, Half>(x);
            Check<TFrom, sbyte>(x); Check<TFrom, byte>(x); Check<TFrom, short>(x); Check<TFrom, ushort>(x);
            Check<TFrom, int>(x); Check<TFrom, uint>(x); Check<TFrom, long>(x); Check<TFrom, ulong>(x);
        }
        From(floats);
        From(doubles);
        From(halves);
        From(longs);
        From(longs.Select(l => (ulong)l).ToArray());
        From(longs.Select(l => (int)l).ToArray());
        From(longs.Select(l => (sbyte)l).ToArray());
        var bools = new[] { true, false, true };
        var asFloat = new float[3];
        Conversions.Convert<bool, float>(bools, asFloat);
        CollectionAssert.AreEqual(new[] { 1f, 0f, 1f }, asFloat);
        var back = new bool[floats.Length];
        Conversions.Convert<float, bool>(floats, back);
        CollectionAssert.AreEqual(floats.Select(f => f != 0 || float.IsNaN(f)).ToArray(), back);
    }
}
