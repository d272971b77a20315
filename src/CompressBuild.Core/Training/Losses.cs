using System.Numerics.Tensors;

namespace CompressBuild.Core.Training;

/// <summary>Softmax cross-entropy on logits [batch, classes] with integer labels (mean over the batch).</summary>
public sealed class SoftmaxCrossEntropyLoss : ILoss
{
    /// <inheritdoc/>
    public float Compute(Tensor output, LossTarget target, out Tensor gradient)
    {
        var labels = target.Labels ?? throw new ArgumentException("cross-entropy needs labels");
        int n = output.Shape[0];
        int c = output.Length / n;
        var logits = output.Floats;
        gradient = Tensor.Allocate(DataType.Float, output.Shape);
        var g = gradient.Floats;
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            var row = logits.AsSpan(i * c, c);
            var grow = g.AsSpan(i * c, c);
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, grow);
            TensorPrimitives.Exp(grow, grow);
            float sum = TensorPrimitives.Sum(grow);
            long y = labels[i];
            if (y < 0 || y >= c) throw new CompressBuildException(ErrorCodes.InputMismatch, $"label {y} of sample {i} is outside the model's {c} classes.");
            total += Math.Log(sum) - (row[(int)y] - max);
            TensorPrimitives.Multiply(grow, 1f / (sum * n), grow);
            grow[(int)y] -= 1f / n;
        }
        return (float)(total / n);
    }
}

/// <summary>Mean squared error against target outputs (mean over all elements).</summary>
public sealed class MeanSquaredErrorLoss : ILoss
{
    /// <inheritdoc/>
    public float Compute(Tensor output, LossTarget target, out Tensor gradient)
    {
        var t = target.Outputs ?? throw new ArgumentException("MSE needs target outputs");
        var y = output.Floats;
        var tt = t.Floats;
        gradient = Tensor.Allocate(DataType.Float, output.Shape);
        var g = gradient.Floats;
        TensorPrimitives.Subtract(y, tt, g);
        float loss = TensorPrimitives.SumOfSquares(g) / y.Length;
        TensorPrimitives.Multiply(g, 2f / y.Length, g);
        return loss;
    }
}
