using CompressBuild.Core.Planning;
using CompressBuild.Core.Quantization;

namespace CompressBuild.Core.Compression;

/// <summary>
/// <c>MaxAccuracyDrop</c> for weight-only precision: layers whose weights are int4/int2 fall back to
/// int8, int8 layers to float, most sensitive first, until the metric holds the bound.
/// </summary>
internal static class WeightOnlyMixedPrecision
{
    /// <summary>The encodings to use and the search, or null when the precision has no lower/higher pair.</summary>
    public static (Dictionary<string, ConstantEncoding> Encodings, MixedPrecisionResult Search, string Higher)? Run(
        Model optimized, CompressionSettings s, string file, bool perChannel, Dictionary<string, ConstantEncoding> low, List<string> steps)
    {
        string? higher = s.Quantize switch { "int4" or "int2" => "int8", "int8" => "none", _ => null };
        if (higher is null || low.Count == 0) return null;
        var high = WeightQuantization.Encodings(optimized, higher, perChannel);
        // A layer is a node reading encoded weights; its name is the node name (or its first output).
        var layers = optimized.Graph.Nodes
            .Select(n => (Name: n.Name.Length > 0 ? n.Name : n.Outputs[0], Weights: n.Inputs.Where(low.ContainsKey).ToList()))
            .Where(l => l.Weights.Count > 0).ToList();
        var weightsOf = layers.ToDictionary(l => l.Name, l => l.Weights, StringComparer.Ordinal);

        Dictionary<string, ConstantEncoding> Mix(IReadOnlySet<string> kept)
        {
            var mix = new Dictionary<string, ConstantEncoding>(low, StringComparer.Ordinal);
            foreach (var layer in kept)
                foreach (var w in weightsOf[layer])
                    if (high.TryGetValue(w, out var e)) mix[w] = e;
                    else mix.Remove(w);
            return mix;
        }

        var metric = AccuracyMetric.For(optimized, s, file);
        var bytes = OnnxModel.ToBytes(optimized);
        double Measure(IReadOnlySet<string> kept)
        {
            var copy = OnnxModel.Parse(bytes, null, file);
            WeightQuantization.Apply(copy, Mix(kept));
            return metric.Of(copy);
        }

        var search = MixedPrecision.Search(layers.Select(l => l.Name).ToList(), Measure, metric.Float, s.MaxAccuracyDrop!.Value);
        string higherName = higher == "none" ? "float" : higher;
        steps.Add(metric.Describe(search, higherName));
        return (Mix(search.HighPrecision), search, higherName);
    }
}
