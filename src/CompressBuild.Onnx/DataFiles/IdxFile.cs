using System.Buffers.Binary;
using System.IO.Compression;

namespace CompressBuild.Onnx.DataFiles;

/// <summary>IDX files, the MNIST family's format (<c>*-idx3-ubyte</c>, <c>*-idx1-ubyte</c>, optionally <c>.gz</c>).</summary>
public static class IdxFile
{
    /// <summary>True for file names of the IDX family.</summary>
    public static bool LooksLikeIdx(string fileName)
    {
        string n = fileName.ToLowerInvariant();
        if (n.EndsWith(".gz", StringComparison.Ordinal)) n = n[..^3];
        return n.Contains("-idx", StringComparison.Ordinal) && n.EndsWith("-ubyte", StringComparison.Ordinal)
            || n.EndsWith(".idx", StringComparison.Ordinal);
    }

    /// <summary>Reads an IDX file (gzip detected by its magic bytes) into a tensor of its element type.</summary>
    public static Tensor Read(string path)
    {
        var raw = DataFile.ReadAllBytes(path);
        byte[] bytes = raw;
        if (raw.Length >= 2 && raw[0] == 0x1f && raw[1] == 0x8b)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                bytes = ms.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw Bad(path, $"the gzip stream is corrupt ({e.Message})");
            }
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses uncompressed IDX bytes.</summary>
    public static Tensor Parse(ReadOnlySpan<byte> bytes, string where)
    {
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0) throw Bad(where, "it does not start with the IDX magic number");
        int code = bytes[2];
        int rank = bytes[3];
        if (bytes.Length < 4 + 4 * rank) throw Bad(where, "the header is truncated");
        var dims = new long[rank];
        for (int i = 0; i < rank; i++) dims[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(4 + 4 * i, 4));
        var shape = TensorProtoCodec.DecodeDims(dims, $"'{where}'");
        var (type, size) = code switch
        {
            0x08 => (DataType.UInt8, 1),
            0x09 => (DataType.Int8, 1),
            0x0B => (DataType.Int16, 2),
            0x0C => (DataType.Int32, 4),
            0x0D => (DataType.Float, 4),
            0x0E => (DataType.Double, 8),
            _ => throw Bad(where, $"element type code 0x{code:X2} is not an IDX type"),
        };
        int n = ShapeMath.ElementCount(shape);
        var data = bytes[(4 + 4 * rank)..];
        if (data.Length != (long)n * size) throw Bad(where, $"it holds {data.Length} data bytes but its dims [{ShapeMath.Format(shape)}] need {(long)n * size}");
        var t = Tensor.Allocate(type, shape);
        switch (type)
        {
            case DataType.UInt8: data.CopyTo(t.Span<byte>()); break;
            case DataType.Int8: for (int i = 0; i < n; i++) t.Span<sbyte>()[i] = (sbyte)data[i]; break;
            case DataType.Int16: { var s = t.Span<short>(); for (int i = 0; i < n; i++) s[i] = BinaryPrimitives.ReadInt16BigEndian(data.Slice(2 * i, 2)); break; }
            case DataType.Int32: { var s = t.Span<int>(); for (int i = 0; i < n; i++) s[i] = BinaryPrimitives.ReadInt32BigEndian(data.Slice(4 * i, 4)); break; }
            case DataType.Float: { var s = t.Span<float>(); for (int i = 0; i < n; i++) s[i] = BinaryPrimitives.ReadSingleBigEndian(data.Slice(4 * i, 4)); break; }
            case DataType.Double: { var s = t.Span<double>(); for (int i = 0; i < n; i++) s[i] = BinaryPrimitives.ReadDoubleBigEndian(data.Slice(8 * i, 8)); break; }
        }
        return t;
    }

    private static CompressBuildException Bad(string where, string what) =>
        new(ErrorCodes.InvalidDataFile, $"'{where}' is not a valid IDX file: {what}. Use the original *-ubyte(.gz) files.");
}
