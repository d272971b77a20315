using System.Runtime.Intrinsics;
using CompressBuild.Runtime;
using GeneratorFixedPoint = CompressBuild.Generator.Ops.FixedPoint;

namespace CompressBuild.Generator.Tests;

/// <summary>
/// The fixed-point requantization (<see cref="FixedPoint"/>, <see cref="Quant.Requantize(int, int, int, int, bool)"/>):
/// multipliers and shifts against exact arithmetic over a sweep of real multipliers, the vector
/// kernels against the scalar reference, the generator's copy of the algorithm against the kernels',
/// and how often it differs from ONNX Runtime's float32 requantization.
/// </summary>
[TestClass]
public sealed class FixedPointTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Powers of two, neighbours of 0.5, 1 and 2, the tiny and saturating ends, and random values in 1e-6..10.</summary>
    private static IEnumerable<float> Multipliers()
    {
        for (int e = -32; e <= 9; e++) yield return MathF.Pow(2, e);
        foreach (float f in new[] { 0.5f, 1f, 2f, 511f })
        {
            yield return MathF.BitDecrement(f);
            yield return MathF.BitIncrement(f);
        }
        foreach (float f in new[] { 1e-6f, 2.5e-10f, 1.5e-10f, 3e-5f, 0.0026614806f * 0.003921569f / 0.009004151f, 0.7f, 1.3f, 10f, 600f, 0f })
            yield return f;
        var rng = new Random(7);
        for (int i = 0; i < 200; i++) yield return (float)Math.Pow(10, rng.NextDouble() * 7 - 6);
    }

    private static int[] Accumulators(int seed, int count, int magnitude)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (int)rng.NextInt64(-magnitude, magnitude + 1L)).Concat(new[] { 0, 1, -1, magnitude, -magnitude }).ToArray();
    }

    [TestMethod]
    public void Of_RepresentsEveryFloat32MultiplierExactly_OrAsZeroOrSaturation()
    {
        foreach (float f in Multipliers())
        {
            FixedPoint.Of(f, out int m, out int s);
            Assert.IsTrue(s is >= FixedPoint.MinShift and <= FixedPoint.MaxShift, $"{f}: shift {s}");
            if (f == 0 || f < Math.Pow(2, -32))
            {
                Assert.AreEqual(0, m, $"{f}: below 2^-32 every product rounds to 0");
                continue;
            }
            if (f >= 512)
            {
                Assert.AreEqual(512.0, m * Math.Pow(2, -s), $"{f}: capped at 2^9 (every non-zero accumulator saturates)");
                continue;
            }
            Assert.IsTrue(m >= 1 << 30, $"{f}: multiplier {m} not normalized");
            Assert.AreEqual((double)f, m * Math.Pow(2, -s), $"{f}: {m}·2^-{s}");
        }
    }

    /// <summary>
    /// Float32 multipliers: exactly round_half_even(acc · multiplier), the real product (exact in double
    /// for |acc| ≤ 2^29); saturating multipliers agree once both are clamped to the 8-bit range.
    /// Arbitrary real multipliers (doubles): within one step (M keeps 31 bits).
    /// </summary>
    [TestMethod]
    public void Multiply_ReproducesRoundHalfToEvenOfTheRealProduct()
    {
        var acc = Accumulators(1, 2000, 1 << 29).Concat(Accumulators(2, 200, 1 << 12)).ToArray();
        foreach (float f in Multipliers())
        {
            FixedPoint.Of(f, out int m, out int s);
            foreach (int a in acc)
            {
                double exact = Math.Round(a * (double)f, MidpointRounding.ToEven);
                int actual = FixedPoint.Multiply(a, m, s);
                if (f >= 1) Assert.AreEqual(Math.Clamp(exact, -300, 300), Math.Clamp(actual, -300, 300), $"{a} x {f}");
                else Assert.AreEqual(exact, actual, $"{a} x {f}");
            }
        }
        var rng = new Random(3);
        for (int i = 0; i < 2000; i++)
        {
            double real = Math.Pow(10, rng.NextDouble() * 6 - 6);
            FixedPoint.Of(real, out int m, out int s);
            foreach (int a in acc.Take(200))
                Assert.IsTrue(Math.Abs(Math.Round(a * real, MidpointRounding.ToEven) - FixedPoint.Multiply(a, m, s)) <= 1, $"{a} x {real}");
        }
    }

    [TestMethod]
    public void Multiply_TiesRoundToEven_AsOnnxSpecifies()
    {
        FixedPoint.Of(0.5, out int m, out int s);
        CollectionAssert.AreEqual(new[] { 0, 2, 2, 2, 0, -2, -2, -2 }, new[] { 1, 3, 5, 4, -1, -3, -5, -4 }.Select(a => FixedPoint.Multiply(a, m, s)).ToArray());
    }

    /// <summary>The generator computes the constants it emits with its own compilation of the same file: same numbers.</summary>
    [TestMethod]
    public void GeneratorConstants_EqualTheKernelsRunTimeParameters()
    {
        foreach (float f in Multipliers())
        {
            FixedPoint.Of(f, out int m, out int s);
            GeneratorFixedPoint.Of(f, out int gm, out int gs);
            Assert.AreEqual((m, s), (gm, gs), f.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.AreEqual(FixedPoint.Multiplier(0.0039215689f, 0.0026614806f, 0.009004151f), GeneratorFixedPoint.Multiplier(0.0039215689f, 0.0026614806f, 0.009004151f));
    }

    /// <summary>Every SIMD width requantizes exactly as the scalar reference, for any multiplier, shift, bias, zero point and signedness.</summary>
    [TestMethod]
    public void Requantize_VectorWidthsEqualTheScalarReference()
    {
        var cases = new List<(int M, int S)> { (0, FixedPoint.MaxShift), (1 << 30, FixedPoint.MinShift), (-(1 << 30) - 12345, 35), (int.MaxValue, FixedPoint.MaxShift), (int.MaxValue, 31) };
        foreach (float f in Multipliers().Take(80))
        {
            FixedPoint.Of(f, out int m, out int s);
            cases.Add((m, s));
        }
        var acc = Accumulators(4, 61, int.MaxValue / 2).Concat(Accumulators(5, 40, 3000)).Concat(new[] { int.MinValue, int.MaxValue }).ToArray();
        foreach (var (m, s) in cases)
        {
            foreach (var (bias, zero, signed) in new[] { (0, 0, false), (777, 128, false), (-5000, -10, true), (int.MaxValue, 3, true) })
            {
                var expected = acc.Select(a => Quant.Requantize(unchecked(a + bias), m, s, zero, signed)).ToArray();
                var scalar = new byte[acc.Length];
                var v128 = new byte[acc.Length];
                var v256 = new byte[acc.Length];
                Quant.Requantize<SimdScalar, float>(ref acc[0], acc.Length, bias, m, s, zero, signed, ref scalar[0]);
                Quant.Requantize<Simd128, Vector128<float>>(ref acc[0], acc.Length, bias, m, s, zero, signed, ref v128[0]);
                Quant.Requantize<Simd256, Vector256<float>>(ref acc[0], acc.Length, bias, m, s, zero, signed, ref v256[0]);
                string what = $"M {m}, S {s}, bias {bias}, zero point {zero}, {(signed ? "int8" : "uint8")}";
                CollectionAssert.AreEqual(expected, scalar, what + " (scalar)");
                CollectionAssert.AreEqual(expected, v128, what + " (128-bit)");
                CollectionAssert.AreEqual(expected, v256, what + " (256-bit)");
                var four = new byte[4];
                Quant.Requantize4(Vector128.Create(acc[0], acc[1], acc[2], acc[3]) + Vector128.Create(bias), Vector128.Create(m), Vector128.Create(s), zero, signed, ref four[0]);
                CollectionAssert.AreEqual(expected.Take(4).ToArray(), four, what + " (four)");
            }
        }
        // Four lanes, four different multipliers and shifts (one per output column).
        for (int c = 0; c + 4 <= cases.Count; c++)
        {
            var lanes = cases.Skip(c).Take(4).ToArray();
            var expected = Enumerable.Range(0, 4).Select(k => Quant.Requantize(acc[c + k], lanes[k].M, lanes[k].S, 7, false)).ToArray();
            var four = new byte[4];
            Quant.Requantize4(Vector128.Create(acc[c], acc[c + 1], acc[c + 2], acc[c + 3]), Vector128.Create(lanes.Select(l => l.M).ToArray()), Vector128.Create(lanes.Select(l => l.S).ToArray()), 7, false, ref four[0]);
            CollectionAssert.AreEqual(expected, four, $"lanes from case {c}");
        }
    }

    /// <summary>
    /// Against ONNX Runtime's float32 requantization (round(float(acc) · multiplier), the product rounded
    /// to 24 bits first): never more than one step apart, and only on near-ties. Measured on LeNet-sized
    /// accumulators with multipliers of the magnitude static int8 LeNet-5 has.
    /// </summary>
    [TestMethod]
    public void Requantize_DiffersFromFloat32ByAtMostOneStep_OnRareNearTies()
    {
        var rng = new Random(6);
        long total = 0, differing = 0;
        for (int i = 0; i < 300; i++)
        {
            float f = (float)Math.Pow(10, rng.NextDouble() * 2 - 4); // 1e-4..1e-2
            FixedPoint.Of(f, out int m, out int s);
            foreach (int a in Accumulators(100 + i, 10_000, (int)Math.Min(int.MaxValue, 300 / f)))
            {
                int viaFloat = (int)MathF.Round(a * f);
                int fixedPoint = FixedPoint.Multiply(a, m, s);
                Assert.IsTrue(Math.Abs(viaFloat - fixedPoint) <= 1, $"{a} x {f}: float {viaFloat}, fixed point {fixedPoint}");
                total++;
                if (viaFloat != fixedPoint) differing++;
            }
        }
        TestContext.WriteLine($"fixed point vs float32 requantization: {differing} of {total} outputs differ by one step ({(double)differing / total:P4})");
        Assert.IsTrue(differing < total / 10_000, $"{differing} of {total}");
    }
}
