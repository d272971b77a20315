using CompressBuild.Core.Data;
using CompressBuild.Core.Execution;

namespace CompressBuild.Core.Quantization;

/// <summary>How close a quantized model's first output stays to the float model's on calibration data.</summary>
internal readonly record struct QdqScore(int Agree, int Samples, double Mse) : IComparable<QdqScore>
{
    /// <summary>Top-1 agreement with the float model (1 for non-classifiers).</summary>
    public double Agreement => Samples == 0 ? 1 : (double)Agree / Samples;

    /// <summary>More agreement is better; at equal agreement (or for non-classifiers) a smaller output MSE.</summary>
    public int CompareTo(QdqScore other) => Agree != other.Agree ? Agree.CompareTo(other.Agree) : other.Mse.CompareTo(Mse);

    /// <summary>"agreement 99.30%, output MSE 0.00123".</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"agreement {100 * Agreement:F2}%, output MSE {Mse:G3}");
}

/// <summary>Batched runs of single-input models over a data set, as quantization measures them.</summary>
internal static class QdqRuns
{
    /// <summary>
    /// Runs each model on every batch of <paramref name="set"/> (already in the models' input shape)
    /// and hands the batch size and, per model, a lookup of any computed value by name.
    /// </summary>
    public static void ForEachBatch(IReadOnlyList<Model> models, DataSet set, Action<int, Func<string, Tensor>[]> visit)
    {
        var executors = models.Select(m => new Executor(m)).ToArray();
        foreach (var (start, count) in Calibrator.Batches(executors[0].Inputs[0], set.Count))
        {
            var batch = set.Batch(start, count);
            var lookups = executors.Select(e =>
            {
                var record = e.Forward(new Dictionary<string, Tensor> { [e.Inputs[0].Name] = batch });
                return (Func<string, Tensor>)(name => record.Value(name, e));
            }).ToArray();
            visit(count, lookups);
        }
    }

    /// <summary>
    /// The first float output of <paramref name="model"/> for every sample, concatenated (empty when
    /// every output is of another type, e.g. ArgMax indices or a Shape).
    /// </summary>
    public static float[] Outputs(Model model, DataSet set)
    {
        var executor = new Executor(model);
        int output = executor.Outputs.ToList().FindIndex(o => o.ElementType == DataType.Float);
        var result = new List<float>();
        if (output < 0) return result.ToArray();
        foreach (var (start, count) in Calibrator.Batches(executor.Inputs[0], set.Count))
            result.AddRange(executor.Run(set.Batch(start, count))[output].Floats);
        return result.ToArray();
    }

    /// <summary>Scores <paramref name="model"/>'s outputs against the float <paramref name="reference"/> outputs.</summary>
    public static QdqScore Score(Model model, DataSet set, float[] reference)
    {
        var outputs = Outputs(model, set);
        int per = reference.Length / Math.Max(set.Count, 1);
        double sum = 0;
        for (int i = 0; i < reference.Length; i++) sum += ((double)outputs[i] - reference[i]) * ((double)outputs[i] - reference[i]);
        int agree = 0;
        if (per > 1)
            for (int s = 0; s < set.Count; s++)
                if (ArgMax(outputs.AsSpan(s * per, per)) == ArgMax(reference.AsSpan(s * per, per))) agree++;
        return new QdqScore(agree, per > 1 ? set.Count : 0, sum / Math.Max(reference.Length, 1));
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++)
            if (row[c] > row[best]) best = c;
        return best;
    }
}
