using System.Globalization;
using CompressBuild.Core.Compression;
using CompressBuild.Onnx;
using CompressBuild.Onnx.DataFiles;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CompressBuild.TestSupport;

/// <summary>
/// One line of the int8 op sweep list (tests/CompressBuild.Core.Tests/Quantization/int8-op-sweep.txt):
/// <c>Op folder/test runs [key=value ...] [# reason]</c>. <c>runs</c> says where the op ends up in a
/// static int8 model: <c>float</c> (between DequantizeLinear and QuantizeLinear, listed by the report),
/// <c>int8</c> (on quantized values, not listed), <c>layer</c> (an int8 layer itself), <c>removed</c>
/// (optimized away) or <c>skip</c> (not wrappable; the reason says why). Keys: <c>const=a,b</c> float
/// inputs frozen to the test's values (parameters, not activations), <c>sqnr=dB</c> the least SQNR of the
/// quantized outputs vs float, <c>agree=f</c> the least fraction of equal elements of a discontinuous
/// output (indices, comparisons) vs float and of ours vs ONNX Runtime, <c>sqnr.entropy=dB</c> (or another
/// range method) the SQNR bound with that calibration method, <c>gen=skip</c> no generator check,
/// <c>floatlayers=n</c> int8 layers the predictor runs with a float kernel (all others run integer kernels).
/// </summary>
public sealed record SweepCase(string Op, string Test, string Runs, IReadOnlyList<string> Constants, double Sqnr, double? Agree, bool Generator, string Reason)
{
    /// <summary>SQNR bounds with a range method other than minmax, where they differ from <see cref="Sqnr"/>.</summary>
    public IReadOnlyDictionary<string, double> MethodSqnr { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>Int8 layers whose predictor kernel stays float (between DequantizeLinear and QuantizeLinear).</summary>
    public int FloatLayers { get; init; }

    /// <summary>The SQNR bound (dB) when calibrated with <paramref name="method"/>.</summary>
    public double SqnrWith(string method) => MethodSqnr.TryGetValue(method, out var db) ? db : Sqnr;

    /// <summary>SQNR bound when the list does not set one: int8 through two int8 layers and the op.</summary>
    public const double DefaultSqnr = 25;

    /// <summary>The list, read from the repository.</summary>
    public static IReadOnlyList<SweepCase> All { get; } = Parse(File.ReadAllLines(
        Path.Combine(TestData.RepoRoot, "tests", "CompressBuild.Core.Tests", "Quantization", "int8-op-sweep.txt")));

    /// <summary>The case of <paramref name="op"/>.</summary>
    public static SweepCase Of(string op) => All.Single(c => c.Op == op);

    /// <summary>Parses the list (lines starting with # are comments).</summary>
    public static IReadOnlyList<SweepCase> Parse(IEnumerable<string> lines)
    {
        var result = new List<SweepCase>();
        foreach (var raw in lines)
        {
            int hash = raw.IndexOf('#');
            string reason = hash >= 0 ? raw[(hash + 1)..].Trim() : "";
            var parts = (hash >= 0 ? raw[..hash] : raw).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            if (parts.Length < 3 || parts[2] is not ("float" or "int8" or "layer" or "removed" or "skip"))
                throw new FormatException($"bad sweep line: {raw}");
            var keys = parts.Skip(3).Select(p => p.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "", StringComparer.Ordinal);
            result.Add(new SweepCase(parts[0], parts[1], parts[2],
                keys.TryGetValue("const", out var c) ? c.Split(',') : Array.Empty<string>(),
                keys.TryGetValue("sqnr", out var s) ? double.Parse(s, CultureInfo.InvariantCulture) : DefaultSqnr,
                keys.TryGetValue("agree", out var a) ? double.Parse(a, CultureInfo.InvariantCulture) : null,
                !keys.TryGetValue("gen", out var g) || g != "skip",
                reason)
            {
                MethodSqnr = keys.Where(kv => kv.Key.StartsWith("sqnr.", StringComparison.Ordinal))
                    .ToDictionary(kv => kv.Key["sqnr.".Length..], kv => double.Parse(kv.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal),
                FloatLayers = keys.TryGetValue("floatlayers", out var fl) ? int.Parse(fl, CultureInfo.InvariantCulture) : 0,
            });
        }
        return result;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Op} ({Test})";
}

/// <summary>A compressed sweep case: the wrapped float model, its samples and what the compressor made of it.</summary>
public sealed record SweepRun(SweepCase Case, Int8OpSweep Sweep, Tensor Samples, CompressionOutput Output)
{
    /// <summary>
    /// The ops the report says run in float between DequantizeLinear and QuantizeLinear, without the
    /// wrapper's own (sweep_*): "name (Op)".
    /// </summary>
    public IReadOnlyList<string> FloatOps { get; } = Output.Report.Steps
        .Where(s => s.StartsWith(FloatStep, StringComparison.Ordinal))
        .SelectMany(s => s[FloatStep.Length..].Split(", "))
        .Where(e => !e.StartsWith("sweep_", StringComparison.Ordinal)).ToList();

    private const string FloatStep = "run in float between DequantizeLinear and QuantizeLinear: ";
}

/// <summary>
/// A suite node test wrapped so its op sits between int8 layers, for static quantization: the model
/// takes one input z [1, K] (a fixed batch of one); each wrapped float input x (last dim d) is
/// Slice(z) → Reshape → MatMul(W_in[d, d]); each float output y becomes MatMul(y, W_out[d, d]).
/// W = I + noise (seeded), so every op input and output is the operand or result of an int8 MatMul.
/// Other inputs (indices, shapes, axes, listed constants) become initializers with the test's values;
/// non-float outputs pass through unchanged.
/// </summary>
public sealed class Int8OpSweep
{
    /// <summary>Name of the wrapped model's single input.</summary>
    public const string InputName = "sweep_input";

    private readonly List<(string Name, int[] Shape, double[,] Inverse)> _wrapped = new();

    private Int8OpSweep(Model model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        Model = model;
        TestInputs = inputs;
    }

    /// <summary>The wrapped float model.</summary>
    public Model Model { get; }

    /// <summary>The suite test's own inputs (data set 0).</summary>
    public IReadOnlyDictionary<string, Tensor> TestInputs { get; }

    /// <summary>Width K of the single input.</summary>
    public int Width => _wrapped.Sum(w => ShapeMath.ElementCount(w.Shape));

    /// <summary>Wraps the suite test of <paramref name="c"/> (Inconclusive when the suite is not installed).</summary>
    public static Int8OpSweep Wrap(SweepCase c, int seed = 1)
    {
        string dir = Path.Combine(TestData.RequireOnnxSuite(), c.Test);
        var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
        var data = OnnxSuiteCatalog.DataSets(dir, model)[0];
        var sweep = new Int8OpSweep(model, data.Inputs);
        var graph = model.Graph;
        // The quantizer needs QuantizeLinear with per-axis DequantizeLinear (13); the listed tests' ops
        // mean the same at 13 as at their own opset.
        string domain = model.OpsetImports.ContainsKey("") ? "" : "ai.onnx";
        if (model.Opset < 13) model.OpsetImports[domain] = 13;

        var rng = new Random(seed);
        var front = new List<Node>();
        int offset = 0;
        foreach (var input in graph.RuntimeInputs.ToList())
        {
            var value = data.Inputs[input.Name];
            graph.Inputs.Remove(input);
            if (value.DataType != DataType.Float || value.Rank == 0 || c.Constants.Contains(input.Name))
            {
                graph.Initializers[input.Name] = value;
                continue;
            }
            int d = value.Shape[^1], count = value.Length;
            var w = NearIdentity(rng, d);
            string flat = graph.UniqueName($"sweep_{input.Name}_flat"), shaped = graph.UniqueName($"sweep_{input.Name}_shaped");
            front.Add(new Node("Slice", new[] { InputName, Const(graph, "starts", offset), Const(graph, "ends", offset + count), Const(graph, "axes", 1) },
                new[] { flat }, $"sweep_slice_{input.Name}"));
            front.Add(new Node("Reshape", new[] { flat, Const(graph, "shape", value.Shape.Select(x => (long)x).ToArray()) }, new[] { shaped }, $"sweep_reshape_{input.Name}"));
            front.Add(new Node("MatMul", new[] { shaped, Weight(graph, $"sweep_w_{input.Name}", w) }, new[] { input.Name }, $"sweep_matmul_{input.Name}"));
            sweep._wrapped.Add((input.Name, value.Shape, Inverse(w)));
            offset += count;
        }
        if (offset == 0) Assert.Inconclusive($"{c}: the test has no float input to wrap");
        graph.Inputs.Insert(0, new ValueInfo(InputName, DataType.Float, new Dim[] { 1, offset }));
        graph.Nodes.InsertRange(0, front);

        for (int k = 0; k < graph.Outputs.Count; k++)
        {
            var output = graph.Outputs[k];
            if (output.ElementType != DataType.Float) continue;
            var expected = data.Outputs.First(o => o.Name == output.Name).Expected;
            if (expected.Rank == 0) Assert.Inconclusive($"{c}: rank-0 output {output.Name} cannot be wrapped");
            string name = graph.UniqueName(output.Name + "_sweep");
            graph.Nodes.Add(new Node("MatMul", new[] { output.Name, Weight(graph, $"sweep_w_{output.Name}_out", NearIdentity(rng, expected.Shape[^1])) },
                new[] { name }, $"sweep_matmul_{output.Name}_out"));
            graph.Outputs[k] = new ValueInfo(name, DataType.Float, Dim.FromShape(expected.Shape));
        }
        graph.ValueInfos.Clear();
        return sweep;
    }

    /// <summary>Calibration samples of every case: a few hundred, as static quantization expects.</summary>
    public const int CalibrationSamples = 256;

    /// <summary>
    /// Wraps the case and compresses it as the build would with <c>Quantize=int8 Activations=int8</c>,
    /// calibrated with <paramref name="calibration"/> on <see cref="CalibrationSamples"/> samples (written as .npy).
    /// </summary>
    public static SweepRun Compress(SweepCase c, string className, string ns = "Sweep", string calibration = "minmax")
    {
        var sweep = Wrap(c);
        var samples = sweep.Samples(CalibrationSamples);
        string dir = TestData.TempDirectory("int8-sweep");
        string model = Path.Combine(dir, className + ".onnx"), data = Path.Combine(dir, "calibration.npy");
        OnnxModel.Save(sweep.Model, model);
        NpyFile.Write(data, samples);
        var output = Compressor.Run(model, new CompressionSettings
        {
            ClassName = className,
            Namespace = ns,
            Quantize = "int8",
            Activations = "int8",
            CalibrationData = data,
            Calibration = calibration,
        });
        return new SweepRun(c, sweep, samples, output);
    }

    /// <summary>
    /// <paramref name="count"/> samples of the single input [count, K]: sample 0 reproduces the test's
    /// inputs, the others scale each element by a seeded factor in [0.7, 1.3] (signs, zeros and so the
    /// domains of Log, Sqrt, Pow stay as the test has them).
    /// </summary>
    public Tensor Samples(int count, int seed = 2)
    {
        var rng = new Random(seed);
        int width = Width;
        var z = new float[count * width];
        for (int s = 0; s < count; s++)
        {
            int offset = 0;
            foreach (var (name, shape, inverse) in _wrapped)
            {
                var x = TestInputs[name].Floats;
                int d = shape[^1];
                var row = new double[d];
                for (int r = 0; r < x.Length / d; r++)
                {
                    for (int j = 0; j < d; j++) row[j] = x[r * d + j] * (s == 0 ? 1.0 : 0.7 + 0.6 * rng.NextDouble());
                    // x' = x · W⁻¹, so that x' · W = x.
                    for (int j = 0; j < d; j++)
                    {
                        double v = 0;
                        for (int i = 0; i < d; i++) v += row[i] * inverse[i, j];
                        z[s * width + offset + r * d + j] = (float)v;
                    }
                }
                offset += x.Length;
            }
        }
        return Tensor.FromArray(z, count, width);
    }

    /// <summary>One sample of <paramref name="samples"/> as a [1, K] input.</summary>
    public static Tensor Sample(Tensor samples, int index)
    {
        int width = samples.Shape[1];
        return Tensor.FromArray(samples.Floats.AsSpan(index * width, width).ToArray(), 1, width);
    }

    /// <summary>Signal-to-noise ratio in dB of <paramref name="actual"/> against <paramref name="reference"/> (infinite when equal).</summary>
    public static double SqnrDb(IReadOnlyList<Tensor> reference, IReadOnlyList<Tensor> actual)
    {
        double signal = 0, noise = 0;
        for (int t = 0; t < reference.Count; t++)
            for (int i = 0; i < reference[t].Length; i++)
            {
                double f = reference[t].GetDouble(i), e = actual[t].GetDouble(i) - f;
                signal += f * f;
                noise += e * e;
            }
        return noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
    }

    /// <summary>Fraction of elements of <paramref name="actual"/> equal to <paramref name="reference"/>'s.</summary>
    public static double Equal(IReadOnlyList<Tensor> reference, IReadOnlyList<Tensor> actual)
    {
        long same = 0, all = 0;
        for (int t = 0; t < reference.Count; t++)
            for (int i = 0; i < reference[t].Length; i++, all++)
                if (reference[t].GetDouble(i).Equals(actual[t].GetDouble(i))) same++;
        return all == 0 ? 1 : (double)same / all;
    }

    private static string Const(Graph graph, string hint, params long[] values)
    {
        string name = graph.UniqueName("sweep_" + hint);
        graph.Initializers[name] = Tensor.FromArray(values, values.Length);
        return name;
    }

    private static string Weight(Graph graph, string hint, double[,] w)
    {
        int d = w.GetLength(0);
        var data = new float[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) data[i * d + j] = (float)w[i, j];
        string name = graph.UniqueName(hint);
        graph.Initializers[name] = Tensor.FromArray(data, d, d);
        return name;
    }

    // I + N(0, 0.15²/d): well conditioned, yet every output mixes all inputs.
    private static double[,] NearIdentity(Random rng, int d)
    {
        var w = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
                double noise = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * 0.15 / Math.Sqrt(d);
                w[i, j] = (i == j ? 1 : 0) + (float)noise;
            }
        return w;
    }

    // Gauss-Jordan with partial pivoting, in double, of the float-rounded weights.
    private static double[,] Inverse(double[,] w)
    {
        int d = w.GetLength(0);
        var a = new double[d, 2 * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++) a[i, j] = (float)w[i, j];
            a[i, d + i] = 1;
        }
        for (int col = 0; col < d; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < d; r++)
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            for (int j = 0; j < 2 * d; j++) (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
            double p = a[col, col];
            for (int j = 0; j < 2 * d; j++) a[col, j] /= p;
            for (int r = 0; r < d; r++)
            {
                if (r == col || a[r, col] == 0) continue;
                double f = a[r, col];
                for (int j = 0; j < 2 * d; j++) a[r, j] -= f * a[col, j];
            }
        }
        var inv = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) inv[i, j] = a[i, d + j];
        return inv;
    }
}
