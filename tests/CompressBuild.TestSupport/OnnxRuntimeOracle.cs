using CompressBuild.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = CompressBuild.Onnx.Tensor;

namespace CompressBuild.TestSupport;

/// <summary>
/// ONNX Runtime, the independent oracle: runs a model (file or in-memory) on engine tensors and
/// returns engine tensors, single-threaded for reproducibility.
/// </summary>
public static class OnnxRuntimeOracle
{
    /// <summary>Runs a model file on inputs in graph-input order; outputs in graph-output order.</summary>
    public static Tensor[] Run(string modelPath, params Tensor[] inputs) => Run(File.ReadAllBytes(modelPath), inputs);

    /// <summary>Runs a model given as bytes.</summary>
    public static Tensor[] Run(byte[] model, params Tensor[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        // Graph optimizations are off so ORT computes what the file says, not a fused rewrite.
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
        options.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        using var session = new InferenceSession(model, options);
        var inputNames = session.InputNames.ToArray();
        if (inputNames.Length != inputs.Length)
            throw new ArgumentException($"the model takes {inputNames.Length} inputs, {inputs.Length} given");
        var values = new OrtValue[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++) values[i] = ToOrt(inputs[i]);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, inputNames, values, session.OutputNames.ToArray());
            return results.Select(FromOrt).ToArray();
        }
        finally
        {
            foreach (var v in values) v?.Dispose();
        }
    }

    private static OrtValue ToOrt(Tensor t)
    {
        long[] shape = t.Shape.Select(d => (long)d).ToArray();
        return t.Data switch
        {
            float[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            double[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            long[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            int[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            short[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            ushort[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            uint[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            ulong[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            sbyte[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            byte[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            bool[] a => OrtValue.CreateTensorValueFromMemory(a, shape),
            Half[] a => OrtValue.CreateTensorValueFromMemory(a.Select(h => new Float16(BitConverter.HalfToUInt16Bits(h))).ToArray(), shape),
            string[] a => OrtValue.CreateFromStringTensor(ToStringTensor(a, t.Shape)),
            _ => throw new NotSupportedException($"{t.DataType} inputs are not supported by the oracle helper"),
        };
    }

    private static Tensor<string> ToStringTensor(string[] a, int[] shape) =>
        new DenseTensor<string>(a, shape);

    private static Tensor FromOrt(OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        int[] shape = info.Shape.Select(d => checked((int)d)).ToArray();
        return info.ElementDataType switch
        {
            TensorElementType.Float => Tensor.FromArray(v.GetTensorDataAsSpan<float>().ToArray(), shape),
            TensorElementType.Double => Tensor.FromArray(v.GetTensorDataAsSpan<double>().ToArray(), shape),
            TensorElementType.Int64 => Tensor.FromArray(v.GetTensorDataAsSpan<long>().ToArray(), shape),
            TensorElementType.Int32 => Tensor.FromArray(v.GetTensorDataAsSpan<int>().ToArray(), shape),
            TensorElementType.Int16 => Tensor.FromArray(v.GetTensorDataAsSpan<short>().ToArray(), shape),
            TensorElementType.UInt16 => Tensor.FromArray(v.GetTensorDataAsSpan<ushort>().ToArray(), shape),
            TensorElementType.UInt32 => Tensor.FromArray(v.GetTensorDataAsSpan<uint>().ToArray(), shape),
            TensorElementType.UInt64 => Tensor.FromArray(v.GetTensorDataAsSpan<ulong>().ToArray(), shape),
            TensorElementType.Int8 => Tensor.FromArray(v.GetTensorDataAsSpan<sbyte>().ToArray(), shape),
            TensorElementType.UInt8 => Tensor.FromArray(v.GetTensorDataAsSpan<byte>().ToArray(), shape),
            TensorElementType.Bool => Tensor.FromArray(v.GetTensorDataAsSpan<bool>().ToArray(), shape),
            TensorElementType.Float16 => Tensor.FromArray(v.GetTensorDataAsSpan<Float16>().ToArray().Select(h => BitConverter.UInt16BitsToHalf(h.value)).ToArray(), shape),
            TensorElementType.String => Tensor.FromArray(v.GetStringTensorAsArray(), shape),
            _ => throw new NotSupportedException($"{info.ElementDataType} outputs are not supported by the oracle helper"),
        };
    }
}
