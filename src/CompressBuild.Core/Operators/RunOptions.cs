namespace CompressBuild.Core.Operators;

/// <summary>How a model is run.</summary>
public sealed class RunOptions
{
    /// <summary>Inference defaults: no training behaviour, all cores.</summary>
    public static RunOptions Default { get; } = new();

    /// <summary>Training mode: Dropout drops and BatchNormalization uses batch statistics.</summary>
    public bool Training { get; init; }

    /// <summary>Threads a kernel may use (default: processor count).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Seed for operators that draw random numbers (Dropout in training mode).</summary>
    public int Seed { get; init; }
}
