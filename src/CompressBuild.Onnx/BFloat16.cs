using System.Runtime.CompilerServices;

namespace CompressBuild.Onnx;

/// <summary>A bfloat16 value (the upper half of a float32), as ONNX stores it.</summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>Creates a value from its 16 raw bits.</summary>
    public BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw bits.</summary>
    public ushort Bits { get; }

    /// <summary>Rounds a float to the nearest bfloat16 (ties to even; NaN stays NaN).</summary>
    public static explicit operator BFloat16(float value)
    {
        uint u = Unsafe.BitCast<float, uint>(value);
        if (float.IsNaN(value)) return new BFloat16(0x7FC0);
        uint rounding = 0x7FFFu + ((u >> 16) & 1u);
        return new BFloat16((ushort)((u + rounding) >> 16));
    }

    /// <summary>Widens to float exactly.</summary>
    public static explicit operator float(BFloat16 value) => Unsafe.BitCast<uint, float>((uint)value.Bits << 16);

    /// <inheritdoc/>
    public bool Equals(BFloat16 other) => Bits == other.Bits;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);
    /// <inheritdoc/>
    public override int GetHashCode() => Bits;
    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
