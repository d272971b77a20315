using CompressBuild.Core.Data;

namespace CompressBuild.Core.Quantization;

/// <summary>
/// Empirical bias correction (Nagel et al. 2019, section 4.2): quantizing weights and inputs shifts
/// the mean of each output channel of a layer; the shift E[y_q − y_float], measured on calibration
/// data, is subtracted from the layer's bias.
/// </summary>
internal static class BiasCorrection
{
    // Correcting a layer changes the inputs of the layers after it, so shifts are measured again on
    // the corrected model: round r makes the r-th layer of a chain exact (its inputs no longer
    // change), which is sequential correction at one run per round; deep models stop at MaxRounds
    // with the deepest layers corrected approximately.
    private const int MaxRounds = 8;

    /// <summary>
    /// Per-layer shifts (one per output channel) for the Conv/Gemm layers of <paramref name="plan"/>;
    /// <paramref name="build"/> makes the QDQ model of <paramref name="floatModel"/> with given shifts.
    /// </summary>
    public static Dictionary<string, float[]> Measure(Model floatModel, QdqPlan plan, DataSet data, Func<IReadOnlyDictionary<string, float[]>, Model> build)
    {
        var layers = plan.Layers.Where(l => floatModel.Graph.Nodes.Find(n => n.Name == l)!.OpType != "MatMul").ToList();
        var reference = ChannelMeans(floatModel, layers, data);
        var shifts = layers.ToDictionary(l => l, l => new float[reference[l].Length], StringComparer.Ordinal);
        for (int round = 0; round < Math.Min(layers.Count, MaxRounds); round++)
        {
            var means = ChannelMeans(build(shifts), layers, data);
            foreach (var l in layers)
                for (int c = 0; c < shifts[l].Length; c++) shifts[l][c] += (float)(means[l][c] - reference[l][c]);
        }
        return shifts;
    }

    // Mean of each channel (axis 1) of each layer's own output, before any activation or Q/DQ.
    internal static Dictionary<string, double[]> ChannelMeans(Model model, IReadOnlyList<string> layers, DataSet data)
    {
        var outputs = layers.ToDictionary(l => l, l => model.Graph.Nodes.Find(n => n.Name == l)!.Outputs[0], StringComparer.Ordinal);
        var sums = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        QdqRuns.ForEachBatch(new[] { model }, data, (_, values) =>
        {
            foreach (var l in layers)
            {
                var t = values[0](outputs[l]);
                int channels = t.Shape[1], inner = t.Length / (t.Shape[0] * channels);
                if (!sums.TryGetValue(l, out var sum)) sums[l] = sum = new double[channels];
                var f = t.Floats;
                for (int i = 0; i < f.Length; i++) sum[i / inner % channels] += f[i];
                counts[l] = counts.GetValueOrDefault(l) + t.Length / channels;
            }
        });
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => v / counts[kv.Key]).ToArray(), StringComparer.Ordinal);
    }
}
