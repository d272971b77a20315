using System.Globalization;
using System.Security.Cryptography;
using CompressBuild.Core.Analysis;
using CompressBuild.Core.Data;
using CompressBuild.Core.Evaluation;
using CompressBuild.Core.Execution;
using CompressBuild.Core.Passes;
using CompressBuild.Core.Planning;
using CompressBuild.Core.Quantization;
using CompressBuild.Core.Shapes;
using CompressBuild.Plan;

namespace CompressBuild.Core.Compression;

/// <summary>Everything one compression produces, before it is written.</summary>
public sealed record CompressionOutput(Model CompressedModel, PlanResult Plan, CompressionReport Report);

/// <summary>
/// What <c>compressbuild compress</c> and the build do for one model: optimize the graph, apply the
/// requested techniques, plan the predictor, measure, and write the outputs atomically.
/// </summary>
public static class Compressor
{
    /// <summary>Samples compared when verifying without evaluation data.</summary>
    public const int VerificationSamples = 16;

    /// <summary>Runs the compression (nothing is written; see <see cref="Write"/>).</summary>
    public static CompressionOutput Run(string modelPath, CompressionSettings settings)
    {
        string file = Path.GetFileName(modelPath);
        RefuseUnimplemented(settings, file);
        var model = OnnxModel.Load(modelPath);
        var sourceBytes = File.ReadAllBytes(modelPath);
        string className = settings.ClassName.Length > 0 ? settings.ClassName : CSharpNames.Type(Path.GetFileNameWithoutExtension(modelPath));
        var original = OnnxModel.Parse(sourceBytes, Path.GetDirectoryName(Path.GetFullPath(modelPath)), file);
        var originalStats = ModelStats.Of(original);

        var steps = new List<string>();
        var passCounts = PassPipeline.Optimize().Run(model);
        var applied = passCounts.Where(p => p.Value > 0).Select(p => $"{p.Key} x{p.Value}").ToList();
        steps.Add("optimize graph: " + (applied.Count == 0 ? "nothing to do" : string.Join(", ", applied)));
        ShapeInference.Run(model, strict: true);

        bool perChannel = settings.Granularity == "per-channel";
        var staticInt8 = settings.Activations == "int8" ? StaticQuantization.Run(model, settings, file, steps) : null;
        var encodings = staticInt8 is null ? WeightQuantization.Encodings(model, settings.Quantize, perChannel) : new Dictionary<string, ConstantEncoding>();
        MixedPrecisionResult? mixed = staticInt8?.Mixed;
        string higher = "float";
        if (staticInt8 is null && settings.MaxAccuracyDrop is not null && WeightOnlyMixedPrecision.Run(model, settings, file, perChannel, encodings, steps) is { } m)
            (encodings, mixed, higher) = m;
        string precision = staticInt8 is not null
            ? $"int8 static: int8 weights ({(perChannel ? "per-channel" : "per-tensor")} symmetric), uint8 activations ({settings.Calibration} calibration)"
            : settings.Quantize switch
        {
            "fp16" => "fp16 weights",
            "int8" => $"int8 weights ({(perChannel ? "per-channel" : "per-tensor")} symmetric)",
            "int4" or "int2" => LowBitPrecision(settings.Quantize, perChannel),
            _ => "fp32",
        };
        if (mixed is { } mp && mp.HighPrecision.Count > 0) precision += $", {mp.HighPrecision.Count} layer(s) kept at {higher}";
        if (encodings.Count > 0) steps.Add($"quantize weights: {precision}, {encodings.Count} tensor(s)" + (settings.Quantize is "int4" or "int2" ? LowBitNote(encodings) : ""));

        var compressed = OnnxModel.Parse(OnnxModel.ToBytes(staticInt8?.Qdq ?? model), Path.GetDirectoryName(Path.GetFullPath(modelPath)), file);
        WeightQuantization.Apply(compressed, encodings);
        compressed.Metadata.RemoveAll(kv => kv.Key.StartsWith("compressbuild.", StringComparison.Ordinal));
        compressed.Metadata.Add(new("compressbuild.compression", precision));
        compressed.ProducerName = "CompressBuild";
        compressed.ProducerVersion = typeof(Compressor).Assembly.GetName().Version?.ToString(3) ?? "";

        string summary = precision + (settings.Target == "generic" ? "" : $", target {settings.Target}");
        var plan = Planner.Build(staticInt8?.PlanModel ?? model, new PlanOptions
        {
            ClassName = className,
            Namespace = settings.Namespace,
            SourceModel = file,
            SourceSha256 = Convert.ToHexStringLower(SHA256.HashData(sourceBytes)),
            Compression = summary,
            Target = settings.Target,
            Encodings = encodings,
            Notes = new[] { $"Compressed from {file} by CompressBuild: {summary}." },
        });
        steps.Add($"plan predictor: {plan.Plan.Steps.Count} step(s), arena {plan.Plan.ArenaBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes, weights as {(plan.Plan.Weights.Storage == WeightStorage.Literal ? "literal" : "resource")}");

        var metrics = Measure(original, compressed, settings, modelPath);
        var stats = ModelStats.Of(model);
        var report = new CompressionReport
        {
            Model = file,
            ClassName = className,
            Compression = summary,
            OriginalBytes = originalStats.InitializerBytes,
            CompressedBytes = plan.Weights.Length,
            OriginalFileBytes = sourceBytes.Length,
            CompressedFileBytes = OnnxModel.ToBytes(compressed).Length,
            Parameters = stats.Parameters,
            NonzeroParameters = stats.NonzeroParameters,
            ArenaBytes = plan.Plan.ArenaBytes,
            Macs = stats.MacsPerSample ?? 0,
            WeightStorage = plan.Plan.Weights.Storage == WeightStorage.Literal ? "literal" : "resource",
            Target = settings.Target,
            Layers = Layers(model, encodings, staticInt8?.Result.Layers, mixed),
            Steps = steps,
            Metrics = metrics,
        };
        return new CompressionOutput(compressed, plan, report);
    }

