using CompressBuild.Onnx.Protobuf;
using Google.Protobuf;

namespace CompressBuild.Onnx;

/// <summary>Reads and writes ONNX model files (<c>.onnx</c>).</summary>
public static class OnnxModel
{
    /// <summary>The newest default-domain opset the engine implements.</summary>
    public const int MaxSupportedOpset = 18;

    /// <summary>
    /// Reads a model file and checks its structure (domains, opset, tensor data, graph order).
    /// Every problem is a <see cref="CompressBuildException"/> that names the file and what to do.
    /// </summary>
    public static Model Load(string path)
    {
        if (!File.Exists(path))
            throw new CompressBuildException(ErrorCodes.ModelFileMissing, $"model file '{path}' does not exist. Check the path.");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new CompressBuildException(ErrorCodes.ModelFileMissing, $"model file '{path}' cannot be read: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CompressBuildException(ErrorCodes.ModelFileMissing, $"model file '{path}' cannot be read: {e.Message}");
        }
        var model = Parse(bytes, Path.GetDirectoryName(Path.GetFullPath(path)), Path.GetFileName(path));
        model.SourcePath = Path.GetFullPath(path);
        return model;
    }

    /// <summary>Reads a model from bytes; external data is resolved against <paramref name="baseDirectory"/>.</summary>
    public static Model Parse(byte[] bytes, string? baseDirectory = null, string displayName = "the model")
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CompressBuildException(ErrorCodes.InvalidProtobuf,
                $"{displayName} is not a valid ONNX model ({(bytes.Length == 0 ? "the file is empty" : e.Message.TrimEnd('.'))}). The file is truncated or not an .onnx file; export it again.");
        }
        if (proto.Graph is null || !proto.HasIrVersion)
            throw new CompressBuildException(ErrorCodes.InvalidProtobuf,
                $"{displayName} is not a valid ONNX model (no {(proto.Graph is null ? "graph" : "ir_version")} found). The file is truncated or not an .onnx file; export it again.");
        return new ProtoReader(baseDirectory, displayName).ReadModel(proto);
    }

    /// <summary>Serializes a model to ONNX protobuf bytes (tensor data inline as raw_data).</summary>
    public static byte[] ToBytes(Model model) => ProtoWriter.WriteModel(model).ToByteArray();

    /// <summary>
    /// Writes a model atomically: to a temporary file beside <paramref name="path"/>, then moved into
    /// place, so a failure never leaves a half-written model.
    /// </summary>
    public static void Save(Model model, string path)
    {
        var proto = ProtoWriter.WriteModel(model);
        long size = proto.CalculateSize();
        if (size > int.MaxValue)
            throw new CompressBuildException(ErrorCodes.ModelWriteFailed, $"the model is {size} bytes, more than protobuf's 2 GiB limit; CompressBuild does not write external data yet.");
        AtomicFile.Write(path, stream => proto.WriteTo(stream));
    }
}
