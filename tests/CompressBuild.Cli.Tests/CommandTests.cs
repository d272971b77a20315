using System.Globalization;
using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.Cli.Tests;

[TestClass]
public sealed class CommandTests
{
    private static Tensor First100TestImages()
    {
        var (images, _) = TestData.FashionMnistTest();
        return Tensor.FromArray(images.Floats.AsSpan(0, 100 * 784).ToArray(), 100, 1, 28, 28);
    }

    [TestMethod]
    [DataRow("lenet5")]
    [DataRow("lenet300")]
    public void Run_OnSharedModel_MatchesPyTorchReferenceOutputs(string name)
    {
        string dir = TestData.TempDirectory("run");
        string input = Path.Combine(dir, "images.npy");
        NpyFile.Write(input, First100TestImages());
        string outDir = Path.Combine(dir, "out");
        var (exit, stdout, stderr) = Cli.RunProcess("run", TestData.Model($"{name}.onnx"), "--input", input, "--out", outDir);
        Assert.AreEqual(0, exit, stderr);
        StringAssert.Contains(stdout, "output_0.pb");
        var ours = TensorFile.Read(Path.Combine(outDir, "output_0.pb"));
        Assert.AreEqual("logits", TensorFile.ReadName(Path.Combine(outDir, "output_0.pb")));
        var pytorch = NpyFile.Read(TestData.Model($"{name}.ref-out-100.npy"));
        double diff = Numerics.MaxAbsDiff(pytorch, ours);
        Assert.IsTrue(diff <= 1e-4, $"max abs diff vs PyTorch {diff:G3} > 1e-4");
    }

    [TestMethod]
    public void Run_TakesAllTenThousandTestImagesInOneBatchedNpy_AndGivesPyTorchsTop1()
    {
        var (images, labels) = TestData.FashionMnistTest();
        string dir = TestData.TempDirectory("run10k");
        string input = Path.Combine(dir, "t10k.npy");
        NpyFile.Write(input, images);
        var (exit, _, stderr) = Cli.Run("run", TestData.Model("lenet5.onnx"), "--input", input, "--out", dir);
        Assert.AreEqual(0, exit, stderr);
        var logits = TensorFile.Read(Path.Combine(dir, "output_0.pb"));
        CollectionAssert.AreEqual(new[] { 10000, 10 }, logits.Shape);
        Assert.AreEqual(0.8947, Numerics.Top1(logits, labels), 0.00005);
    }

    [TestMethod]
    public void Run_AcceptsTensorProtoInputs()
    {
        string dir = TestData.TempDirectory("runpb");
        string input = Path.Combine(dir, "input_0.pb");
        var x = RandomTensors.Uniform(1, 0f, 1f, 3, 1, 28, 28);
        TensorFile.Write(input, x, "image");
        var (exit, _, stderr) = Cli.Run("run", TestData.Model("lenet5.onnx"), "--input", input, "--out", dir);
        Assert.AreEqual(0, exit, stderr);
        var ours = TensorFile.Read(Path.Combine(dir, "output_0.pb"));
        var ort = OnnxRuntimeOracle.Run(TestData.Model("lenet5.onnx"), x)[0];
        Numerics.AssertClose(ort, ours, 1e-4, 1e-5, "lenet5 vs ONNX Runtime");
    }

    [TestMethod]
    [DataRow("lenet5", 0.8947)]
    [DataRow("lenet300", 0.8900)]
    public void Eval_OnFashionMnistTestSet_GivesPyTorchsTop1(string name, double pytorchTop1)
    {
        string root = TestData.RequireFashionMnist();
        var (exit, stdout, stderr) = Cli.Run("eval", TestData.Model($"{name}.onnx"),
            "--data", Path.Combine(root, "t10k-images-idx3-ubyte.gz"), "--labels", Path.Combine(root, "t10k-labels-idx1-ubyte.gz"));
        Assert.AreEqual(0, exit, stderr);
        var m = System.Text.RegularExpressions.Regex.Match(stdout, @"top-1 accuracy: ([0-9.]+) \((\d+) of 10000\)");
        Assert.IsTrue(m.Success, stdout);
        double acc = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.AreEqual(pytorchTop1, acc, 0.00005, $"top-1 {acc} vs PyTorch {pytorchTop1}");
    }

    [TestMethod]
    public void Inspect_ListsInputsOutputsOperatorsAndParameters()
    {
        var (exit, stdout, stderr) = Cli.Run("inspect", TestData.Model("lenet300.onnx"));
        Assert.AreEqual(0, exit, stderr);
        StringAssert.Contains(stdout, "image: FLOAT[batch,1,28,28]");
        StringAssert.Contains(stdout, "logits: FLOAT[batch,10]");
        StringAssert.Contains(stdout, "Gemm");
        StringAssert.Contains(stdout, "parameters: 266,610");
        StringAssert.Contains(stdout, "MACs per sample: 266,200");
        StringAssert.Contains(stdout, "supported: yes");
    }
}
