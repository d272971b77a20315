using System.Globalization;
using CompressBuild.Core.Data;

namespace CompressBuild.Core.Quantization;

/// <summary>
/// Static int8 quantization of a float model into QDQ form (as ONNX Runtime's
/// <c>quantize_static</c> writes it, <c>QuantFormat.QDQ</c>): int8 symmetric weights (per channel
/// or per tensor), int32 biases, uint8 asymmetric activations from calibration, with cross-layer
/// equalization and bias correction kept only where they make the calibration-set result better.
/// </summary>
public static class QdqQuantizer
{
    /// <summary>Quantizes a copy of <paramref name="optimizedFloatModel"/> (which is left as it is).</summary>
    /// <param name="optimizedFloatModel">The model after <c>PassPipeline.Optimize()</c> and shape inference.</param>
    /// <param name="calibration">Samples of the model's single input; needed when <see cref="QdqOptions.Activations"/> is set.</param>
    /// <param name="options">Methods and choices.</param>
    public static QdqResult Quantize(Model optimizedFloatModel, DataSet? calibration, QdqOptions options)
    {
        ArgumentNullException.ThrowIfNull(optimizedFloatModel);
        ArgumentNullException.ThrowIfNull(options);
        var method = Method(options.Calibration);
        var steps = new List<string>();
        var model = Copy(optimizedFloatModel);
        NameNodes(model.Graph);
        bool perChannel = QdqOpset.Prepare(model, options.PerChannel, steps);
        var plan = QdqPlan.Build(model, options.FloatNodes, options.Activations);
        var data = calibration is null ? null : Prepare(model, calibration, options, steps);

        QdqCandidate chosen;
        if (!options.Activations)
        {
            chosen = QdqCandidate.Build(model, plan, new Dictionary<string, ActivationParams>(), perChannel, null);
        }
        else
        {
            if (data is null)
                throw new CompressBuildException(ErrorCodes.InvalidSetting, $"{model.DisplayName}: int8 activations need calibration data; set CalibrationData.");
            chosen = StaticInt8(model, plan, data, method, options, perChannel, steps);
        }

        string granularity = perChannel ? "per-channel" : "per-tensor";
        steps.Add(options.Activations
            ? $"quantize: int8 symmetric weights ({granularity}) and int32 bias on {plan.Layers.Count} layer(s), uint8 activations on {plan.Tensors.Count} tensor(s)"
            : $"quantize: int8 symmetric weights ({granularity}) on {plan.Layers.Count} layer(s), activations float");
        if (plan.FloatOps.Count > 0 && options.Activations) steps.Add($"run in float between DequantizeLinear and QuantizeLinear: {string.Join(", ", plan.FloatOps)}");
        var layers = Layers(chosen, plan, data);
        return new QdqResult(chosen.Qdq, layers, plan.FloatOps, steps);
    }

