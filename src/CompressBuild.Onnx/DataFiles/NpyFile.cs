using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace CompressBuild.Onnx.DataFiles;

/// <summary>NumPy <c>.npy</c> files (format versions 1–3, little-endian, C order).</summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Reads an array; supported dtypes: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1.</summary>
    public static Tensor Read(string path)
    {
        var bytes = DataFile.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary>Parses .npy bytes; <paramref name="where"/> names the source in errors.</summary>
    public static Tensor Parse(ReadOnlySpan<byte> bytes, string where)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw Bad(where, "it does not start with the NumPy magic string");
        int major = bytes[6];
        int headerLength, headerStart;
        if (major == 1)
        {
            headerLength = bytes[8] | bytes[9] << 8;
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw Bad(where, "the header is truncated");
            headerLength = BitConverter.ToInt32(bytes[8..12]);
            headerStart = 12;
        }
        else
        {
            throw Bad(where, $"format version {major} is not supported (1, 2 or 3)");
        }
        if (headerLength < 0 || headerStart + headerLength > bytes.Length) throw Bad(where, "the header is truncated");
        string header = Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLength));

        var descr = DescrRegex().Match(header);
        var fortran = FortranRegex().Match(header);
        var shapeMatch = ShapeRegex().Match(header);
        if (!descr.Success || !shapeMatch.Success) throw Bad(where, $"the header '{header.Trim()}' has no descr or shape");
        if (fortran.Success && fortran.Groups[1].Value == "True") throw Bad(where, "Fortran-ordered arrays are not supported; save with np.ascontiguousarray");

        var shapeText = shapeMatch.Groups[1].Value;
        var dims = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : throw Bad(where, $"shape '{shapeText}' is not a tuple of integers"))
            .ToList();
        var shape = TensorProtoCodec.DecodeDims(dims, $"'{where}'");

        string d = descr.Groups[1].Value;
        if (d.Length < 3) throw Bad(where, $"dtype '{d}' is not supported");
        char order = d[0];
        string code = d[1..];
        if (order == '>' && code is not ("i1" or "u1" or "b1"))
            throw Bad(where, $"big-endian dtype '{d}' is not supported; save little-endian data");
        DataType type = code switch
        {
            "f4" => DataType.Float,
            "f8" => DataType.Double,
            "f2" => DataType.Float16,
            "i1" => DataType.Int8,
            "i2" => DataType.Int16,
            "i4" => DataType.Int32,
            "i8" => DataType.Int64,
            "u1" => DataType.UInt8,
            "u2" => DataType.UInt16,
            "u4" => DataType.UInt32,
            "u8" => DataType.UInt64,
            "b1" => DataType.Bool,
            _ => throw Bad(where, $"dtype '{d}' is not supported (use float32, float64, float16, int8-64, uint8-64 or bool)"),
        };
        int n = ShapeMath.ElementCount(shape);
        int size = DataTypes.Size(type);
        var data = bytes[(headerStart + headerLength)..];
        if (data.Length != (long)n * size)
            throw Bad(where, $"it holds {data.Length} data bytes but shape [{ShapeMath.Format(shape)}] of {d} needs {(long)n * size}");
        var t = Tensor.Allocate(type, shape);
        if (type == DataType.Bool)
        {
            var dst = t.Span<bool>();
            for (int i = 0; i < n; i++) dst[i] = data[i] != 0;
        }
        else
        {
            data.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(t.Data), data.Length));
        }
        return t;
    }

    /// <summary>Writes a numeric tensor as .npy (version 1) atomically.</summary>
    public static void Write(string path, Tensor tensor) => AtomicFile.WriteAllBytes(path, ToBytes(tensor));

    /// <summary>Encodes a numeric tensor as .npy bytes.</summary>
    public static byte[] ToBytes(Tensor tensor)
    {
        string descr = tensor.DataType switch
        {
            DataType.Float => "<f4",
            DataType.Double => "<f8",
            DataType.Float16 => "<f2",
            DataType.Int8 => "|i1",
            DataType.Int16 => "<i2",
            DataType.Int32 => "<i4",
            DataType.Int64 => "<i8",
            DataType.UInt8 => "|u1",
            DataType.UInt16 => "<u2",
            DataType.UInt32 => "<u4",
            DataType.UInt64 => "<u8",
            DataType.Bool => "|b1",
            _ => throw new ArgumentException($"{DataTypes.OnnxName(tensor.DataType)} tensors cannot be saved as .npy"),
        };
        string shape = tensor.Rank switch
        {
            0 => "()",
            1 => $"({tensor.Shape[0]},)",
            _ => "(" + string.Join(", ", tensor.Shape) + ")",
        };
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        int pad = (64 - total % 64) % 64;
        header = header + new string(' ', pad) + "\n";
        var ms = new MemoryStream();
        ms.Write(Magic);
        ms.WriteByte(1);
        ms.WriteByte(0);
        ms.WriteByte((byte)(header.Length & 0xFF));
        ms.WriteByte((byte)(header.Length >> 8));
        ms.Write(Encoding.Latin1.GetBytes(header));
        ms.Write(tensor.Bytes);
        return ms.ToArray();
    }

    private static CompressBuildException Bad(string where, string what) =>
        new(ErrorCodes.InvalidDataFile, $"'{where}' is not a valid .npy file: {what}. Save it with numpy.save.");

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
