// Shared by the runtime kernels and the source generator (which compiles this file with
// COMPRESSBUILD_GENERATOR to compute the fixed-point constants it emits): one algorithm, so the
// emitted constants and the ones the kernels derive from run-time scales are the same numbers.
// The shared part is plain integer and double arithmetic (the generator is netstandard2.0).
#if COMPRESSBUILD_GENERATOR
namespace CompressBuild.Generator.Ops;
#else
namespace CompressBuild.Runtime;
#endif

using System;
using System.Runtime.CompilerServices;
#if !COMPRESSBUILD_GENERATOR
using System.Runtime.Intrinsics;
#endif

/// <summary>
/// A real multiplier as an int32 <c>M</c> with |M| in [2^30, 2^31) and a right shift <c>S</c> in
/// [<see cref="MinShift"/>, <see cref="MaxShift"/>]: <c>acc · real ≈ acc · M / 2^S</c>, rounded half
/// to even (ONNX's rounding) in exact int64 arithmetic, as CMSIS-NN and TFLite requantize. A float32
/// multiplier (24-bit significand) is represented exactly; only the rounding of the product differs
/// from float arithmetic, which rounds the product to 24 bits first (at most one step apart, on near-ties).
/// </summary>
internal static class FixedPoint
{
    /// <summary>Smallest shift: multipliers from 2^9 up saturate every non-zero accumulator, so they are capped there.</summary>
    public const int MinShift = 21;

    /// <summary>Largest shift: below 2^-32, |acc · real| &lt; 0.5 for every int32 acc, so the multiplier is 0.</summary>
    public const int MaxShift = 62;

    /// <summary>
    /// With a multiplier ≥ 1 (shift &lt; 31) the accumulator is clamped to ±Limit first: beyond it the
    /// output saturates anyway, and within it the product shifted by ≥ 21 fits in int32.
    /// </summary>
    public const int Limit = 512;

    /// <summary>The float32 multiplier of requantization in ONNX Runtime's order: (inScale · channelScale) / outScale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiplier(float inScale, float channelScale, float outScale) => (float)((float)(inScale * channelScale) / outScale);

    /// <summary>
    /// The fixed-point form of <paramref name="real"/>: |M| = round_half_even(significand · 2^31) (exact
    /// for float32 values), capped at 2^9; 0 for tiny, zero and NaN multipliers.
    /// </summary>
    public static void Of(double real, out int multiplier, out int shift)
    {
        multiplier = 0;
        shift = MaxShift;
        double a = Math.Abs(real);
        if (!(a > 0)) return;
        if (a >= 1 << 9)
        {
            multiplier = real < 0 ? -(1 << 30) : 1 << 30;
            shift = MinShift;
            return;
        }
        long bits = BitConverter.DoubleToInt64Bits(a);
        int exponent = (int)(bits >> 52);
        if (exponent == 0) return; // subnormal: far below 2^-32
        long significand = (bits & ((1L << 52) - 1)) | (1L << 52); // a = significand · 2^(exponent - 1075)
        long m = (significand + (1L << 21) - 1 + ((significand >> 22) & 1)) >> 22; // 53 → 31 bits, half to even
        if (m == 1L << 31)
        {
            m >>= 1;
            exponent++;
        }
        int s = 1075 - 22 - exponent;
        if (s > MaxShift) return;
        multiplier = (int)(real < 0 ? -m : m);
        shift = s;
    }

    /// <summary>round_half_even(<paramref name="acc"/> · M / 2^S), exact (the scalar reference of the vector kernels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Multiply(int acc, int multiplier, int shift)
    {
        if (shift < 31) acc = acc < -Limit ? -Limit : acc > Limit ? Limit : acc;
        long p = (long)acc * multiplier;
        return (int)((p + (1L << (shift - 1)) - 1 + ((p >> shift) & 1)) >> shift);
    }
}

#if !COMPRESSBUILD_GENERATOR
/// <summary>
/// The requantization of one integer op (QLinearConv, QLinearMatMul, QGemm): per output channel (or
/// one) fixed-point multiplier and shift, and the output zero point. <see cref="Fixed"/> takes the
/// constants the generator computed from constant scales; <see cref="Scaled"/> derives them from
/// run-time scales with the same <see cref="FixedPoint"/> algorithm, channel by channel.
/// </summary>
internal readonly ref struct Requantization
{
    private readonly ReadOnlySpan<int> _multipliers, _shifts;
    private readonly float _inScale, _outScale;
    private readonly ReadOnlySpan<float> _channelScales;

    private Requantization(ReadOnlySpan<int> multipliers, ReadOnlySpan<int> shifts, float inScale, ReadOnlySpan<float> channelScales, float outScale, int zeroPoint)
    {
        _multipliers = multipliers;
        _shifts = shifts;
        _inScale = inScale;
        _channelScales = channelScales;
        _outScale = outScale;
        ZeroPoint = zeroPoint;
    }

    /// <summary>The output zero point.</summary>
    public int ZeroPoint { get; }

    /// <summary>Parameters per channel, or 1 for one per tensor.</summary>
    public int Channels => _multipliers.Length + _channelScales.Length;

    /// <summary>Precomputed multipliers and shifts (one, or one per channel).</summary>
    public static Requantization Fixed(ReadOnlySpan<int> multipliers, ReadOnlySpan<int> shifts, int zeroPoint)
    {
        Guard.Length(shifts.Length, multipliers.Length, "requantization shifts");
        return new Requantization(multipliers, shifts, 0f, default, 0f, zeroPoint);
    }

    /// <summary>Multipliers (inScale · channelScales[m]) / outScale in float32, converted per channel.</summary>
    public static Requantization Scaled(float inScale, ReadOnlySpan<float> channelScales, float outScale, int zeroPoint) =>
        new(default, default, inScale, channelScales, outScale, zeroPoint);

    /// <summary>The multiplier and shift of <paramref name="channel"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void At(int channel, out int multiplier, out int shift)
    {
        if (_multipliers.Length != 0)
        {
            int i = _multipliers.Length == 1 ? 0 : channel;
            multiplier = _multipliers[i];
            shift = _shifts[i];
            return;
        }
        FixedPoint.Of(FixedPoint.Multiplier(_inScale, Quant.At(_channelScales, channel), _outScale), out multiplier, out shift);
    }

    /// <summary>The multipliers and shifts of channels <paramref name="channel"/> to <paramref name="channel"/> + 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void At4(int channel, out Vector128<int> multipliers, out Vector128<int> shifts)
    {
        if (_multipliers.Length > 1)
        {
            multipliers = Vector128.Create(_multipliers.Slice(channel, 4));
            shifts = Vector128.Create(_shifts.Slice(channel, 4));
            return;
        }
        At(channel, out int m0, out int s0);
        if (_multipliers.Length == 1 || _channelScales.Length == 1)
        {
            multipliers = Vector128.Create(m0);
            shifts = Vector128.Create(s0);
            return;
        }
        At(channel + 1, out int m1, out int s1);
        At(channel + 2, out int m2, out int s2);
        At(channel + 3, out int m3, out int s3);
        multipliers = Vector128.Create(m0, m1, m2, m3);
        shifts = Vector128.Create(s0, s1, s2, s3);
    }
}
#endif
