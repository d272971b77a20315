using CompressBuild.Onnx;
using CompressBuild.Verification;

namespace CompressBuild.TestSupport;

/// <summary>ONNX Runtime, the independent oracle, for tests (see <see cref="OnnxRuntimeRunner"/>).</summary>
public static class OnnxRuntimeOracle
{
    /// <summary>Runs a model file on inputs in graph-input order; outputs in graph-output order.</summary>
    public static Tensor[] Run(string modelPath, params Tensor[] inputs) => Run(File.ReadAllBytes(modelPath), inputs);

    /// <summary>Runs a model given as bytes.</summary>
    public static Tensor[] Run(byte[] model, params Tensor[] inputs) => OnnxRuntimeRunner.Run(model, inputs);
}
