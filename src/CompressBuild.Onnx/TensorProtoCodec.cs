using System.Runtime.InteropServices;
using System.Text;
using CompressBuild.Onnx.Protobuf;
using Google.Protobuf;

namespace CompressBuild.Onnx;

/// <summary>Converts between ONNX <c>TensorProto</c> messages and <see cref="Tensor"/>s.</summary>
internal static class TensorProtoCodec
{
    /// <summary>
    /// Decodes a TensorProto in any storage form: raw_data, the typed repeated fields, or external
    /// data relative to <paramref name="baseDirectory"/>.
    /// </summary>
    /// <param name="proto">The message.</param>
    /// <param name="baseDirectory">The model's folder, for external data; null when there is none.</param>
    /// <param name="where">Context for messages, e.g. "lenet5.onnx: initializer 'fc1.weight'".</param>
    public static Tensor Decode(TensorProto proto, string? baseDirectory, string where)
    {
        var type = (DataType)proto.DataType;
        if (!DataTypes.IsSupported(type))
            throw new CompressBuildException(ErrorCodes.UnsupportedDataType,
                $"{where} has element type {DataTypes.OnnxName(type)}, which CompressBuild does not support; supported: FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT8..INT64, UINT8..UINT64, BOOL, STRING.");

        var shape = DecodeDims(proto.Dims, where);
        int n = ShapeMath.ElementCount(shape);
        int size = DataTypes.Size(type);

        if (proto.HasDataLocation && proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            if (type == DataType.String)
                throw new CompressBuildException(ErrorCodes.MalformedModel, $"{where} stores strings as external data, which ONNX does not allow. Re-export the model.");
            var bytes = ExternalData.Read(proto, baseDirectory, where, (long)n * size);
            return FromRaw(type, shape, bytes);
        }

        if (proto.HasRawData)
        {
            if (type == DataType.String)
                throw new CompressBuildException(ErrorCodes.MalformedModel, $"{where} stores strings in raw_data, which ONNX does not allow. Re-export the model.");
            long expected = (long)n * size;
            if (proto.RawData.Length != expected)
                throw new CompressBuildException(ErrorCodes.TensorDataSize,
                    $"{where}: raw_data holds {proto.RawData.Length} bytes but dims [{ShapeMath.Format(shape)}] of {DataTypes.OnnxName(type)} need {expected}. The file is corrupt or was written by a faulty exporter; re-export the model.");
            return FromRaw(type, shape, proto.RawData.Span);
        }

        return FromTypedFields(proto, type, shape, n, where);
    }

    /// <summary>Checks and converts int64 dims (non-negative, product within an array's reach).</summary>
    public static int[] DecodeDims(IList<long> dims, string where)
    {
        var shape = new int[dims.Count];
        long product = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = dims[i];
            if (d < 0)
                throw new CompressBuildException(ErrorCodes.NegativeDim,
                    $"{where} has negative dimension {d} at axis {i} (dims [{string.Join(",", dims)}]); tensor dims must be >= 0. Re-export the model.");
            if (d > int.MaxValue || (product > 0 && d > 0 && product > Array.MaxLength / d))
                throw new CompressBuildException(ErrorCodes.DimOverflow,
                    $"{where} has dims [{string.Join(",", dims)}] whose element count exceeds {Array.MaxLength}; CompressBuild cannot hold such a tensor. Check the model for a corrupt shape.");
            product *= d;
            shape[i] = (int)d;
        }
        return shape;
    }

    private static Tensor FromRaw(DataType type, int[] shape, ReadOnlySpan<byte> raw)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        var t = Tensor.Allocate(type, shape);
        if (type == DataType.Bool)
        {
            var dst = t.Span<bool>();
            for (int i = 0; i < dst.Length; i++) dst[i] = raw[i] != 0;
        }
        else
        {
            raw.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(t.Data), raw.Length));
        }
        return t;
    }

    private static Tensor FromTypedFields(TensorProto p, DataType type, int[] shape, int n, string where)
    {
        int count = type switch
        {
            DataType.Float => p.FloatData.Count,
            DataType.Double => p.DoubleData.Count,
            DataType.Int64 => p.Int64Data.Count,
            DataType.UInt32 or DataType.UInt64 => p.Uint64Data.Count,
            DataType.String => p.StringData.Count,
            _ => p.Int32Data.Count,
        };
        if (count != n)
            throw new CompressBuildException(ErrorCodes.TensorDataSize,
                $"{where}: holds {count} {DataTypes.OnnxName(type)} values but dims [{ShapeMath.Format(shape)}] need {n}. The file is corrupt; re-export the model.");

        var t = Tensor.Allocate(type, shape);
        switch (type)
        {
            case DataType.Float: p.FloatData.CopyTo(t.ArrayOf<float>(), 0); break;
            case DataType.Double: p.DoubleData.CopyTo(t.ArrayOf<double>(), 0); break;
            case DataType.Int64: p.Int64Data.CopyTo(t.ArrayOf<long>(), 0); break;
            case DataType.UInt64: p.Uint64Data.CopyTo(t.ArrayOf<ulong>(), 0); break;
            case DataType.UInt32: { var a = t.ArrayOf<uint>(); for (int i = 0; i < n; i++) a[i] = (uint)p.Uint64Data[i]; break; }
            case DataType.Int32: p.Int32Data.CopyTo(t.ArrayOf<int>(), 0); break;
            case DataType.Int16: { var a = t.ArrayOf<short>(); for (int i = 0; i < n; i++) a[i] = (short)p.Int32Data[i]; break; }
            case DataType.UInt16: { var a = t.ArrayOf<ushort>(); for (int i = 0; i < n; i++) a[i] = (ushort)p.Int32Data[i]; break; }
            case DataType.Int8: { var a = t.ArrayOf<sbyte>(); for (int i = 0; i < n; i++) a[i] = (sbyte)p.Int32Data[i]; break; }
            case DataType.UInt8: { var a = t.ArrayOf<byte>(); for (int i = 0; i < n; i++) a[i] = (byte)p.Int32Data[i]; break; }
            case DataType.Bool: { var a = t.ArrayOf<bool>(); for (int i = 0; i < n; i++) a[i] = p.Int32Data[i] != 0; break; }
            case DataType.Float16: { var a = t.ArrayOf<Half>(); for (int i = 0; i < n; i++) a[i] = BitConverter.UInt16BitsToHalf((ushort)p.Int32Data[i]); break; }
            case DataType.BFloat16: { var a = t.ArrayOf<BFloat16>(); for (int i = 0; i < n; i++) a[i] = new BFloat16((ushort)p.Int32Data[i]); break; }
            case DataType.String: { var a = t.ArrayOf<string>(); for (int i = 0; i < n; i++) a[i] = Encoding.UTF8.GetString(p.StringData[i].Span); break; }
            default: throw new InvalidOperationException($"unhandled type {type}");
        }
        return t;
    }

    /// <summary>Encodes a tensor as a TensorProto (raw_data for numbers, string_data for strings).</summary>
    public static TensorProto Encode(Tensor tensor, string? name)
    {
        var p = new TensorProto { DataType = (int)tensor.DataType };
        if (name is not null) p.Name = name;
        foreach (int d in tensor.Shape) p.Dims.Add(d);
        if (tensor.DataType == DataType.String)
        {
            foreach (var s in tensor.ArrayOf<string>()) p.StringData.Add(ByteString.CopyFromUtf8(s));
        }
        else
        {
            p.RawData = ByteString.CopyFrom(tensor.Bytes);
        }
        return p;
    }
}
