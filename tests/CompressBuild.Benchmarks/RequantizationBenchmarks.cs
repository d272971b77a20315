using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using CompressBuild.Runtime;
using V256 = System.Runtime.Intrinsics.Vector256<float>;

namespace CompressBuild.Benchmarks;

/// <summary>
/// The requantization epilogue alone, on LeNet-5's int8 output sizes (conv1: 6 channels x 28 rows of
/// 28; conv2: 16 x 10 rows of 10; fc1: 120 outputs four at a time), fixed point (the kernels') beside
/// the float32 requantization it replaced (kept here as the baseline), and the whole first QLinearConv
/// with generated-style constants, so the epilogue's share of the kernel shows (256-bit SIMD).
/// Run: <c>dotnet run -c Release --project tests/CompressBuild.Benchmarks -- qkernels --filter *Requantization*</c>.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
public class RequantizationBenchmarks
{
    private const float Multiplier = 0.0026614806f * 0.003921569f / 0.009004151f;

    private readonly int[] _acc = Accumulators(6 * 28 * 28);
    private readonly byte[] _y = new byte[6 * 28 * 28];
    private readonly int[] _multipliers = new int[120], _shifts = new int[120];
    private readonly float[] _floatMultipliers = new float[120];
    private readonly byte[] _x = new byte[784], _w = new byte[150], _zero = new byte[6];
    private readonly int[] _bias = { 361, -5290, 5952, 17000, 10935, -3496 };
    private readonly float[] _scratch = new float[QConv.ScratchInts<QuantizedKernelBenchmarks.QC1>()];

    public RequantizationBenchmarks()
    {
        var rng = new Random(2);
        for (int j = 0; j < 120; j++)
        {
            _floatMultipliers[j] = Multiplier * (0.5f + (float)rng.NextDouble());
            FixedPoint.Of(_floatMultipliers[j], out _multipliers[j], out _shifts[j]);
        }
        rng.NextBytes(_x);
        rng.NextBytes(_w);
    }

    [Benchmark(Description = "conv1 epilogue 6x28x28, fixed point")]
    public void Conv1Fixed() => Rows(6, 28, 28, fixedPoint: true);

    [Benchmark(Description = "conv1 epilogue 6x28x28, float32")]
    public void Conv1Float() => Rows(6, 28, 28, fixedPoint: false);

    [Benchmark(Description = "conv2 epilogue 16x10x10, fixed point")]
    public void Conv2Fixed() => Rows(16, 10, 10, fixedPoint: true);

    [Benchmark(Description = "conv2 epilogue 16x10x10, float32")]
    public void Conv2Float() => Rows(16, 10, 10, fixedPoint: false);

    [Benchmark(Description = "fc1 epilogue 120 (x4), fixed point")]
    public void Fc1Fixed()
    {
        for (int j = 0; j < 120; j += 4)
            Quant.Requantize4(Vector128.Create(_acc[j], _acc[j + 1], _acc[j + 2], _acc[j + 3]), Vector128.Create(_multipliers[j], _multipliers[j + 1], _multipliers[j + 2], _multipliers[j + 3]),
                Vector128.Create(_shifts[j], _shifts[j + 1], _shifts[j + 2], _shifts[j + 3]), 0, false, ref _y[j]);
    }

    [Benchmark(Description = "fc1 epilogue 120 (x4), float32")]
    public void Fc1Float()
    {
        for (int j = 0; j < 120; j += 4)
            FloatRequantize4(Vector128.Create(_acc[j], _acc[j + 1], _acc[j + 2], _acc[j + 3]), Vector128.Create(_floatMultipliers[j], _floatMultipliers[j + 1], _floatMultipliers[j + 2], _floatMultipliers[j + 3]), 0, ref _y[j]);
    }

    [Benchmark(Description = "QLinearConv 1->6 5x5 pad 2, 28x28, generated constants")]
    public void Conv1Kernel() => QConv.Linear<QuantizedKernelBenchmarks.QC1, Simd256, V256>(_x, _zero.AsSpan(0, 1), _w, _zero, Requantization.Fixed(_multipliers.AsSpan(0, 6), _shifts.AsSpan(0, 6), 0),
        _bias, _y.AsSpan(0, 4704), _scratch);

    private void Rows(int channels, int rows, int width, bool fixedPoint)
    {
        for (int m = 0, at = 0; m < channels; m++)
        {
            for (int r = 0; r < rows; r++, at += width)
            {
                if (fixedPoint) Quant.Requantize<Simd256, V256>(ref _acc[at], width, _bias[m % 6], _multipliers[m], _shifts[m], 0, false, ref _y[at]);
                else FloatRequantize(ref _acc[at], width, _bias[m % 6], _floatMultipliers[m], 0, ref _y[at]);
            }
        }
    }

    private static int[] Accumulators(int n)
    {
        var rng = new Random(1);
        return Enumerable.Range(0, n).Select(_ => rng.Next(-40_000, 40_000)).ToArray();
    }

    // The replaced float32 requantization (uint8 output, 256-bit): clamp, round half to even with 1.5·2^23, add the zero point, narrow.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FloatRequantize(ref int acc, int count, int bias, float multiplier, int zeroPoint, ref byte y)
    {
        var m8 = Vector256.Create(multiplier);
        var b8 = Vector256.Create(bias);
        var lo8 = Vector256.Create(0f - zeroPoint);
        var hi8 = Vector256.Create(255f - zeroPoint);
        var zp8 = Vector256.Create(zeroPoint);
        var magic = Vector256.Create(12582912f);
        for (int i = 0; ; i += 8)
        {
            if (i > count - 8) i = count - 8;
            var v = Vector256.Min(Vector256.Max(Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref acc, (nuint)i) + b8) * m8, lo8), hi8);
            var q = Vector256.ConvertToInt32((v + magic) - magic) + zp8;
            var shorts = Vector128.Narrow(q.GetLower().AsUInt32(), q.GetUpper().AsUInt32());
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref y, i), Vector128.Narrow(shorts, shorts).AsUInt64().ToScalar());
            if (i == count - 8) break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FloatRequantize4(Vector128<int> acc, Vector128<float> multipliers, int zeroPoint, ref byte y)
    {
        var v = Vector128.Min(Vector128.Max(Vector128.ConvertToSingle(acc) * multipliers, Vector128.Create(0f - zeroPoint)), Vector128.Create(255f - zeroPoint));
        var magic = Vector128.Create(12582912f);
        var q = Vector128.ConvertToInt32((v + magic) - magic) + Vector128.Create(zeroPoint);
        var shorts = Vector128.Narrow(q.AsUInt32(), q.AsUInt32());
        Unsafe.WriteUnaligned(ref y, Vector128.Narrow(shorts, shorts).AsUInt32().ToScalar());
    }
}
