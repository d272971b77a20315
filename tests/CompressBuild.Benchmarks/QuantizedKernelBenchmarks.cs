using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using CompressBuild.Runtime;
using V256 = System.Runtime.Intrinsics.Vector256<float>;

namespace CompressBuild.Benchmarks;

/// <summary>
/// Where batch-1 static int8 time goes: each step of the int8 LeNet-5 plan (and LeNet-300's first
/// layer) beside the fp32 kernel of the same layer, on random data with the plans' shapes and types
/// (uint8 activations, int8 per-channel weights, int32 bias). The runtime kernels are the ones the
/// generator emitted into this assembly, called as the predictors call them (256-bit SIMD).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
public class QuantizedKernelBenchmarks
{
    private readonly byte[] _image8 = Bytes(784, 0, 256);
    private readonly float[] _image = Floats(784);
    private readonly byte[] _w1 = Bytes(150, -127, 128), _w2 = Bytes(2400, -127, 128), _w3 = Bytes(48000, -127, 128), _w300 = Bytes(784 * 300, -127, 128);
    private readonly float[] _f1 = Floats(150), _f2 = Floats(2400), _f3 = Floats(48000), _f300 = Floats(784 * 300);
    private readonly float[] _scale1 = { 0.004f };
    private readonly int[] _multipliers = Enumerable.Range(0, 300).Select(i => (1 << 30) + i * 997).ToArray(), _shifts = Enumerable.Range(0, 300).Select(i => 38 + i % 3).ToArray();
    private readonly int[] _bias = Enumerable.Range(0, 300).Select(i => i * 37 % 2000 - 1000).ToArray();
    private readonly float[] _fBias = Floats(300);
    private readonly byte[] _zero = new byte[300];
    private readonly byte[] _conv1Out = new byte[4704], _pool1Out = Bytes(1176, 0, 256), _conv2Out = new byte[1600], _fc1In = Bytes(400, 0, 256), _fc1Out = new byte[300];
    private readonly float[] _fConv1Out = new float[4704], _fPool1Out = Floats(1176), _fConv2Out = new float[1600], _fFc1In = Floats(400), _fFc1Out = new float[300];
    private readonly float[] _scratch = new float[32768];

    [Benchmark(Description = "QuantizeLinear 784")]
    public void Quantize() => Quant.Quantize<Q784, Simd256, V256>(_image, _scale1, _zero.AsSpan(0, 1), _image8);

    [Benchmark(Description = "QLinearConv 1->6 5x5 pad 2, 28x28")]
    public void QConv1() => QConv.Linear<QC1, Simd256, V256>(_image8, _zero.AsSpan(0, 1), _w1, _zero.AsSpan(0, 1),
        Requantization.Fixed(_multipliers.AsSpan(0, 6), _shifts.AsSpan(0, 6), 0), _bias.AsSpan(0, 6), _conv1Out, Scratch(QConv.ScratchInts<QC1>()));

    [Benchmark(Description = "Conv fp32 1->6 5x5 pad 2, 28x28 (Relu)")]
    public void Conv1() => Conv.Run<FC1, F32, Simd256, V256>(_image, MemoryMarshal.AsBytes(_f1.AsSpan()), default, _fBias.AsSpan(0, 6), _fConv1Out, Scratch(Conv.ScratchFloats<FC1>()));

    [Benchmark(Description = "MaxPool uint8 6x28x28")]
    public void QPool1() => QPool.Max2x2<QP1, Simd256, V256>(_conv1Out, _pool1Out);

    [Benchmark(Description = "QLinearConv 6->16 5x5, 14x14")]
    public void QConv2() => QConv.Linear<QC2, Simd256, V256>(_pool1Out, _zero.AsSpan(0, 1), _w2, _zero.AsSpan(0, 1),
        Requantization.Fixed(_multipliers.AsSpan(0, 16), _shifts.AsSpan(0, 16), 0), _bias.AsSpan(0, 16), _conv2Out, Scratch(QConv.ScratchInts<QC2>()));

    [Benchmark(Description = "Conv fp32 6->16 5x5, 14x14 (Relu)")]
    public void Conv2() => Conv.Run<FC2, F32, Simd256, V256>(_fPool1Out, MemoryMarshal.AsBytes(_f2.AsSpan()), default, _fBias.AsSpan(0, 16), _fConv2Out, Scratch(Conv.ScratchFloats<FC2>()));

    [Benchmark(Description = "QGemm 400->120")]
    public void QGemm120() => QGemm.Linear<QG400x120, Simd256, V256>(_fc1In, _zero.AsSpan(0, 1), _w3, _zero.AsSpan(0, 120),
        _bias.AsSpan(0, 120), Requantization.Fixed(_multipliers.AsSpan(0, 120), _shifts.AsSpan(0, 120), 0), _fc1Out.AsSpan(0, 120), Scratch(QGemm.ScratchInts<QG400x120>()));

    [Benchmark(Description = "Gemm fp32 400->120 (Relu)")]
    public void Gemm120() => Gemm.Run<FG400x120, F32, Simd256, V256>(_fFc1In, MemoryMarshal.AsBytes(_f3.AsSpan()), default, _fBias.AsSpan(0, 120), _fFc1Out.AsSpan(0, 120));

    [Benchmark(Description = "QGemm 784->300")]
    public void QGemm300() => QGemm.Linear<QG784x300, Simd256, V256>(_image8, _zero.AsSpan(0, 1), _w300, _zero,
        _bias, Requantization.Fixed(_multipliers, _shifts, 0), _fc1Out, Scratch(QGemm.ScratchInts<QG784x300>()));