    private static QdqCandidate StaticInt8(Model model, QdqPlan plan, DataSet data, CalibrationMethod method, QdqOptions options, bool perChannel, List<string> steps)
    {
        var inv = CultureInfo.InvariantCulture;
        var reference = QdqRuns.Outputs(model, data);
        QdqCandidate Calibrated(Model floatModel)
        {
            var ranges = Calibrator.Collect(floatModel, data, plan.Calibrated.ToList(), histograms: method != CalibrationMethod.MinMax);
            var parameters = ranges.ToDictionary(kv => kv.Key, kv =>
            {
                var (min, max) = RangeEstimator.Range(kv.Value, method, options.Percentile);
                var (scale, zp) = RangeEstimator.UInt8(min, max);
                return new ActivationParams(scale, zp);
            }, StringComparer.Ordinal);
            return QdqCandidate.Build(floatModel, plan, parameters, perChannel, null).Scored(data, reference);
        }

        var chosen = Calibrated(model);
        steps.Add(string.Create(inv, $"calibrate: {data.Count:N0} sample(s), {options.Calibration} ranges of {plan.Calibrated.Count()} tensor(s); calibration-set {chosen.Score}"));

        if (options.CrossLayerEqualization)
        {
            var equalized = Copy(model);
            int pairs = CrossLayerEqualization.Apply(equalized);
            if (pairs == 0)
            {
                steps.Add("cross-layer equalization: no Conv/Gemm → ReLU → Conv/Gemm chain");
            }
            else
            {
                var candidate = Calibrated(equalized);
                bool keep = candidate.Score.CompareTo(chosen.Score) >= 0;
                steps.Add($"cross-layer equalization: {pairs} layer pair(s), calibration-set {candidate.Score}: {(keep ? "kept" : "turned off (worse than without)")}");
                if (keep) chosen = candidate;
            }
        }

        if (options.BiasCorrection && chosen.Parameters.Count > 0)
        {
            var basis = chosen;
            var shifts = BiasCorrection.Measure(basis.Float, plan, data, s => QdqCandidate.Build(basis.Float, plan, basis.Parameters, perChannel, s).Qdq);
            if (shifts.Count == 0)
            {
                steps.Add("bias correction: no Conv/Gemm layer");
            }
            else
            {
                var candidate = QdqCandidate.Build(basis.Float, plan, basis.Parameters, perChannel, shifts).Scored(data, reference);
                bool keep = candidate.Score.CompareTo(chosen.Score) >= 0;
                steps.Add($"bias correction: {shifts.Count} layer(s), calibration-set {candidate.Score}: {(keep ? "kept" : "turned off (worse than without)")}");
                if (keep) chosen = candidate;
            }
        }
        return chosen;
    }

    private static List<QdqLayer> Layers(QdqCandidate chosen, QdqPlan plan, DataSet? data)
    {
        var graph = chosen.Float.Graph;
        var layerNodes = graph.TopologicalOrder().Where(n => QdqPlan.IsLayerOp(n.OpType)).ToList();
        var outputs = layerNodes.ToDictionary(n => n.Name, n => plan.LayerOutputs.GetValueOrDefault(n.Name, n.Outputs[0]), StringComparer.Ordinal);
        var sqnr = data is null ? null : Sqnr(chosen, outputs, data);
        var layers = new List<QdqLayer>();
        foreach (var n in layerNodes)
        {
            double db = sqnr?[n.Name] ?? double.NaN;
            if (chosen.Weights.TryGetValue(n.Name, out var w))
            {
                layers.Add(new QdqLayer(n.Name, n.OpType, 8, w.Scales.Min(), w.Scales.Max(), db, w.Bytes));
                continue;
            }
            long bytes = n.Inputs.Skip(1).Where(i => i.Length > 0 && graph.Initializers.ContainsKey(i))
                .Sum(i => (long)graph.Initializers[i].Length * DataTypes.Size(graph.Initializers[i].DataType));
            layers.Add(new QdqLayer(n.Name, n.OpType, 32, 0, 0, db, bytes));
        }
        return layers;
    }

