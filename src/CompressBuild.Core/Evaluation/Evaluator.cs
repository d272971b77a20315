using CompressBuild.Core.Data;
using CompressBuild.Core.Execution;

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

    /// <summary>The argmax class of the first output for every sample.</summary>
    public static int[] Predict(Model model, DataSet data, int batchSize = 1000)
    {
        var executor = new Executor(model);
        if (executor.Inputs.Count != 1)
            throw new CompressBuildException(ErrorCodes.InputMismatch, $"{model.DisplayName} has {executor.Inputs.Count} inputs; evaluation supports single-input models.");
        var input = executor.Inputs[0];
        var set = input.Shape is null ? data : data.ReshapedTo(input.Shape, input.Name);
        var result = new int[set.Count];
        for (int start = 0; start < set.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, set.Count - start);
            var output = executor.Run(set.Batch(start, count))[0];
            if (output.DataType != DataType.Float)
                throw new CompressBuildException(ErrorCodes.InputMismatch, $"{model.DisplayName}'s first output is {DataTypes.OnnxName(output.DataType)}; top-1 needs float scores.");
            int classes = output.Length / count;
            var f = output.Floats;
            for (int i = 0; i < count; i++)
            {
                int best = 0;
                for (int c = 1; c < classes; c++)
                    if (f[i * classes + c] > f[i * classes + best]) best = c;
                result[start + i] = best;
            }
        }
        return result;
    }
}

/// <summary>Correct predictions out of a total.</summary>
public readonly record struct Top1Result(int Correct, int Total)
{
    /// <summary>Correct / Total.</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;
}
