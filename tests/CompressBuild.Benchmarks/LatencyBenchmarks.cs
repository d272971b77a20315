using BenchmarkDotNet.Attributes;
using CompressBuild.Benchmarks.Models;
using CompressBuild.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace CompressBuild.Benchmarks;

/// <summary>
/// Batch-1 latency of the generated predictors beside ONNX Runtime on the same model, same machine,
/// same run: ONNX Runtime with one intra-op thread and OrtValues over pinned buffers allocated once
/// (its fastest steady state), the predictors as a consumer calls them.
/// </summary>
public abstract class LatencyBenchmark : IDisposable
{
    private readonly float[] _image = new float[784];
    private readonly float[] _logits = new float[10];
    private InferenceSession? _session;
    private OrtValue? _input;
    private OrtValue? _output;
    private Microsoft.ML.OnnxRuntime.RunOptions? _run;
    private string[] _inputNames = Array.Empty<string>();
    private string[] _outputNames = Array.Empty<string>();

    /// <summary>The model file under tests/data/models.</summary>
    protected abstract string ModelFile { get; }

    /// <summary>Runs the fp32 predictor once.</summary>
    protected abstract void PredictFp32(ReadOnlySpan<float> image, Span<float> logits);

    /// <summary>Runs the int8 predictor once.</summary>
    protected abstract void PredictInt8(ReadOnlySpan<float> image, Span<float> logits);

    [GlobalSetup]
    public void Setup()
    {
        // A real test image when the data set is installed, else a fixed random one.
        var path = Path.Combine(TestData.FashionMnistRoot, "t10k-images-idx3-ubyte.gz");
        var source = File.Exists(path) ? TestData.FashionMnistTest().Images.Floats.AsSpan(0, 784).ToArray()
            : RandomTensors.Uniform(1, 0f, 1f, 784).Floats;
        source.CopyTo(_image, 0);
        var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        _session = new InferenceSession(TestData.Model(ModelFile), options);
        _input = OrtValue.CreateTensorValueFromMemory(_image, new long[] { 1, 1, 28, 28 });
        _output = OrtValue.CreateTensorValueFromMemory(_logits, new long[] { 1, 10 });
        _run = new Microsoft.ML.OnnxRuntime.RunOptions();
        _inputNames = _session.InputNames.ToArray();
        _outputNames = _session.OutputNames.ToArray();
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime 1.31 (fp32, 1 thread)")]
    public void OnnxRuntime() => _session!.Run(_run!, _inputNames, new[] { _input! }, _outputNames, new[] { _output! });

    [Benchmark(Description = "CompressBuild fp32")]
    public void CompressBuildFp32() => PredictFp32(_image, _logits);

    [Benchmark(Description = "CompressBuild int8 weights")]
    public void CompressBuildInt8() => PredictInt8(_image, _logits);

    [GlobalCleanup]
    public void Dispose()
    {
        _input?.Dispose();
        _output?.Dispose();
        _run?.Dispose();
        _session?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>LeNet-5 (Conv, MaxPool, Gemm; 416k MACs).</summary>
[MemoryDiagnoser]
public class LeNet5Latency : LatencyBenchmark
{
    private readonly LeNet5Fp32 _fp32 = new();
    private readonly LeNet5Int8 _int8 = new();

    protected override string ModelFile => "lenet5.onnx";

    protected override void PredictFp32(ReadOnlySpan<float> image, Span<float> logits) => _fp32.Predict(image, logits);

    protected override void PredictInt8(ReadOnlySpan<float> image, Span<float> logits) => _int8.Predict(image, logits);
}

/// <summary>LeNet-300-100 (Gemm; 266k MACs).</summary>
[MemoryDiagnoser]
public class LeNet300Latency : LatencyBenchmark
{
    private readonly LeNet300Fp32 _fp32 = new();
    private readonly LeNet300Int8 _int8 = new();

    protected override string ModelFile => "lenet300.onnx";

    protected override void PredictFp32(ReadOnlySpan<float> image, Span<float> logits) => _fp32.Predict(image, logits);

    protected override void PredictInt8(ReadOnlySpan<float> image, Span<float> logits) => _int8.Predict(image, logits);
}
