using System.Runtime.InteropServices;
using CompressBuild.Plan;

namespace CompressBuild.Core.Planning;

/// <summary>Lays constants out in the weight blob (16-byte aligned), encoding floats as asked.</summary>
internal sealed class WeightBlobBuilder
{
    private const int Alignment = 16;
    private readonly MemoryStream _blob = new();

    public List<PlanConstant> Constants { get; } = new();

    /// <summary>Adds a constant; returns its id. Int8 encodings add a second constant for the scales.</summary>
    public string Add(Tensor t, ConstantEncoding encoding, string elementType)
    {
        string id = $"c{Constants.Count}";
        var shape = t.Shape.ToEquatableArray();
        if (t.DataType != DataType.Float || encoding == ConstantEncoding.Native)
        {
            long offset = Append(t.Bytes);
            Constants.Add(new PlanConstant(id, elementType, shape, elementType, offset, t.Length * (long)PlanTypes.Size(elementType), "", -1));
            return id;
        }
        if (encoding == ConstantEncoding.Float16)
        {
            var h = new Half[t.Length];
            var f = t.Floats;
            for (int i = 0; i < h.Length; i++) h[i] = (Half)f[i];
            long offset = Append(MemoryMarshal.AsBytes(h.AsSpan()));
            Constants.Add(new PlanConstant(id, elementType, shape, PlanTypes.Float16, offset, h.Length * 2L, "", -1));
            return id;
        }
        bool perChannel = encoding == ConstantEncoding.Int8PerChannel && t.Rank >= 1;
        var (q, scales) = Int8Symmetric.Quantize(t, perChannel);
        long qOffset = Append(MemoryMarshal.AsBytes(q.AsSpan()));
        Constants.Add(new PlanConstant(id, elementType, shape, "q8", qOffset, q.Length, $"c{Constants.Count + 1}", perChannel ? 0 : -1));
        long sOffset = Append(MemoryMarshal.AsBytes(scales.AsSpan()));
        Constants.Add(new PlanConstant($"c{Constants.Count}", PlanTypes.Float, EquatableArray.Create(scales.Length), PlanTypes.Float, sOffset, scales.Length * 4L, "", -1));
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

/// <summary>Symmetric int8 quantization: q = round(w / s), s = max|w| / 127 (per channel along axis 0, or per tensor).</summary>
public static class Int8Symmetric
{
    /// <summary>Quantized values and their scales.</summary>
    public static (sbyte[] Values, float[] Scales) Quantize(Tensor t, bool perChannel)
    {
        var f = t.Floats;
        int channels = perChannel ? t.Shape[0] : 1;
        int per = channels == 0 ? 0 : f.Length / channels;
        var q = new sbyte[f.Length];
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            var w = f.AsSpan(c * per, per);
            float max = 0f;
            foreach (float v in w) max = Math.Max(max, Math.Abs(v));
            float s = max == 0f ? 1f : max / 127f;
            scales[c] = s;
            for (int i = 0; i < per; i++)
                q[c * per + i] = (sbyte)Math.Clamp(MathF.Round(w[i] / s, MidpointRounding.ToEven), -127f, 127f);
        }
        return (q, scales);
    }
}
