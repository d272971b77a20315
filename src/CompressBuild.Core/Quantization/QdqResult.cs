namespace CompressBuild.Core.Quantization;

/// <summary>
/// A quantized model in QDQ form, what happened to each layer, which ops run in float between
/// DequantizeLinear and QuantizeLinear ("name (op)"), and the steps taken, in order.
/// </summary>
public sealed record QdqResult(Model Model, IReadOnlyList<QdqLayer> Layers, IReadOnlyList<string> FloatOps, IReadOnlyList<string> Steps);
