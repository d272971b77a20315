using CompressBuild.Core.Data;
using CompressBuild.Core.Execution;
using CompressBuild.Core.Quantization;

namespace CompressBuild.Core.Evaluation;

/// <summary>Measures models on data: top-1 accuracy, agreement between two models, output errors.</summary>
public static class Evaluator
{
    /// <summary>Top-1 accuracy of a single-input classifier on labelled data.</summary>
    public static Top1Result Top1(Model model, DataSet data, int batchSize = 1000)
    {
        var labels = data.Labels ?? throw new ArgumentException("top-1 needs labels", nameof(data));
        var predictions = Predict(model, data, batchSize);
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
            if (predictions[i] == labels[i]) correct++;
        return new Top1Result(correct, labels.Length);
    }

    /// <summary>
    /// Runs two models on the same data: how often their first outputs' argmax agree, and the
    /// largest and mean absolute difference of the outputs.
    /// </summary>
    public static ModelAgreement Compare(Model a, Model b, DataSet data, int batchSize = 1000)
    {
        var ea = new Executor(a);
        var eb = new Executor(b);
        var set = Shaped(ea, data);
        int agree = 0;
        double max = 0, sum = 0;
        long count = 0;
        foreach (var (_, n, x) in Batches(ea.Inputs[0], set, batchSize))
        {
            var ya = ea.Run(x)[0];
            var yb = eb.Run(x)[0];
            int classes = ya.Length / x.Shape[0];
            // Rows past n are a padded tail's copies.
            ReadOnlySpan<float> ra = ya.Floats.AsSpan(0, n * classes), rb = yb.Floats.AsSpan(0, n * classes);
            for (int i = 0; i < n; i++)
            {
                if (ArgMax(ra.Slice(i * classes, classes)) == ArgMax(rb.Slice(i * classes, classes))) agree++;
            }
            for (int k = 0; k < ra.Length; k++)
            {
                double d = Math.Abs((double)ra[k] - rb[k]);
                max = Math.Max(max, d);
                sum += d;
            }
            count += ra.Length;
        }
        return new ModelAgreement((double)agree / Math.Max(set.Count, 1), max, count == 0 ? 0 : sum / count);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++)
            if (row[c] > row[best]) best = c;
        return best;
    }

    /// <summary>The argmax class of the first output for every sample.</summary>
    public static int[] Predict(Model model, DataSet data, int batchSize = 1000)
    {
        var executor = new Executor(model);
        if (executor.Inputs.Count != 1)
            throw new CompressBuildException(ErrorCodes.InputMismatch, $"{model.DisplayName} has {executor.Inputs.Count} inputs; evaluation supports single-input models.");
        var set = Shaped(executor, data);
        var result = new int[set.Count];
        foreach (var (start, count, x) in Batches(executor.Inputs[0], set, batchSize))
        {
            var output = executor.Run(x)[0];
            if (output.DataType != DataType.Float)
                throw new CompressBuildException(ErrorCodes.InputMismatch, $"{model.DisplayName}'s first output is {DataTypes.OnnxName(output.DataType)}; top-1 needs float scores.");
            int classes = output.Length / x.Shape[0];
            var f = output.Floats;
            for (int i = 0; i < count; i++) result[start + i] = ArgMax(f.AsSpan(i * classes, classes));
        }
        return result;
    }

    private static DataSet Shaped(Executor executor, DataSet data)
    {
        var input = executor.Inputs[0];
        return input.Shape is null ? data : data.ReshapedTo(input.Shape, input.Name);
    }

    // Every sample, in the batches the model takes (Calibrator.Batches); a fixed-batch model's short
    // tail is padded with copies of its last sample, whose outputs the callers skip.
    private static IEnumerable<(int Start, int Count, Tensor Input)> Batches(ValueInfo input, DataSet set, int batchSize)
    {
        int size = Calibrator.FixedBatch(input);
        foreach (var (start, count) in Calibrator.Batches(input, set.Count, batchSize, keepTail: true))
        {
            if (size == 0 || count == size)
            {
                yield return (start, count, set.Batch(start, count));
                continue;
            }
            var rows = new int[size];
            for (int i = 0; i < size; i++) rows[i] = start + Math.Min(i, count - 1);
            yield return (start, count, set.Gather(rows));
        }
    }
}

/// <summary>How closely two models agree: argmax agreement and output differences.</summary>
public readonly record struct ModelAgreement(double Agreement, double MaxAbsError, double MeanAbsError);

/// <summary>Correct predictions out of a total.</summary>
public readonly record struct Top1Result(int Correct, int Total)
{
    /// <summary>Correct / Total.</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;
}
