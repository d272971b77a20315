using CompressBuild.Core.Data;
using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Quantization;

/// <summary>
/// Runs a float model on calibration data and records, for chosen tensors, the range of their
/// values and a histogram over it. Two passes (ranges, then histograms over the final ranges) keep
/// the histograms exact and the result independent of batch order and size.
/// </summary>
public static class Calibrator
{
    /// <summary>Samples per forward pass.</summary>
    public const int BatchSize = 256;

    /// <summary>Statistics of <paramref name="tensors"/> over every sample of <paramref name="data"/>.</summary>
    public static IReadOnlyDictionary<string, TensorStatistics> Collect(Model model, DataSet data, IReadOnlyCollection<string> tensors) =>
        Collect(model, data, tensors, histograms: true);

    /// <summary>
    /// Statistics of <paramref name="tensors"/>; without <paramref name="histograms"/> only the
    /// ranges (one pass, all the minmax method needs; the histograms stay empty).
    /// </summary>
    public static IReadOnlyDictionary<string, TensorStatistics> Collect(Model model, DataSet data, IReadOnlyCollection<string> tensors, bool histograms)
    {
        var executor = new Executor(model);
        if (executor.Inputs.Count != 1)
            throw new CompressBuildException(ErrorCodes.InputMismatch, $"{model.DisplayName} has {executor.Inputs.Count} inputs; calibration supports single-input models.");
        var input = executor.Inputs[0];
        var set = input.Shape is null ? data : data.ReshapedTo(input.Shape, input.Name);
        var options = new RunOptions();

        var min = tensors.ToDictionary(t => t, _ => float.PositiveInfinity, StringComparer.Ordinal);
        var max = tensors.ToDictionary(t => t, _ => float.NegativeInfinity, StringComparer.Ordinal);
        ForEachBatch(executor, set, input.Name, options, tensors, (name, values) =>
        {
            if (values.Length == 0) return;
            min[name] = Math.Min(min[name], System.Numerics.Tensors.TensorPrimitives.Min(values));
            max[name] = Math.Max(max[name], System.Numerics.Tensors.TensorPrimitives.Max(values));
        });

        var stats = tensors.ToDictionary(t => t, t => new TensorStatistics(
            float.IsFinite(min[t]) ? min[t] : 0f, float.IsFinite(max[t]) ? max[t] : 0f), StringComparer.Ordinal);
        if (histograms) ForEachBatch(executor, set, input.Name, options, tensors, (name, values) => stats[name].Add(values));
        return stats;
    }

    private static void ForEachBatch(Executor executor, DataSet set, string inputName, RunOptions options,
        IReadOnlyCollection<string> tensors, Action<string, ReadOnlySpan<float>> visit)
    {
        for (int start = 0; start < set.Count; start += BatchSize)
        {
            int count = Math.Min(BatchSize, set.Count - start);
            var record = executor.Forward(new Dictionary<string, Tensor> { [inputName] = set.Batch(start, count) }, options);
            foreach (var name in tensors)
            {
                var t = record.Value(name, executor);
                if (t.DataType == DataType.Float) visit(name, t.Floats);
            }
        }
    }
}
