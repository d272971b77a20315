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
    /// <summary>Samples per forward pass (of a model whose batch dimension is not fixed).</summary>
    public const int BatchSize = 256;

    /// <summary>
    /// The batches of <paramref name="count"/> samples a model with input <paramref name="input"/>
    /// runs: <paramref name="batchSize"/> at a time, or exactly the input's first dimension when the
    /// model fixes it (exporters' default batch 1), dropping a shorter tail such a model cannot take
    /// unless <paramref name="keepTail"/> (evaluation counts every sample): then the tail comes last
    /// with fewer than <see cref="FixedBatch"/> samples, for the caller to pad.
    /// </summary>
    internal static IEnumerable<(int Start, int Count)> Batches(ValueInfo input, int count, int batchSize = BatchSize, bool keepTail = false)
    {
        int fixedBatch = FixedBatch(input);
        int size = fixedBatch > 0 ? fixedBatch : batchSize;
        for (int start = 0; start < count; start += size)
        {
            int n = Math.Min(size, count - start);
            if (fixedBatch > 0 && n < fixedBatch && !keepTail) yield break;
            yield return (start, n);
        }
    }

    /// <summary>The batch size <paramref name="input"/> fixes (its first dimension), or 0 when it is free.</summary>
    internal static int FixedBatch(ValueInfo input) =>
        input.Shape is { Length: > 0 } shape && shape[0].IsKnown && shape[0].Value > 0 ? (int)shape[0].Value : 0;

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
        ForEachBatch(executor, set, input, options, tensors, (name, values) =>
        {
            if (values.Length == 0) return;
            min[name] = Math.Min(min[name], System.Numerics.Tensors.TensorPrimitives.Min(values));
            max[name] = Math.Max(max[name], System.Numerics.Tensors.TensorPrimitives.Max(values));
        });

        var stats = tensors.ToDictionary(t => t, t => new TensorStatistics(
            float.IsFinite(min[t]) ? min[t] : 0f, float.IsFinite(max[t]) ? max[t] : 0f), StringComparer.Ordinal);
        if (histograms) ForEachBatch(executor, set, input, options, tensors, (name, values) => stats[name].Add(values));
        return stats;
    }

    private static void ForEachBatch(Executor executor, DataSet set, ValueInfo input, RunOptions options,
        IReadOnlyCollection<string> tensors, Action<string, ReadOnlySpan<float>> visit)
    {
        foreach (var (start, count) in Batches(input, set.Count))
        {
            var record = executor.Forward(new Dictionary<string, Tensor> { [input.Name] = set.Batch(start, count) }, options);
            foreach (var name in tensors)
            {
                var t = record.Value(name, executor);
                if (t.DataType == DataType.Float) visit(name, t.Floats);
            }
        }
    }
}
