namespace CompressBuild.Core.Training;

/// <summary>A loss on a model output: its value and its gradient with respect to the output.</summary>
public interface ILoss
{
    /// <summary>
    /// Computes the mean loss over the batch for <paramref name="output"/> (first axis = sample)
    /// against the batch's <paramref name="target"/>, and dLoss/dOutput.
    /// </summary>
    float Compute(Tensor output, LossTarget target, out Tensor gradient);
}

/// <summary>What a batch's outputs are compared with: class labels and/or target outputs (e.g. a teacher's logits).</summary>
public readonly record struct LossTarget(long[]? Labels, Tensor? Outputs);
