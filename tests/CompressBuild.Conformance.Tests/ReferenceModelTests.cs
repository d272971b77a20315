using CompressBuild.Core.Execution;
using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.Conformance.Tests;

/// <summary>
/// The shared Fashion-MNIST models exported by PyTorch: our executor and ONNX Runtime both give
/// PyTorch's logits on the first 100 test images (max abs diff ≤ 1e-4) and PyTorch's top-1 on all
/// 10,000 (the figure in shared/models/*.json).
/// </summary>
[TestClass]
public sealed class ReferenceModelTests
{
    [TestMethod]
    [DataRow("lenet5", 0.8947)]
    [DataRow("lenet300", 0.8900)]
    public void Executor_GivesPyTorchsLogitsAndTop1(string name, double pytorchTop1)
    {
        var (images, labels) = TestData.FashionMnistTest();
        var model = OnnxModel.Load(TestData.Model($"{name}.onnx"));
        var logits = new Executor(model).Run(images)[0];
        AssertMatchesPyTorch(name, logits, labels, pytorchTop1);
    }

    [TestMethod]
    [DataRow("lenet5", 0.8947)]
    [DataRow("lenet300", 0.8900)]
    public void OnnxRuntime_GivesPyTorchsLogitsAndTop1(string name, double pytorchTop1)
    {
        var (images, labels) = TestData.FashionMnistTest();
        var logits = OnnxRuntimeOracle.Run(TestData.Model($"{name}.onnx"), images)[0];
        AssertMatchesPyTorch(name, logits, labels, pytorchTop1);
    }

    private static void AssertMatchesPyTorch(string name, Tensor logits, long[] labels, double pytorchTop1)
    {
        var reference = NpyFile.Read(TestData.Model($"{name}.ref-out-100.npy"));
        var first100 = Tensor.FromArray(logits.Floats.AsSpan(0, 1000).ToArray(), 100, 10);
        double diff = Numerics.MaxAbsDiff(reference, first100);
        Assert.IsTrue(diff <= 1e-4, $"{name}: max abs diff vs PyTorch's logits {diff:G3} > 1e-4");
        double top1 = Numerics.Top1(logits, labels);
        // shared/models/*.json gives PyTorch's top-1 to 4 decimals on the 10,000 test images.
        Assert.AreEqual(pytorchTop1, top1, 0.00005, $"{name}: top-1 {top1:F4} vs PyTorch {pytorchTop1:F4}");
    }
}
