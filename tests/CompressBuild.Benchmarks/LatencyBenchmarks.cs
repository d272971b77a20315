using BenchmarkDotNet.Attributes;
using CompressBuild.Benchmarks.Models;
using CompressBuild.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace CompressBuild.Benchmarks;

/// <summary>
/// Batch-1 latency of the generated predictors beside ONNX Runtime on the same model, same machine,
/// same run: ONNX Runtime with one intra-op thread and OrtValues over pinned buffers allocated once
/// (its fastest steady state), on the original model and on our static int8 QDQ output; the
/// predictors as a consumer calls them.
/// </summary>
public abstract class LatencyBenchmark : IDisposable
{
    private readonly float[] _image = new float[784];
    private readonly float[] _logits = new float[10];
    private OrtRunner? _original;
    private OrtRunner? _qdq;

    /// <summary>The model file under tests/data/models.</summary>
    protected abstract string ModelFile { get; }

    /// <summary>Runs the fp32 predictor once.</summary>
    protected abstract void PredictFp32(ReadOnlySpan<float> image, Span<float> logits);

    /// <summary>Runs the int8-weights predictor once.</summary>
    protected abstract void PredictInt8(ReadOnlySpan<float> image, Span<float> logits);

    /// <summary>Runs the static int8 predictor once (integer kernels).</summary>
    protected abstract void PredictInt8Static(ReadOnlySpan<float> image, Span<float> logits);

    /// <summary>The static int8 QDQ model the build wrote, copied next to the benchmark.</summary>
    protected abstract string QdqFile { get; }

    [GlobalSetup]
    public void Setup()
    {
        // A real test image when the data set is installed, else a fixed random one.
        var path = Path.Combine(TestData.FashionMnistRoot, "t10k-images-idx3-ubyte.gz");
        var source = File.Exists(path) ? TestData.FashionMnistTest().Images.Floats.AsSpan(0, 784).ToArray()
            : RandomTensors.Uniform(1, 0f, 1f, 784).Floats;
        source.CopyTo(_image, 0);
        _original = new OrtRunner(TestData.Model(ModelFile), _image, _logits);
        string qdq = Path.Combine(AppContext.BaseDirectory, "qdq", QdqFile);
        if (File.Exists(qdq)) _qdq = new OrtRunner(qdq, _image, _logits);
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime 1.31 (fp32, 1 thread)")]
    public void OnnxRuntime() => _original!.Run();

    [Benchmark(Description = "ONNX Runtime 1.31 on our static int8 QDQ model")]
    public void OnnxRuntimeQdq() => (_qdq ?? throw new InvalidOperationException("build with the Fashion-MNIST data installed to get the QDQ model")).Run();

    [Benchmark(Description = "CompressBuild fp32")]
    public void CompressBuildFp32() => PredictFp32(_image, _logits);

    [Benchmark(Description = "CompressBuild int8 weights")]
    public void CompressBuildInt8() => PredictInt8(_image, _logits);

    [Benchmark(Description = "CompressBuild static int8")]
    public void CompressBuildInt8Static() => PredictInt8Static(_image, _logits);

    [GlobalCleanup]
    public void Dispose()
    {
        _original?.Dispose();
        _qdq?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>One ONNX Runtime session on one thread, run over OrtValues pinned once.</summary>
    private sealed class OrtRunner : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly OrtValue _input;
        private readonly OrtValue _output;
        private readonly Microsoft.ML.OnnxRuntime.RunOptions _run = new();
        private readonly string[] _inputNames;
        private readonly string[] _outputNames;

        public OrtRunner(string model, float[] image, float[] logits)
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            _session = new InferenceSession(model, options);
            _input = OrtValue.CreateTensorValueFromMemory(image, new long[] { 1, 1, 28, 28 });
            _output = OrtValue.CreateTensorValueFromMemory(logits, new long[] { 1, 10 });
            _inputNames = _session.InputNames.ToArray();
            _outputNames = _session.OutputNames.ToArray();
        }

        public void Run() => _session.Run(_run, _inputNames, new[] { _input }, _outputNames, new[] { _output });

        public void Dispose()
        {
            _input.Dispose();
            _output.Dispose();
            _run.Dispose();
            _session.Dispose();
        }
    }
}

/// <summary>LeNet-5 (Conv, MaxPool, Gemm; 416k MACs).</summary>
[MemoryDiagnoser]
public class LeNet5Latency : LatencyBenchmark
{
    private readonly LeNet5Fp32 _fp32 = new();
    private readonly LeNet5Int8 _int8 = new();
#if STATIC_INT8
    private readonly LeNet5Int8Static _static = new();
#endif

    protected override string ModelFile => "lenet5.onnx";

    protected override string QdqFile => "LeNet5Int8Static.onnx";

    protected override void PredictFp32(ReadOnlySpan<float> image, Span<float> logits) => _fp32.Predict(image, logits);

    protected override void PredictInt8(ReadOnlySpan<float> image, Span<float> logits) => _int8.Predict(image, logits);

#if STATIC_INT8
    protected override void PredictInt8Static(ReadOnlySpan<float> image, Span<float> logits) => _static.Predict(image, logits);
#else
    protected override void PredictInt8Static(ReadOnlySpan<float> image, Span<float> logits) =>
        throw new InvalidOperationException("build with the Fashion-MNIST data installed to get the static int8 predictor");
#endif
}

/// <summary>LeNet-300-100 (Gemm; 266k MACs).</summary>
[MemoryDiagnoser]
public class LeNet300Latency : LatencyBenchmark
{
    private readonly LeNet300Fp32 _fp32 = new();
    private readonly LeNet300Int8 _int8 = new();
#if STATIC_INT8
    private readonly LeNet300Int8Static _static = new();
#endif

    protected override string ModelFile => "lenet300.onnx";

    protected override string QdqFile => "LeNet300Int8Static.onnx";

    protected override void PredictFp32(ReadOnlySpan<float> image, Span<float> logits) => _fp32.Predict(image, logits);

    protected override void PredictInt8(ReadOnlySpan<float> image, Span<float> logits) => _int8.Predict(image, logits);

#if STATIC_INT8
    protected override void PredictInt8Static(ReadOnlySpan<float> image, Span<float> logits) => _static.Predict(image, logits);
#else
    protected override void PredictInt8Static(ReadOnlySpan<float> image, Span<float> logits) =>
        throw new InvalidOperationException("build with the Fashion-MNIST data installed to get the static int8 predictor");
#endif
}
