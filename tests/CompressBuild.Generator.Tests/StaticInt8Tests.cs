using CompressBuild.Core.Compression;
using CompressBuild.Generator.Tests.Harness;

namespace CompressBuild.Generator.Tests;

/// <summary>
/// Static int8 (int8 weights, uint8 activations calibrated on 2,000 of the training images, integer
/// kernels) on the shared models through the whole chain: the generated predictor against the QDQ
/// model it was planned from, run by ONNX Runtime, on the 10,000 Fashion-MNIST test images.
/// </summary>
[TestClass]
public sealed class StaticInt8Tests
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly Lazy<(GeneratedAssembly Assembly, Dictionary<string, CompressionOutput> Outputs)> Models = new(() =>
    {
        string train = Path.Combine(TestData.RequireFashionMnist(), "train-images-idx3-ubyte.gz");
        var outputs = new Dictionary<string, CompressionOutput>();
        foreach (var (file, name) in new[] { ("lenet5.onnx", "LeNet5Static"), ("lenet300.onnx", "LeNet300Static") })
            outputs[name] = Compressor.Run(TestData.Model(file), new CompressionSettings
            {
                ClassName = name,
                Namespace = EndToEnd.Namespace,
                Quantize = "int8",
                Activations = "int8",
                CalibrationData = train,
            });
        return (EndToEnd.Build(outputs.Values.ToList()), outputs);
    });

    [TestMethod]
    [DataRow("LeNet5Static", 0.8947)]
    [DataRow("LeNet300Static", 0.8900)]
    public void Predictor_AgreesWithOnnxRuntimeOnTheQdqModel_AndKeepsAccuracy(string name, double floatTop1)
    {
        var (images, labels) = TestData.FashionMnistTest();
        var (assembly, outputs) = Models.Value;
        var predictor = assembly.Create(name).Run(new[] { images })[0];
        var ort = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(outputs[name].CompressedModel), images)[0];
        double agreement = Numerics.ArgMaxAgreement(predictor, ort);
        double top1 = Numerics.Top1(predictor, labels), ortTop1 = Numerics.Top1(ort, labels);
        TestContext.WriteLine($"{name}: predictor top-1 {top1:F4}, ONNX Runtime on the QDQ model {ortTop1:F4}, argmax agreement {agreement:P2}");
        Assert.IsTrue(agreement >= 0.99, $"argmax agreement {agreement:P2} < 99%");
        Assert.IsTrue(floatTop1 - top1 <= 0.003, $"top-1 {floatTop1:F4} -> {top1:F4}");
    }

    [TestMethod]
    public void Predictor_UsesIntegerKernels_StoresAQuarterOfTheBytes_AndAllocatesNothing()
    {
        var (assembly, outputs) = Models.Value;
        foreach (var (name, output) in outputs)
        {
            var ops = output.Plan.Plan.Steps.Select(s => s.Op).ToList();
            Assert.IsTrue(ops.Contains("QLinearConv") || ops.Contains("QGemm"), $"{name}: {string.Join(", ", ops)}");
            Assert.IsFalse(ops.Contains("Conv") || ops.Contains("Gemm"), $"{name} still has float layers: {string.Join(", ", ops)}");
            long weights = assembly.Create(name).Constant<long>("WeightBytes");
            Assert.IsTrue(weights <= 0.27 * output.Report.OriginalBytes, $"{name}: {weights} of {output.Report.OriginalBytes} bytes");
            Assert.AreEqual(0L, assembly.Create(name).Allocated(new[] { new float[784] }, 100), $"{name} allocated during Predict");
        }
    }
}
