using System.Globalization;
using CompressBuild.Core.Data;
using CompressBuild.Core.Evaluation;
using CompressBuild.Core.Passes;
using CompressBuild.Core.Quantization;
using CompressBuild.Core.Shapes;

namespace CompressBuild.Core.Compression;

/// <summary>What static int8 quantization produced for one model.</summary>
/// <param name="Qdq">The QDQ model written as <c>{Class}.onnx</c>.</param>
/// <param name="PlanModel">The same model with QDQ patterns fused into integer ops, which the planner plans.</param>
/// <param name="Result">The quantizer's layers, float ops and steps.</param>
/// <param name="Mixed">The mixed-precision search, when MaxAccuracyDrop was set.</param>
internal sealed record StaticQuantizationResult(Model Qdq, Model PlanModel, QdqResult Result, MixedPrecisionResult? Mixed);

/// <summary>
/// <c>Activations=int8</c>: calibrate, quantize to QDQ, optionally keep the most sensitive layers in
/// float until <c>MaxAccuracyDrop</c> holds, then fuse the QDQ patterns into integer ops for the predictor.
/// </summary>
internal static class StaticQuantization
{
    public static StaticQuantizationResult Run(Model optimized, CompressionSettings s, string file, List<string> steps)
    {
        if (s.Quantize is not ("int8" or "none"))
            throw new CompressBuildException(ErrorCodes.InvalidSetting,
                $"{file}: Activations=int8 quantizes weights to int8; it cannot be combined with Quantize={s.Quantize}. Use Quantize=int8 (or leave it unset).");
        if (s.CalibrationData.Length == 0)
            throw new CompressBuildException(ErrorCodes.MissingData,
                $"{file}: Activations=int8 needs CalibrationData (a few hundred to a few thousand representative inputs, contract section 4).");
        var calibration = DataSet.Load(s.CalibrationData, null, s.DataScale);
        var options = new QdqOptions
        {
            PerChannel = s.Granularity == "per-channel",
            Calibration = s.Calibration,
            Percentile = s.CalibrationPercentile,
            Seed = s.Seed,
        };
        QdqResult Quantize(IReadOnlySet<string> floatNodes) => QdqQuantizer.Quantize(optimized, calibration, options with { FloatNodes = floatNodes });
        // The search measures many configurations: without the CLE and bias-correction trials, which rarely move top-1.
        QdqResult Trial(IReadOnlySet<string> floatNodes) =>
            QdqQuantizer.Quantize(optimized, calibration, options with { FloatNodes = floatNodes, CrossLayerEqualization = false, BiasCorrection = false });

        var result = Quantize(new HashSet<string>(StringComparer.Ordinal));
        MixedPrecisionResult? mixed = null;
        if (s.MaxAccuracyDrop is { } bound)
        {
            var metric = AccuracyMetric.For(optimized, s, file);
            mixed = MixedPrecision.Search(result.Layers.Select(l => l.Node).ToList(), high => metric.Of(Trial(high).Model), metric.Float, bound);
            if (mixed.HighPrecision.Count > 0) result = Quantize(mixed.HighPrecision);
            steps.Add(metric.Describe(mixed, "float"));
        }
        steps.AddRange(result.Steps);

        var planModel = OnnxModel.Parse(OnnxModel.ToBytes(result.Model), null, file);
        var fused = PassPipeline.IntegerInference().Run(planModel);
        ShapeInference.Run(planModel, strict: true);
        var integerOps = planModel.Graph.Nodes.Where(n => n.OpType is "QLinearConv" or "QGemm" or "QLinearMatMul").Select(n => n.OpType).ToList();
        steps.Add($"predictor: integer kernels for {integerOps.Count} layer(s) ({string.Join(", ", integerOps.GroupBy(o => o).Select(g => $"{g.Key} x{g.Count()}"))})"
            + (fused.Any(p => p.Value > 0) ? "" : "; nothing fused"));
        return new StaticQuantizationResult(result.Model, planModel, result, mixed);
    }
}

/// <summary>
/// The metric mixed precision holds: top-1 accuracy in points with labels, else top-1 agreement
/// with the float model in points, on EvaluationData.
/// </summary>
internal sealed class AccuracyMetric
{
    private readonly DataSet _data;
    private readonly int[]? _floatPredictions;

    private AccuracyMetric(Model floatModel, DataSet data)
    {
        _data = data;
        if (data.Labels is null) _floatPredictions = Evaluator.Predict(floatModel, data);
        Float = Of(floatModel);
    }

    /// <summary>The float model's metric.</summary>
    public double Float { get; }

    /// <summary>Loads EvaluationData (and labels) for <paramref name="floatModel"/>; MaxAccuracyDrop needs them.</summary>
    public static AccuracyMetric For(Model floatModel, CompressionSettings s, string file)
    {
        if (s.EvaluationData.Length == 0)
            throw new CompressBuildException(ErrorCodes.MissingData,
                $"{file}: MaxAccuracyDrop needs EvaluationData (and EvaluationLabels for top-1 accuracy; without labels the bound is on agreement with the float model).");
        return new AccuracyMetric(floatModel, DataSet.Load(s.EvaluationData, s.EvaluationLabels.Length > 0 ? s.EvaluationLabels : null, s.DataScale));
    }

    /// <summary>The metric of <paramref name="model"/> in points.</summary>
    public double Of(Model model)
    {
        if (_data.Labels is not null) return 100.0 * Evaluator.Top1(model, _data).Accuracy;
        var predictions = Evaluator.Predict(model, _data);
        int agree = 0;
        for (int i = 0; i < predictions.Length; i++)
            if (predictions[i] == _floatPredictions![i]) agree++;
        return 100.0 * agree / predictions.Length;
    }

    /// <summary>The report step describing a mixed-precision decision.</summary>
    public string Describe(MixedPrecisionResult r, string highPrecision)
    {
        var inv = CultureInfo.InvariantCulture;
        string what = _data.Labels is null ? "top-1 agreement with the float model" : "top-1 accuracy";
        string kept = r.HighPrecision.Count == 0 ? "no layer needed it" : $"kept at {highPrecision}: {string.Join(", ", r.Layers.Where(l => l.KeptHigh).Select(l => l.Layer))}";
        return string.Create(inv, $"mixed precision on {_data.Count:N0} evaluation sample(s), {what}: float {Float:F2}, chosen {r.Metric:F2} ({(r.BoundHolds ? "within" : "MISSES")} the bound); {kept}; {r.Evaluations} configuration(s) measured");
    }
}