    /// <summary>
    /// Writes the outputs to <paramref name="outDir"/>: <c>{Class}.onnx</c>, <c>{Class}.plan</c>,
    /// the weights (<c>.weights.b64</c> or <c>.weights.bin</c>), <c>{Class}.report.json</c> and
    /// <c>.report.md</c>. Each file goes through a temporary file; returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> Write(CompressionOutput output, string outDir)
    {
        Directory.CreateDirectory(outDir);
        var plan = output.Plan.Plan;
        string Path_(string name) => Path.Combine(outDir, name);
        var files = new List<string>();
        // Data first, plan last: a reader that sees a new plan also sees its weights.
        string weights = Path_(plan.Weights.File);
        if (plan.Weights.Storage == WeightStorage.Literal)
            AtomicFile.WriteAllText(weights, Base64Lines(output.Plan.Weights));
        else
            AtomicFile.WriteAllBytes(weights, output.Plan.Weights);
        files.Add(weights);
        // A stale blob of the other storage kind would be picked up by nothing but confuses people.
        foreach (var stale in new[] { $"{plan.ClassName}.weights.b64", $"{plan.ClassName}.weights.bin" })
            if (stale != plan.Weights.File && File.Exists(Path_(stale))) File.Delete(Path_(stale));
        OnnxModel.Save(output.CompressedModel, Path_($"{plan.ClassName}.onnx"));
        files.Add(Path_($"{plan.ClassName}.onnx"));
        AtomicFile.WriteAllText(Path_($"{plan.ClassName}.report.json"), output.Report.ToJson());
        AtomicFile.WriteAllText(Path_($"{plan.ClassName}.report.md"), output.Report.ToMarkdown());
        files.Add(Path_($"{plan.ClassName}.report.json"));
        files.Add(Path_($"{plan.ClassName}.report.md"));
        AtomicFile.WriteAllText(Path_($"{plan.ClassName}.plan"), PlanText.Write(plan));
        files.Add(Path_($"{plan.ClassName}.plan"));
        return files;
    }

    /// <summary>Base64 in lines of 76 characters (diff-friendly, and what the generator reads).</summary>
    public static string Base64Lines(byte[] bytes)
    {
        string b64 = Convert.ToBase64String(bytes);
        var sb = new System.Text.StringBuilder(b64.Length + b64.Length / 76 + 2);
        for (int i = 0; i < b64.Length; i += 76) sb.Append(b64, i, Math.Min(76, b64.Length - i)).Append('\n');
        return sb.ToString();
    }

    /// <summary>The one-line summary printed in build output.</summary>
    public static string SummaryLine(CompressionReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        string ratio = r.OriginalBytes == 0 ? "" : string.Create(inv, $" ({100.0 * r.CompressedBytes / r.OriginalBytes:F1}%)");
        string metric = "";
        if (r.Metrics is { } m && m.Original.TryGetValue("top1", out var a) && m.Compressed.TryGetValue("top1", out var b))
            metric = string.Create(inv, $", top-1 {a:F4} -> {b:F4}");
        else if (r.Metrics is { } m2 && m2.Compressed.TryGetValue("agreement", out var agree))
            metric = string.Create(inv, $", agreement {agree:P2}");
        return string.Create(inv, $"{r.ClassName}: {r.Model} weights {r.OriginalBytes:N0} B -> {r.CompressedBytes:N0} B{ratio}, {r.Compression}, arena {r.ArenaBytes:N0} B{metric}");
    }

    private static string LowBitPrecision(string quantize, bool perChannel) =>
        $"{quantize} weights ({(perChannel ? $"scales per block of {(quantize == "int4" ? WeightQuantization.DefaultInt4Block : WeightQuantization.DefaultInt2Block)}" : "one scale")}, fp16, searched)";

