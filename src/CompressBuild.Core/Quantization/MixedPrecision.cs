namespace CompressBuild.Core.Quantization;

/// <summary>One layer's measured sensitivity and the precision chosen for it.</summary>
/// <param name="Layer">Node name.</param>
/// <param name="Drop">Metric drop in points (float metric minus metric) when only this layer is at low precision.</param>
/// <param name="KeptHigh">True when the search kept the layer at the higher precision.</param>
public sealed record LayerSensitivity(string Layer, double Drop, bool KeptHigh);

/// <summary>The outcome of <see cref="MixedPrecision.Search"/>.</summary>
/// <param name="Layers">Every candidate layer, most sensitive first.</param>
/// <param name="Metric">The metric of the chosen configuration.</param>
/// <param name="BoundHolds">False when even keeping every layer at high precision misses the bound.</param>
/// <param name="Evaluations">Configurations measured.</param>
public sealed record MixedPrecisionResult(IReadOnlyList<LayerSensitivity> Layers, double Metric, bool BoundHolds, int Evaluations)
{
    /// <summary>The layers kept at the higher precision.</summary>
    public IReadOnlySet<string> HighPrecision => Layers.Where(l => l.KeptHigh).Select(l => l.Layer).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// Accuracy-aware mixed precision: measure each layer's sensitivity (that layer alone at low
/// precision), then lower as many layers as possible, raising the most sensitive ones back until
/// the metric is within the bound. Metrics are in points (accuracy × 100, or agreement × 100).
/// </summary>
public static class MixedPrecision
{
    /// <summary>
    /// Chooses the layers kept at high precision. <paramref name="metric"/> evaluates a configuration
    /// given the set of layers kept at high precision (every other candidate at low precision).
    /// </summary>
    public static MixedPrecisionResult Search(IReadOnlyList<string> layers, Func<IReadOnlySet<string>, double> metric, double floatMetric, double maxDrop)
    {
        int evaluations = 0;
        double Measure(IEnumerable<string> high)
        {
            evaluations++;
            return metric(high.ToHashSet(StringComparer.Ordinal));
        }

        // Ties keep graph order, so the search is deterministic.
        var drops = layers.Select((l, i) => (Layer: l, Index: i, Drop: floatMetric - Measure(layers.Where(o => o != l))))
            .OrderByDescending(x => x.Drop).ThenBy(x => x.Index).ToList();
        var high = new List<string>();
        double current = Measure(high);
        foreach (var (layer, _, _) in drops)
        {
            if (floatMetric - current <= maxDrop) break;
            high.Add(layer);
            current = Measure(high);
        }
        var result = drops.Select(d => new LayerSensitivity(d.Layer, d.Drop, high.Contains(d.Layer))).ToList();
        return new MixedPrecisionResult(result, current, floatMetric - current <= maxDrop, evaluations);
    }
}
