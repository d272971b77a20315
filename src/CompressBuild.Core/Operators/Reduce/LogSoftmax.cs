namespace CompressBuild.Core.Operators.Reduce;

/// <summary>
/// LogSoftmax: x − max − log Σ exp(x − max). Opsets 1 and 11 normalise each row of the input coerced
/// to 2-D at <c>axis</c> (default 1; 11 allows negative axes); 13+ normalises along <c>axis</c>
/// (default -1). See <see cref="SoftmaxFamily"/>.
/// </summary>
[OnnxOperator("LogSoftmax")]
internal sealed class LogSoftmax : SoftmaxFamily
{
    public LogSoftmax(NodeContext ctx) : base(ctx, log: true)
    {
    }
}
