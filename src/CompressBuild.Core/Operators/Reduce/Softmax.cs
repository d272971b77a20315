namespace CompressBuild.Core.Operators.Reduce;

/// <summary>
/// Softmax: exp(x − max) / Σ exp(x − max). Opsets 1 and 11 normalise each row of the input coerced
/// to 2-D at <c>axis</c> (default 1; 11 allows negative axes); 13+ normalises along <c>axis</c>
/// (default -1). See <see cref="SoftmaxFamily"/>.
/// </summary>
[OnnxOperator("Softmax")]
internal sealed class Softmax : SoftmaxFamily
{
    public Softmax(NodeContext ctx) : base(ctx, log: false)
    {
    }
}
