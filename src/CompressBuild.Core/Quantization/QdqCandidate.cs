using CompressBuild.Core.Data;

namespace CompressBuild.Core.Quantization;

/// <summary>
/// One way of quantizing a model: the float model it starts from (equalized or not), activation
/// parameters, the QDQ model, what it stored per layer and its calibration-set score.
/// </summary>
internal sealed record QdqCandidate(Model Float, IReadOnlyDictionary<string, ActivationParams> Parameters, Model Qdq,
    IReadOnlyDictionary<string, QdqLayerWeights> Weights, QdqScore Score)
{
    /// <summary>Rewrites a copy of <paramref name="floatModel"/> (unscored).</summary>
    public static QdqCandidate Build(Model floatModel, QdqPlan plan, IReadOnlyDictionary<string, ActivationParams> parameters, bool perChannel,
        IReadOnlyDictionary<string, float[]>? biasShifts)
    {
        var qdq = QdqQuantizer.Copy(floatModel);
        var weights = QdqRewriter.Apply(qdq, plan, parameters, perChannel, biasShifts);
        return new QdqCandidate(floatModel, parameters, qdq, weights, default);
    }

    /// <summary>This candidate with its score against the float model's <paramref name="reference"/> outputs.</summary>
    public QdqCandidate Scored(DataSet data, float[] reference) => this with { Score = QdqRuns.Score(Qdq, data, reference) };
}
