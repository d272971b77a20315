using CompressBuild.Onnx.Protobuf;
using Google.Protobuf;

namespace CompressBuild.Onnx.DataFiles;

/// <summary>ONNX <c>TensorProto</c> files (<c>.pb</c>), as used by the ONNX test suite and <c>compressbuild run</c>.</summary>
public static class TensorFile
{
    /// <summary>Reads a tensor; errors name the file.</summary>
    public static Tensor Read(string path)
    {
        var bytes = DataFile.ReadAllBytes(path);
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CompressBuildException(ErrorCodes.InvalidDataFile,
                $"'{path}' is not a valid ONNX TensorProto file ({e.Message.TrimEnd('.')}). Write it with onnx.numpy_helper.from_array(...).SerializeToString().");
        }
        if (!proto.HasDataType)
            throw new CompressBuildException(ErrorCodes.InvalidDataFile, $"'{path}' is not a valid ONNX TensorProto file (no data_type). Write it with onnx.numpy_helper.from_array(...).SerializeToString().");
        return TensorProtoCodec.Decode(proto, Path.GetDirectoryName(Path.GetFullPath(path)), $"'{path}'");
    }

    /// <summary>The tensor's name stored in the file, or null.</summary>
    public static string? ReadName(string path)
    {
        var proto = TensorProto.Parser.ParseFrom(DataFile.ReadAllBytes(path));
        return proto.HasName ? proto.Name : null;
    }

    /// <summary>Writes a tensor atomically.</summary>
    public static void Write(string path, Tensor tensor, string? name = null)
    {
        var proto = TensorProtoCodec.Encode(tensor, name);
        AtomicFile.Write(path, s => proto.WriteTo(s));
    }

    /// <summary>Encodes a tensor as TensorProto bytes.</summary>
    public static byte[] ToBytes(Tensor tensor, string? name = null) => TensorProtoCodec.Encode(tensor, name).ToByteArray();
}
