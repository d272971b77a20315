using CompressBuild.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = CompressBuild.Onnx.Tensor;

namespace CompressBuild.Verification;

/// <summary>
/// Runs ONNX models in ONNX Runtime on engine tensors: single-threaded, graph optimizations off (so
/// ONNX Runtime computes what the file says), logging quiet.
/// </summary>
public static class OnnxRuntimeRunner
{
    /// <summary>Runs a serialized model on inputs in graph-input order; returns outputs in graph-output order.</summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot load or run the model.</exception>
    public static Tensor[] Run(byte[] model, IReadOnlyList<Tensor> inputs)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        using var session = new InferenceSession(model, options);
        var names = session.InputNames.ToArray();
        if (names.Length != inputs.Count)
            throw new ArgumentException($"the model takes {names.Length} inputs, {inputs.Count} given", nameof(inputs));
        var values = new OrtValue[inputs.Count];
        try
        {
            for (int i = 0; i < values.Length; i++) values[i] = ToOrt(inputs[i]);
            using var run = new RunOptions();
            using var results = session.Run(run, names, values, session.OutputNames.ToArray());
            return results.Select(FromOrt).ToArray();
        }
        finally
        {
            foreach (var v in values) v?.Dispose();
        }
    }

    /// <summary>An ONNX Runtime value over a copy-free view of the tensor's elements (strings and fp16 are converted).</summary>
    public static OrtValue ToOrt(Tensor t)
    {
        long[] shape = t.Shape.Select(d => (long)d).ToArray();
        // Dispatch on DataType: the CLR lets byte[] match an sbyte[] pattern (and uint[] int[], ...).
        return t.DataType switch
        {
            DataType.Float => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<float>(), shape),
            DataType.Double => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<double>(), shape),
            DataType.Int64 => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<long>(), shape),
            DataType.Int32 => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<int>(), shape),
            DataType.Int16 => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<short>(), shape),
            DataType.UInt16 => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<ushort>(), shape),
            DataType.UInt32 => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<uint>(), shape),
            DataType.UInt64 => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<ulong>(), shape),
            DataType.Int8 => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<sbyte>(), shape),
            DataType.UInt8 => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<byte>(), shape),
            DataType.Bool => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<bool>(), shape),
            DataType.Float16 => OrtValue.CreateTensorValueFromMemory(t.ArrayOf<Half>().Select(h => new Float16(BitConverter.HalfToUInt16Bits(h))).ToArray(), shape),
            DataType.String => OrtValue.CreateFromStringTensor(new DenseTensor<string>(t.ArrayOf<string>(), t.Shape)),
            _ => throw new NotSupportedException($"{DataTypes.OnnxName(t.DataType)} tensors cannot be passed to ONNX Runtime"),
        };
    }

    /// <summary>Copies an ONNX Runtime tensor value into an engine tensor.</summary>
    public static Tensor FromOrt(OrtValue v)
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
            _ => throw new NotSupportedException($"ONNX Runtime output type {info.ElementDataType} is not supported"),
        };
    }
}