    // Signal-to-quantization-noise ratio of each layer's output: 10·log10(Σ f² / Σ (q − f)²).
    private static Dictionary<string, double> Sqnr(QdqCandidate chosen, IReadOnlyDictionary<string, string> outputs, DataSet data)
    {
        var signal = outputs.Keys.ToDictionary(k => k, _ => 0.0, StringComparer.Ordinal);
        var noise = outputs.Keys.ToDictionary(k => k, _ => 0.0, StringComparer.Ordinal);
        QdqRuns.ForEachBatch(new[] { chosen.Float, chosen.Qdq }, data, (_, values) =>
        {
            foreach (var (layer, tensor) in outputs)
            {
                var f = values[0](tensor).Floats;
                var q = values[1](tensor).Floats;
                for (int i = 0; i < f.Length; i++)
                {
                    signal[layer] += (double)f[i] * f[i];
                    noise[layer] += ((double)q[i] - f[i]) * ((double)q[i] - f[i]);
                }
            }
        });
        return outputs.Keys.ToDictionary(k => k, k => noise[k] == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal[k] / noise[k]), StringComparer.Ordinal);
    }

    private static CalibrationMethod Method(string name) => name switch
    {
        "minmax" => CalibrationMethod.MinMax,
        "percentile" => CalibrationMethod.Percentile,
        "entropy" => CalibrationMethod.Entropy,
        "mse" => CalibrationMethod.Mse,
        _ => throw new CompressBuildException(ErrorCodes.InvalidSetting, $"Calibration '{name}' is not a range method; use minmax, percentile, entropy or mse."),
    };

    /// <summary>A deep copy of a model (through its serialized form).</summary>
    internal static Model Copy(Model model) =>
        OnnxModel.Parse(OnnxModel.ToBytes(model), model.SourcePath is null ? null : Path.GetDirectoryName(Path.GetFullPath(model.SourcePath)), model.DisplayName);

    // Layers are addressed by node name (FloatNodes, the report), so every node gets a unique one: an
    // unnamed node is called by its first output, as the compression report shows unnamed nodes, so
    // the report finds the quantizer's layers; clashes get a numbered name.
    private static void NameNodes(Graph graph)
    {
        var taken = graph.Nodes.Where(n => n.Name.Length > 0).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        {
            if (n.Name.Length > 0 && seen.Add(n.Name)) continue;
            string hint = n.Name.Length == 0 && n.Outputs.FirstOrDefault() is { Length: > 0 } output ? output : $"{n.OpType}_{n.Outputs.FirstOrDefault(o => o.Length > 0)}";
            string name = hint;
            for (int k = 1; taken.Contains(name) || seen.Contains(name); k++) name = $"{hint}_{k}";
            n.Name = name;
            taken.Add(name);
            seen.Add(name);
        }
    }

    // In the model's input shape, at most MaxCalibrationSamples, chosen by Seed, kept in data order.
    private static DataSet Prepare(Model model, DataSet data, QdqOptions options, List<string> steps)
    {
        var inputs = model.Graph.RuntimeInputs.ToList();
        if (inputs.Count != 1)
            throw new CompressBuildException(ErrorCodes.InputMismatch, $"{model.DisplayName} has {inputs.Count} inputs; calibration supports single-input models.");
        var set = inputs[0].Shape is null ? data : data.ReshapedTo(inputs[0].Shape!, inputs[0].Name);
        set = WholeBatches(set, inputs[0], model, steps);
        if (set.Count <= options.MaxCalibrationSamples) return set;
        var random = new Random(options.Seed);
        var indices = Enumerable.Range(0, set.Count).ToArray();
        for (int i = 0; i < options.MaxCalibrationSamples; i++)
        {
            int j = random.Next(i, indices.Length);
            (indices[i], indices[j]) = (indices[j], indices[i]);
        }
        var chosen = indices.AsSpan(0, options.MaxCalibrationSamples).ToArray();
        Array.Sort(chosen);
        steps.Add(string.Create(CultureInfo.InvariantCulture, $"calibration samples: {chosen.Length:N0} of {set.Count:N0} (seed {options.Seed})"));
        return new DataSet(set.Gather(chosen), set.Labels is null ? null : chosen.Select(i => set.Labels[i]).ToArray());
    }

    // A model with a fixed batch dimension runs whole batches only; the samples of a shorter tail are left out.
    private static DataSet WholeBatches(DataSet set, ValueInfo input, Model model, List<string> steps)
    {
        int usable = Calibrator.Batches(input, set.Count).Sum(b => b.Count);
        if (usable == set.Count) return set;
        if (usable == 0)
            throw new CompressBuildException(ErrorCodes.InputMismatch,
                $"{model.DisplayName} takes batches of exactly {input.Shape![0].Value} sample(s); the calibration data holds {set.Count}.");
        steps.Add(string.Create(CultureInfo.InvariantCulture, $"calibration samples: {usable:N0} of {set.Count:N0} (whole batches of the model's fixed batch size {input.Shape![0].Value})"));
        return new DataSet(set.Batch(0, usable), set.Labels?[..usable]);
    }
}
