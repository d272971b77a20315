using CompressBuild.Onnx;
using CompressBuild.Onnx.DataFiles;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CompressBuild.TestSupport;

/// <summary>
/// Locates test data. Data that comes from Debian packages is never optional in silence: a test
/// that needs it and cannot find it ends Inconclusive with the command that installs it.
/// </summary>
public static class TestData
{
    /// <summary>The repository root (the folder holding CompressBuild.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>tests/data/models: the Fashion-MNIST reference models copied from shared/models.</summary>
    public static string ModelsDirectory => Path.Combine(RepoRoot, "tests", "data", "models");

    /// <summary>Path of a reference model file, e.g. <c>lenet5.onnx</c>.</summary>
    public static string Model(string fileName) => Path.Combine(ModelsDirectory, fileName);

    /// <summary>
    /// Root of Debian's libonnx-testdata (<c>.../data</c> with node, pytorch-converted, ...);
    /// override with COMPRESSBUILD_ONNX_TESTDATA.
    /// </summary>
    public static string OnnxSuiteRoot =>
        Environment.GetEnvironmentVariable("COMPRESSBUILD_ONNX_TESTDATA") is { Length: > 0 } p ? p : "/usr/share/libonnx-testdata/data";

    /// <summary>
    /// Root of Debian's dataset-fashion-mnist; override with COMPRESSBUILD_FASHION_MNIST.
    /// </summary>
    public static string FashionMnistRoot =>
        Environment.GetEnvironmentVariable("COMPRESSBUILD_FASHION_MNIST") is { Length: > 0 } p ? p : "/usr/share/datasets/fashion-mnist";

    /// <summary>The ONNX suite root, or Inconclusive with the install command.</summary>
    public static string RequireOnnxSuite()
    {
        if (!Directory.Exists(Path.Combine(OnnxSuiteRoot, "node")))
            Assert.Inconclusive($"The ONNX backend test suite is not installed at {OnnxSuiteRoot}. Install it with: sudo apt-get install -y libonnx-testdata (or set COMPRESSBUILD_ONNX_TESTDATA).");
        return OnnxSuiteRoot;
    }

    /// <summary>The Fashion-MNIST folder, or Inconclusive with the install command.</summary>
    public static string RequireFashionMnist()
    {
        if (!File.Exists(Path.Combine(FashionMnistRoot, "t10k-images-idx3-ubyte.gz")))
            Assert.Inconclusive($"Fashion-MNIST is not installed at {FashionMnistRoot}. Install it with: sudo apt-get install -y dataset-fashion-mnist (or set COMPRESSBUILD_FASHION_MNIST).");
        return FashionMnistRoot;
    }

    private static readonly Lazy<(Tensor Images, long[] Labels)> TestSet = new(() => LoadSet("t10k"));
    private static readonly Lazy<(Tensor Images, long[] Labels)> TrainSet = new(() => LoadSet("train"));

    /// <summary>The 10,000 Fashion-MNIST test images as float [10000,1,28,28] scaled by 1/255, and labels.</summary>
    public static (Tensor Images, long[] Labels) FashionMnistTest()
    {
        RequireFashionMnist();
        return TestSet.Value;
    }

    /// <summary>The 60,000 Fashion-MNIST training images as float [60000,1,28,28] scaled by 1/255, and labels.</summary>
    public static (Tensor Images, long[] Labels) FashionMnistTrain()
    {
        RequireFashionMnist();
        return TrainSet.Value;
    }

    private static (Tensor, long[]) LoadSet(string prefix)
    {
        var raw = IdxFile.Read(Path.Combine(FashionMnistRoot, $"{prefix}-images-idx3-ubyte.gz"));
        var labels = IdxFile.Read(Path.Combine(FashionMnistRoot, $"{prefix}-labels-idx1-ubyte.gz"));
        var bytes = raw.Span<byte>();
        var images = new float[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) images[i] = bytes[i] / 255f;
        int n = raw.Shape[0];
        return (Tensor.FromArray(images, n, 1, raw.Shape[1], raw.Shape[2]), labels.ToInt64Array());
    }

    /// <summary>A fresh empty temporary folder, deleted when the process ends if possible.</summary>
    public static string TempDirectory(string hint = "cb")
    {
        string dir = Path.Combine(Path.GetTempPath(), "compressbuild-tests", $"{hint}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CompressBuild.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("CompressBuild.sln not found above " + AppContext.BaseDirectory);
    }
}