    [Benchmark(Description = "Gemm fp32 784->300 (Relu)")]
    public void Gemm300() => Gemm.Run<FG784x300, F32, Simd256, V256>(_image, MemoryMarshal.AsBytes(_f300.AsSpan()), default, _fBias, _fFc1Out);

    private Span<float> Scratch(int floats) => _scratch.AsSpan(0, floats);

    private static byte[] Bytes(int n, int lo, int hi)
    {
        var rng = new Random(n);
        return Enumerable.Range(0, n).Select(_ => (byte)rng.Next(lo, hi)).ToArray();
    }

    private static float[] Floats(int n)
    {
        var rng = new Random(n + 1);
        return Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    private struct Q784 : IQuantizeShape
    {
        public static int Outer => 1;
        public static int Channels => 1;
        public static int Inner => 784;
        public static bool Signed => false;
    }

    /// <summary>LeNet-5's first convolution as a static int8 step (also used by <see cref="RequantizationBenchmarks"/>).</summary>
    internal struct QC1 : IQConvShape
    {
        public static int InChannels => 1;
        public static int InHeight => 28;
        public static int InWidth => 28;
        public static int OutChannels => 6;
        public static int OutHeight => 28;
        public static int OutWidth => 28;
        public static int KernelHeight => 5;
        public static int KernelWidth => 5;
        public static int StrideHeight => 1;
        public static int StrideWidth => 1;
        public static int DilationHeight => 1;
        public static int DilationWidth => 1;
        public static int PadTop => 2;
        public static int PadLeft => 2;
        public static int Groups => 1;
        public static bool XSigned => false;
        public static bool WSigned => true;
        public static bool YSigned => false;
    }

    private struct FC1 : IConvShape
    {
        public static int InChannels => 1;
        public static int InHeight => 28;
        public static int InWidth => 28;
        public static int OutChannels => 6;
        public static int OutHeight => 28;
        public static int OutWidth => 28;
        public static int KernelHeight => 5;
        public static int KernelWidth => 5;
        public static int StrideHeight => 1;
        public static int StrideWidth => 1;
        public static int DilationHeight => 1;
        public static int DilationWidth => 1;
        public static int PadTop => 2;
        public static int PadLeft => 2;
        public static int Groups => 1;
        public static bool HasBias => true;
        public static bool ScalePerChannel => false;
        public static bool Relu => true;
    }

    private struct QP1 : IQPoolShape
    {
        public static int Planes => 6;
        public static int InHeight => 28;
        public static int InWidth => 28;
        public static int OutHeight => 14;
        public static int OutWidth => 14;
        public static bool Signed => false;
    }

    private struct QC2 : IQConvShape
    {
        public static int InChannels => 6;
        public static int InHeight => 14;
        public static int InWidth => 14;
        public static int OutChannels => 16;
        public static int OutHeight => 10;
        public static int OutWidth => 10;
        public static int KernelHeight => 5;
        public static int KernelWidth => 5;
        public static int StrideHeight => 1;
        public static int StrideWidth => 1;
        public static int DilationHeight => 1;
        public static int DilationWidth => 1;
        public static int PadTop => 0;
        public static int PadLeft => 0;
        public static int Groups => 1;
        public static bool XSigned => false;
        public static bool WSigned => true;
        public static bool YSigned => false;
    }

    private struct FC2 : IConvShape
    {
        public static int InChannels => 6;
        public static int InHeight => 14;
        public static int InWidth => 14;
        public static int OutChannels => 16;
        public static int OutHeight => 10;
        public static int OutWidth => 10;
        public static int KernelHeight => 5;
        public static int KernelWidth => 5;
        public static int StrideHeight => 1;
        public static int StrideWidth => 1;
        public static int DilationHeight => 1;
        public static int DilationWidth => 1;
        public static int PadTop => 0;
        public static int PadLeft => 0;
        public static int Groups => 1;
        public static bool HasBias => true;
        public static bool ScalePerChannel => false;
        public static bool Relu => true;
    }

    private struct QG400x120 : IQGemmShape
    {
        public static int M => 1;
        public static int N => 120;
        public static int K => 400;
        public static bool TransA => false;
        public static bool TransB => true;
        public static bool ASigned => false;
        public static bool BSigned => true;
        public static bool YSigned => false;
        public static float Alpha => 1f;
        public static bool HasC => true;
        public static int CRowStride => 0;
        public static int CColStride => 1;
        public static int Batch => 1;
        public static int AStride => 0;
        public static int BStride => 0;
    }

    private struct QG784x300 : IQGemmShape
    {
        public static int M => 1;
        public static int N => 300;
        public static int K => 784;
        public static bool TransA => false;
        public static bool TransB => true;
        public static bool ASigned => false;
        public static bool BSigned => true;
        public static bool YSigned => false;
        public static float Alpha => 1f;
        public static bool HasC => true;
        public static int CRowStride => 0;
        public static int CColStride => 1;
        public static int Batch => 1;
        public static int AStride => 0;
        public static int BStride => 0;
    }

    private struct FG400x120 : IGemmShape
    {
        public static int M => 1;
        public static int N => 120;
        public static int K => 400;
        public static bool TransA => false;
        public static bool TransB => true;
        public static float Alpha => 1f;
        public static float Beta => 1f;
        public static bool HasC => true;
        public static int CRowStride => 0;
        public static int CColStride => 1;
        public static bool ScalePerColumn => false;
        public static bool Relu => true;
    }

    private struct FG784x300 : IGemmShape
    {
        public static int M => 1;
        public static int N => 300;
        public static int K => 784;
        public static bool TransA => false;
        public static bool TransB => true;
        public static float Alpha => 1f;
        public static float Beta => 1f;
        public static bool HasC => true;
        public static int CRowStride => 0;
        public static int CColStride => 1;
        public static bool ScalePerColumn => false;
        public static bool Relu => true;
    }
}
