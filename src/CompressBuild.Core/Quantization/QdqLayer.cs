namespace CompressBuild.Core.Quantization;

/// <summary>
/// One Conv/Gemm/MatMul layer of a QDQ model: weight bits (8, or 32 for a layer left in float), the
/// smallest and largest weight scale, the SQNR in dB of the layer's output (after its fused ReLU and
/// Q/DQ) against the float model on the calibration data (NaN without calibration data), and the
/// bytes of weights, bias and scales as stored (zero points are all zero and not counted).
/// </summary>
public sealed record QdqLayer(string Node, string Op, int Bits, double MinScale, double MaxScale, double Sqnr, long Bytes);
