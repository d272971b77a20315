using System.Runtime.InteropServices;
using CompressBuild.Plan;

namespace CompressBuild.Core.Planning;

/// <summary>Lays constants out in the weight blob (16-byte aligned), encoding floats as asked.</summary>
internal sealed class WeightBlobBuilder
{
    private const int Alignment = 16;
    private readonly MemoryStream _blob = new();

    public List<PlanConstant> Constants { get; } = new();

    /// <summary>Adds a constant; returns its id. Int8, int4 and int2 encodings add a second constant for the scales.</summary>
    public string Add(Tensor t, ConstantEncoding encoding, string elementType)
    {
        string id = $"c{Constants.Count}";
        var shape = t.Shape.ToEquatableArray();
        if (t.DataType != DataType.Float || encoding.Storage == ConstantStorage.Native)
        {
            long offset = Append(t.Bytes);
            Constants.Add(new PlanConstant(id, elementType, shape, elementType, offset, t.Length * (long)PlanTypes.Size(elementType), "", -1));
            return id;
        }
        if (encoding.Storage == ConstantStorage.Float16)
        {
            var h = new Half[t.Length];
            var f = t.Floats;
            for (int i = 0; i < h.Length; i++) h[i] = (Half)f[i];
            long offset = Append(MemoryMarshal.AsBytes(h.AsSpan()));
            Constants.Add(new PlanConstant(id, elementType, shape, PlanTypes.Float16, offset, h.Length * 2L, "", -1));
            return id;
        }
        if (encoding.IsPacked) return AddPacked(id, t, encoding, elementType);
        int axis = encoding.Axis < 0 || t.Rank == 0 ? -1 : encoding.Axis;
        var (q, scales) = Int8Symmetric.Quantize(t, axis);
        long qOffset = Append(MemoryMarshal.AsBytes(q.AsSpan()));
        Constants.Add(new PlanConstant(id, elementType, shape, "q8", qOffset, q.Length, $"c{Constants.Count + 1}", axis));
        long sOffset = Append(MemoryMarshal.AsBytes(scales.AsSpan()));
        Constants.Add(new PlanConstant($"c{Constants.Count}", PlanTypes.Float, EquatableArray.Create(scales.Length), PlanTypes.Float, sOffset, scales.Length * 4L, "", -1));
        return id;
    }

    /// <summary>Packed int4/int2 values, then their fp16 scales as a second constant.</summary>
    private string AddPacked(string id, Tensor t, ConstantEncoding encoding, string elementType)
    {
        var layout = LowBitLayout.Of(t.Shape, encoding.Axis, encoding.Block)
            ?? throw new ArgumentException($"a weight of shape [{string.Join(",", t.Shape)}] with channels on axis {encoding.Axis} cannot be packed", nameof(encoding));
        var (values, scales) = LowBitQuantizer.Quantize(t.Floats, layout, encoding.Bits, perTensor: encoding.Block < 0);
        var packed = LowBitQuantizer.Pack(values, encoding.Bits);
        string storage = encoding.Storage == ConstantStorage.Int4 ? PlanStorages.Q4 : PlanStorages.Q2;
        long qOffset = Append(packed);
        Constants.Add(new PlanConstant(id, elementType, t.Shape.ToEquatableArray(), storage, qOffset, packed.Length, $"c{Constants.Count + 1}", encoding.Axis) { Block = layout.Block });
        long sOffset = Append(MemoryMarshal.AsBytes(scales.AsSpan()));
        Constants.Add(new PlanConstant($"c{Constants.Count}", PlanTypes.Float, EquatableArray.Create(scales.Length), PlanTypes.Float16, sOffset, scales.Length * 2L, "", -1));
        return id;
    }

    public byte[] ToArray() => _blob.ToArray();

    private long Append(ReadOnlySpan<byte> bytes)
    {
        while (_blob.Length % Alignment != 0) _blob.WriteByte(0);
        long offset = _blob.Length;
        _blob.Write(bytes);
        return offset;
    }
}

/// <summary>
/// Symmetric int8 quantization: q = round(w / s) clamped to [-127, 127], s = max|w| / 127 per slice
/// along an axis (per channel) or for the whole tensor (axis -1).
/// </summary>
public static class Int8Symmetric
{
    /// <summary>Quantized values (same layout as the tensor) and one scale per slice along <paramref name="axis"/>.</summary>
    public static (sbyte[] Values, float[] Scales) Quantize(Tensor t, int axis)
    {
        var f = t.Floats;
        int channels = axis < 0 ? 1 : t.Shape[axis];
        int inner = axis < 0 ? f.Length : ShapeMath.Product(t.Shape, axis + 1, t.Rank);
        var max = new float[channels];
        for (int i = 0; i < f.Length; i++)
        {
            int c = axis < 0 ? 0 : i / inner % channels;
            max[c] = Math.Max(max[c], Math.Abs(f[i]));
        }
        var scales = max.Select(m => m == 0f ? 1f : m / 127f).ToArray();
        var q = new sbyte[f.Length];
        for (int i = 0; i < f.Length; i++)
        {
            int c = axis < 0 ? 0 : i / inner % channels;
            q[i] = (sbyte)Math.Clamp(MathF.Round(f[i] / scales[c], MidpointRounding.ToEven), -127f, 127f);
        }
        return (q, scales);
    }
}