    /// <summary>For int4/int2: which weights fell back to int8, and how the ONNX model expresses the levels.</summary>
    private static string LowBitNote(IReadOnlyDictionary<string, ConstantEncoding> encodings)
    {
        var fallback = encodings.Where(e => e.Value.Storage == ConstantStorage.Int8).Select(e => e.Key).OrderBy(n => n, StringComparer.Ordinal).ToList();
        return (encodings.Values.Any(e => e.IsPacked) ? "; ONNX: int8 levels, Cast, Mul by block scales, Reshape (int4 types need opset 21)" : "")
            + (fallback.Count == 0 ? "" : $"; int8 for weights the packed kernels cannot read: {string.Join(", ", fallback)}");
    }

    private static void RefuseUnimplemented(CompressionSettings s, string file)
    {
        string? what =
            s.Prune > 0 ? "Prune"
            : s.LowRank > 0 || s.LowRankAuto ? "LowRank"
            : s.Student.Length > 0 ? "Student"
            : null;
        if (what is not null)
            throw new CompressBuildException(ErrorCodes.NotImplementedSetting,
                $"{file}: {what} is not available in this version of CompressBuild (supported now: Quantize, Activations, Granularity, Calibration, CalibrationData, MaxAccuracyDrop, EvaluationData(+Labels), DataScale, Target, Seed). Remove the setting.");
    }

    private static ReportMetrics? Measure(Model original, Model compressed, CompressionSettings s, string modelPath)
    {
        if (s.EvaluationData.Length == 0) return null;
        var data = DataSet.Load(s.EvaluationData, s.EvaluationLabels.Length > 0 ? s.EvaluationLabels : null, s.DataScale);
        var o = new Dictionary<string, double>(StringComparer.Ordinal);
        var c = new Dictionary<string, double>(StringComparer.Ordinal);
        if (data.Labels is not null)
        {
            o["top1"] = Evaluator.Top1(original, data).Accuracy;
            c["top1"] = Evaluator.Top1(compressed, data).Accuracy;
        }
        var agreement = Evaluator.Compare(original, compressed, data);
        c["agreement"] = agreement.Agreement;
        c["max_abs_error"] = agreement.MaxAbsError;
        c["mean_abs_error"] = agreement.MeanAbsError;
        return new ReportMetrics(o, c);
    }

    private static IReadOnlyList<LayerReport> Layers(Model model, IReadOnlyDictionary<string, ConstantEncoding> encodings, IReadOnlyList<QdqLayer>? quantized, MixedPrecisionResult? mixed)
    {
        var staticLayers = quantized?.ToDictionary(l => l.Node, StringComparer.Ordinal);
        var sensitivity = mixed?.Layers.ToDictionary(l => l.Layer, l => l.Drop, StringComparer.Ordinal);
        var graph = model.Graph;
        var layers = new List<LayerReport>();
        foreach (var n in graph.Nodes)
        {
            if (n.OpType is not ("Conv" or "ConvTranspose" or "Gemm" or "MatMul" or "LSTM" or "GRU" or "PRelu" or "BatchNormalization" or "LayerNormalization")) continue;
            var weight = n.Inputs.Skip(1).FirstOrDefault(i => graph.Initializers.ContainsKey(i));
            if (weight is null) continue;
            var w = graph.Initializers[weight];
            encodings.TryGetValue(weight, out var enc);
            int bits = enc.Bits;
            long zeros = 0;
            for (int i = 0; i < w.Length; i++)
                if (w.GetDouble(i) == 0) zeros++;
            long bytes = n.Inputs.Skip(1).Where(i => graph.Initializers.ContainsKey(i)).Sum(i =>
            {
                var t = graph.Initializers[i];
                encodings.TryGetValue(i, out var e);
                return WeightQuantization.StoredBytes(t, e);
            });
            string name = n.Name.Length > 0 ? n.Name : n.Outputs[0];
            var layer = new LayerReport(name, n.OpType, w.Shape, bits, w.Length == 0 ? 0 : (double)zeros / w.Length, bytes);
            if (staticLayers is not null && staticLayers.TryGetValue(name, out var q))
                layer = layer with
                {
                    Bits = q.Bits,
                    Bytes = q.Bytes,
                    ScaleMin = q.Bits < 32 ? q.MinScale : null,
                    ScaleMax = q.Bits < 32 ? q.MaxScale : null,
                    SqnrDb = double.IsFinite(q.Sqnr) ? Math.Round(q.Sqnr, 2) : null,
                };
            if (sensitivity is not null && sensitivity.TryGetValue(name, out var drop)) layer = layer with { Sensitivity = Math.Round(drop, 4) };
            layers.Add(layer);
        }
        return layers;
    }
}
