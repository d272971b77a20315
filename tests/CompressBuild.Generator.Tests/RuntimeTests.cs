using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CompressBuild.Core.Compression;
using CompressBuild.Core.Execution;
using CompressBuild.Generator.Tests.Harness;
using CompressBuild.Runtime;

namespace CompressBuild.Generator.Tests;

/// <summary>The runtime kernels directly (conversions, SIMD helpers) and every kernel target end to end.</summary>
[TestClass]
public sealed class RuntimeTests
{
    [TestMethod]
    public void HalfConversion_IsExact_ForEveryBitPattern()
    {
        var bits = new ushort[65536 + 16];
        for (int i = 0; i < 65536; i++) bits[i] = (ushort)i;
        var bytes = MemoryMarshal.AsBytes(bits.AsSpan()).ToArray();
        var v256 = new float[8];
        var v128 = new float[4];
        for (int i = 0; i < 65536; i += 8)
        {
            Simd256.Store(Simd256.LoadHalf(ref bytes[0], i), ref v256[0], 0);
            for (int k = 0; k < 4; k += 4) Simd128.Store(Simd128.LoadHalf(ref bytes[0], i + k), ref v128[0], 0);
            for (int k = 0; k < 8; k++)
            {
                float expected = (float)BitConverter.UInt16BitsToHalf((ushort)(i + k));
                float scalar = SimdScalar.LoadHalf(ref bytes[0], i + k);
                if (float.IsNaN(expected)) Assert.IsTrue(float.IsNaN(scalar) && float.IsNaN(v256[k]), $"half 0x{i + k:X4} is NaN");
                else Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(scalar), $"scalar half 0x{i + k:X4}");
                if (!float.IsNaN(expected))
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(v256[k]), $"256-bit half 0x{i + k:X4}");
                else Assert.IsTrue(float.IsNaN(v256[k]));
                if (k < 4) Assert.AreEqual(BitConverter.SingleToInt32Bits(v256[k]), BitConverter.SingleToInt32Bits(v128[k]), $"128-bit half 0x{i + k:X4}");
            }
        }
    }

    [TestMethod]
    public void SByteConversion_MatchesAcrossWidths()
    {
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(new byte[16]).ToArray();
        var v = new float[16];
        for (int i = 0; i < 256; i += 16)
        {
            Simd512.Store(Simd512.LoadSByte(ref bytes[0], i), ref v[0], 0);
            for (int k = 0; k < 16; k++)
            {
                Assert.AreEqual((float)(sbyte)bytes[i + k], v[k]);
                Assert.AreEqual((float)(sbyte)bytes[i + k], SimdScalar.LoadSByte(ref bytes[0], i + k));
                if (k % 8 == 0) Assert.AreEqual((float)(sbyte)bytes[i + k], Simd256.LoadSByte(ref bytes[0], i + k).GetElement(0));
                if (k % 4 == 0) Assert.AreEqual((float)(sbyte)bytes[i + k], Simd128.LoadSByte(ref bytes[0], i + k).GetElement(0));
            }
        }
    }

    [TestMethod]
    public void PairwiseReductions_KeepOrder()
    {
        var x = Enumerable.Range(0, 32).Select(i => (float)((i * 7) % 11) - 5f).ToArray();
        float[] Expected(int n, Func<float, float, float> f) => Enumerable.Range(0, n).Select(i => f(x[2 * i], x[2 * i + 1])).ToArray();
        var r = new float[16];
        Simd512.Store(Simd512.MaxPairs(Simd512.Load(ref x[0], 0), Simd512.Load(ref x[0], 16)), ref r[0], 0);
        CollectionAssert.AreEqual(Expected(16, MathF.Max), r);
        Simd256.Store(Simd256.AddPairs(Simd256.Load(ref x[0], 0), Simd256.Load(ref x[0], 8)), ref r[0], 0);
        CollectionAssert.AreEqual(Expected(8, (a, b) => a + b), r.Take(8).ToArray());
        Simd128.Store(Simd128.MaxPairs(Simd128.Load(ref x[0], 0), Simd128.Load(ref x[0], 4)), ref r[0], 0);
        CollectionAssert.AreEqual(Expected(4, MathF.Max), r.Take(4).ToArray());
        Assert.AreEqual(x.Take(8).Max(), Simd256.MaxAcross(Simd256.Load(ref x[0], 0)));
        Assert.AreEqual(x.Take(16).Sum(), Simd512.Sum(Simd512.Load(ref x[0], 0)), 1e-5);
    }

    [TestMethod]
    public void Relu_PropagatesNaN()
    {
        var x = new[] { float.NaN, -1f, 2f, float.NegativeInfinity, 0f, -0f, 3f, float.PositiveInfinity, float.NaN };
        var y = new float[x.Length];
        Activations.Relu<Simd256, Vector256<float>>(x, y);
        Assert.IsTrue(float.IsNaN(y[0]) && float.IsNaN(y[8]));
        CollectionAssert.AreEqual(new[] { 0f, 2f, 0f, 0f, 0f, 3f, float.PositiveInfinity }, y.Skip(1).Take(7).ToArray());
    }

    private static readonly OpCase[] TargetCases =
    {
        TestModels.ConvPad.With("int8"), TestModels.ConvStride.With("fp16"), TestModels.ConvDepthwise, TestModels.ConvDilated, TestModels.ConvGroup,
        TestModels.MaxPool2, TestModels.MaxPoolPadCeil, TestModels.AvgPoolInclude, TestModels.AvgPool2, TestModels.GlobalAvgPool,
        TestModels.GemmRelu.With("fp16"), TestModels.GemmTransA.With("int8"), TestModels.GemmRowBias, TestModels.MatMulBatched, TestModels.MatMul2D.With("int8"),
        TestModels.Softmax13, TestModels.SoftmaxMiddle, TestModels.AddChannelBias, TestModels.DivRow, TestModels.ReluInput,
    };

    private static readonly string[] Targets = { "scalar", "arm64", "x64-avx2", "x64-avx512" };

    private static readonly Lazy<(GeneratedAssembly Assembly, Dictionary<string, (OpCase Case, CompressionOutput Output)> Cases)> Retargeted = new(() =>
    {
        var cases = new Dictionary<string, (OpCase, CompressionOutput)>();
        foreach (var c in TargetCases)
        {
            var output = EndToEnd.Compress(c.Build(), c.ClassName, c.Quantize);
            foreach (var target in Targets)
            {
                string name = c.ClassName + "_" + target.Replace("-", "_", StringComparison.Ordinal);
                var plan = output.Plan.Plan;
                var retargeted = plan with
                {
                    ClassName = name,
                    Target = target,
                    Weights = plan.Weights with { File = name + ".weights.b64", ResourceName = plan.Weights.ResourceName.Length == 0 ? "" : "CompressBuild." + name + ".weights" },
                };
                cases[name] = (c, output with { Plan = output.Plan with { Plan = retargeted } });
            }
        }
        return (EndToEnd.Build(cases.Values.Select(v => v.Item2).ToList()), cases);
    });

    public static IEnumerable<object[]> TargetNames => Targets.Select(t => new object[] { t });

    [TestMethod]
    [DynamicData(nameof(TargetNames))]
    public void EveryTarget_MatchesTheExecutor(string target)
    {
        var (assembly, cases) = Retargeted.Value;
        foreach (var (name, (c, output)) in cases.Where(kv => kv.Key.EndsWith("_" + target.Replace("-", "_", StringComparison.Ordinal), StringComparison.Ordinal)))
        {
            var inputs = c.RandomInputs(5);
            var expected = new Executor(output.CompressedModel).Run(inputs);
            var actual = assembly.Create(name).Run(inputs);
            for (int k = 0; k < actual.Length; k++) Numerics.AssertClose(expected[k], actual[k], 1e-4, 1e-5, name);
        }
    }
}
