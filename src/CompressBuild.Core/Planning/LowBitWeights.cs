namespace CompressBuild.Core.Planning;

/// <summary>
/// How a packed (int4/int2) weight is laid out: the tensor viewed as <c>[Outer, Reduction, Inner]</c>
/// with the output channels on Outer (Conv <c>[M, C/g, k…]</c> and Gemm <c>transB</c> <c>[N, K]</c>:
/// axis 0) or on Inner (MatMul / Gemm <c>[K, N]</c>: axis 1). Scales run per channel and per block
/// of <see cref="Block"/> consecutive reduction indices (the last block of a channel may be shorter),
/// indexed <c>(outer · Blocks + reduction / Block) · Inner + inner</c>. Values keep the tensor's
/// element order, packed from the low bits of each byte up.
/// </summary>
public readonly record struct LowBitLayout(int Outer, int Reduction, int Inner, int Block)
{
    /// <summary>Scale blocks per channel.</summary>
    public int Blocks => (Reduction + Block - 1) / Block;

    /// <summary>Number of scales.</summary>
    public int ScaleCount => Outer * Blocks * Inner;

    /// <summary>
    /// The layout of a weight of <paramref name="shape"/> with output channels on <paramref name="axis"/>,
    /// or null when the packed kernels cannot read it (ConvTranspose, 3-D Conv, recurrent weights,
    /// batched MatMul weights). <paramref name="block"/> &lt;= 0 or beyond the reduction length means one
    /// block per channel.
    /// </summary>
    public static LowBitLayout? Of(IReadOnlyList<int> shape, int axis, int block)
    {
        int outer, reduction, inner;
        if (axis == 0 && shape.Count is >= 2 and <= 4)
        {
            outer = shape[0];
            reduction = 1;
            for (int i = 1; i < shape.Count; i++) reduction *= shape[i];
            inner = 1;
        }
        else if (axis == 1 && shape.Count == 2)
        {
            (outer, reduction, inner) = (1, shape[0], shape[1]);
        }
        else
        {
            return null;
        }
        if (reduction == 0) return null;
        return new LowBitLayout(outer, reduction, inner, block <= 0 || block > reduction ? reduction : block);
    }

    /// <summary>The scale index of element <paramref name="index"/> (row-major in the tensor).</summary>
    public int ScaleIndex(int index)
    {
        int i = index % Inner, rest = index / Inner;
        int r = rest % Reduction, o = rest / Reduction;
        return (o * Blocks + r / Block) * Inner + i;
    }
}

/// <summary>
/// Int4 / int2 weight quantization: value = q · scale with q in [-8, 7] (int4) or [-2, 1] (int2) and
/// fp16 scales per block. Each block's scale is searched, not taken from max |w|: a grid of clipping
/// ratios (1.0 down to 0.5 of max |w|) for two level mappings — the largest-magnitude weight on the
/// far negative level (uses all 2^bits levels, the sign of the scale follows that weight), or on the
/// symmetric level (±7, or ±1 = ternary for int2) — keeping the one with the least squared error.
/// Scales are rounded to fp16 before the values are computed, so the values are exactly what the
/// predictor and the ONNX model dequantize.
/// </summary>
public static class LowBitQuantizer
{
    private const int Ratios = 26;

    /// <summary>Smallest level (-8 or -2).</summary>
    public static int MinLevel(int bits) => -(1 << (bits - 1));

    /// <summary>Largest level (7 or 1).</summary>
    public static int MaxLevel(int bits) => (1 << (bits - 1)) - 1;

    /// <summary>
    /// Quantized values (tensor element order) and scales (see <see cref="LowBitLayout"/>).
    /// <paramref name="perTensor"/>: one scale for the whole tensor, stored once per block.
    /// </summary>
    public static (sbyte[] Values, Half[] Scales) Quantize(ReadOnlySpan<float> weights, LowBitLayout layout, int bits, bool perTensor = false)
    {
        var values = new sbyte[weights.Length];
        var scales = new Half[layout.ScaleCount];
        var group = new float[perTensor ? weights.Length : layout.Block];
        if (perTensor)
        {
            weights.CopyTo(group);
            Array.Fill(scales, SearchScale(group, bits));
        }
        else
        {
            for (int o = 0; o < layout.Outer; o++)
                for (int b = 0; b < layout.Blocks; b++)
                    for (int i = 0; i < layout.Inner; i++)
                    {
                        int start = b * layout.Block, length = Math.Min(layout.Block, layout.Reduction - start);
                        for (int r = 0; r < length; r++) group[r] = weights[((o * layout.Reduction) + start + r) * layout.Inner + i];
                        scales[(o * layout.Blocks + b) * layout.Inner + i] = SearchScale(group.AsSpan(0, length), bits);
                    }
        }
        for (int k = 0; k < weights.Length; k++) values[k] = Level(weights[k], (float)scales[layout.ScaleIndex(k)], bits);
        return (values, scales);
    }

    /// <summary>The level of <paramref name="w"/> for <paramref name="scale"/> (round half to even, clamped).</summary>
    public static sbyte Level(float w, float scale, int bits) =>
        scale == 0f ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(w / scale, MidpointRounding.ToEven), MinLevel(bits), MaxLevel(bits));

    /// <summary>The fp16 scale of least squared error over the grid (ties: the first candidate).</summary>
    public static Half SearchScale(ReadOnlySpan<float> group, int bits)
    {
        float peak = 0f;
        foreach (float w in group)
            if (Math.Abs(w) > Math.Abs(peak)) peak = w;
        if (peak == 0f) return Half.One;
        Half best = Half.One;
        double bestError = double.PositiveInfinity;
        for (int mapping = 0; mapping < 2; mapping++)
        {
            // mapping 0: the peak lands on the negative end (all levels); 1: on ±MaxLevel (symmetric).
            float unit = mapping == 0 ? peak / MinLevel(bits) : Math.Abs(peak) / MaxLevel(bits);
            for (int k = 0; k < Ratios; k++)
            {
                float ratio = 1f - 0.02f * k;
                var s = (Half)(unit * ratio);
                float sf = (float)s;
                if (sf == 0f || !float.IsFinite(sf)) continue;
                double error = 0;
                foreach (float w in group)
                {
                    double d = w - Level(w, sf, bits) * sf;
                    error += d * d;
                }
                if (error < bestError)
                {
                    bestError = error;
                    best = s;
                }
            }
        }
        return best;
    }

    /// <summary>Packs values of <paramref name="bits"/> bits, element i at bit (i mod per-byte) · bits of byte i / per-byte.</summary>
    public static byte[] Pack(ReadOnlySpan<sbyte> values, int bits)
    {
        int perByte = 8 / bits, mask = (1 << bits) - 1;
        var packed = new byte[(values.Length + perByte - 1) / perByte];
        for (int i = 0; i < values.Length; i++) packed[i / perByte] |= (byte)((values[i] & mask) << (i % perByte * bits));
        return packed;
    }

    /// <summary>The inverse of <see cref="Pack"/> (sign-extending).</summary>
    public static sbyte[] Unpack(ReadOnlySpan<byte> packed, int count, int bits)
    {
        int perByte = 8 / bits;
        var values = new sbyte[count];
        for (int i = 0; i < count; i++)
        {
            int v = (packed[i / perByte] >> (i % perByte * bits)) & ((1 << bits) - 1);
            values[i] = (sbyte)(v << (32 - bits) >> (32 - bits));
        }
        return values;
    }
}
