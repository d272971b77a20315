using CompressBuild.Core.Data;
using CompressBuild.Core.Passes;
using CompressBuild.Core.Quantization;
using CompressBuild.Core.Shapes;

namespace CompressBuild.Core.Tests.Quantization;

/// <summary>
/// The shared Fashion-MNIST models as the compressor hands them to the quantizer, the data sets the
/// quantization tests use, and their default (minmax) quantizations, built once per test run.
/// </summary>
internal static class QdqFixtures
{
    /// <summary>Training images used for calibration (the issue asks for 1,000+).</summary>
    public const int CalibrationSamples = 1000;

    private static readonly Dictionary<string, Lazy<QdqResult>> Defaults = new(StringComparer.Ordinal)
    {
        ["lenet5.onnx"] = new(() => QdqQuantizer.Quantize(Optimized("lenet5.onnx"), Calibration(), new QdqOptions())),
        ["lenet300.onnx"] = new(() => QdqQuantizer.Quantize(Optimized("lenet300.onnx"), Calibration(), new QdqOptions())),
    };

    private static readonly Dictionary<string, Lazy<double>> FloatAccuracy = new(StringComparer.Ordinal)
    {
        ["lenet5.onnx"] = new(() => Evaluation.Evaluator.Top1(Optimized("lenet5.onnx"), TestSet()).Accuracy),
        ["lenet300.onnx"] = new(() => Evaluation.Evaluator.Top1(Optimized("lenet300.onnx"), TestSet()).Accuracy),
    };

    /// <summary>A shared model after <c>PassPipeline.Optimize()</c> and shape inference, as <c>Compressor</c> does.</summary>
    public static Model Optimized(string file)
    {
        var model = OnnxModel.Load(TestData.Model(file));
        PassPipeline.Optimize().Run(model);
        ShapeInference.Run(model, strict: true);
        return model;
    }

    /// <summary>The first <see cref="CalibrationSamples"/> training images (pixel / 255), unlabelled.</summary>
    public static DataSet Calibration(int count = CalibrationSamples) => new(new DataSet(TestData.FashionMnistTrain().Images).Batch(0, count));

    /// <summary>The 10,000 test images with labels.</summary>
    public static DataSet TestSet()
    {
        var (images, labels) = TestData.FashionMnistTest();
        return new DataSet(images, labels);
    }

    /// <summary>The default quantization (per-channel, minmax, CLE and bias correction where they help).</summary>
    public static QdqResult Default(string file)
    {
        TestData.RequireFashionMnist();
        return Defaults[file].Value;
    }

    /// <summary>Top-1 of the float model on the test set.</summary>
    public static double FloatTop1(string file) => FloatAccuracy[file].Value;
}
