using BenchmarkDotNet.Attributes;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Benchmarks;

/// <summary>Micro-benchmarks of the kernels training spends its time in.</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private float[] _a = Array.Empty<float>();
    private float[] _b = Array.Empty<float>();
    private float[] _c = Array.Empty<float>();

    /// <summary>LeNet-300-100's first layer on a batch of 128: [128,784] × [784,300].</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _a = Enumerable.Range(0, 128 * 784).Select(_ => (float)rng.NextDouble()).ToArray();
        _b = Enumerable.Range(0, 300 * 784).Select(_ => (float)rng.NextDouble()).ToArray();
        _c = new float[128 * 300];
    }

    [Benchmark]
    public void Sgemm_128x784_by_784x300_TransB() =>
        Sgemm.Multiply(false, true, 128, 300, 784, 1f, _a, 784, _b, 784, 0f, _c, 300, 1);
}
