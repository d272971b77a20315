namespace CompressBuild.Core.Quantization;

/// <summary>
/// The opset a QDQ model needs: QuantizeLinear/DequantizeLinear exist from opset 10, their
/// per-axis form (per-channel weights) from 13.
/// </summary>
internal static class QdqOpset
{
    // Ops whose meaning changed between opsets 11 and 13 (inputs instead of attributes, Softmax's
    // axis); a model using them cannot simply be declared opset 13.
    private static readonly HashSet<string> ChangedBy13 = new(StringComparer.Ordinal)
        { "Split", "Squeeze", "Unsqueeze", "ReduceSum", "Softmax", "LogSoftmax", "Hardmax", "Resize" };

    /// <summary>
    /// Raises the model to opset 13 when per-channel weights need it and nothing else changes;
    /// returns whether weights are per channel. Throws for models below opset 10.
    /// </summary>
    public static bool Prepare(Model model, bool perChannel, List<string> steps)
    {
        int opset = model.Opset;
        if (opset >= 13 || !perChannel) return opset >= 10 ? perChannel : throw TooOld(model);
        if (opset >= 11 && !model.Graph.Nodes.Any(n => ChangedBy13.Contains(n.OpType) && n.Domain is "" or "ai.onnx"))
        {
            string key = model.OpsetImports.ContainsKey(Model.DefaultDomain) ? Model.DefaultDomain : "ai.onnx";
            model.OpsetImports[key] = 13;
            steps.Add($"opset {opset} -> 13 for per-channel DequantizeLinear (no op of the model changes meaning)");
            return true;
        }
        if (opset < 10) throw TooOld(model);
        steps.Add($"per-tensor weights: opset {opset} has no per-axis DequantizeLinear and the model cannot be raised to 13");
        return false;
    }

    private static CompressBuildException TooOld(Model model) => new(ErrorCodes.UnsupportedOpset,
        $"{model.DisplayName}: int8 quantization needs QuantizeLinear (opset 10+); the model has opset {model.Opset}. Re-export with opset 13 or later.");
}
