using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.Onnx.Tests;

[TestClass]
public sealed class DataFileTests
{
    [TestMethod]
    public void ReferenceOutputsNpy_WrittenByNumPy_ReadsAsFloat100x10()
    {
        var t = NpyFile.Read(TestData.Model("lenet5.ref-out-100.npy"));
        Assert.AreEqual(DataType.Float, t.DataType);
        CollectionAssert.AreEqual(new[] { 100, 10 }, t.Shape);
        Assert.IsTrue(t.Floats.Any(v => v != 0));
    }

    [TestMethod]
    public void Npy_RoundTrips_EveryNumericType_AndIsReadableByNumPysLayout()
    {
        string dir = TestData.TempDirectory("npy");
        foreach (var t in new[]
        {
            Tensor.FromArray(new[] { 1f, -2.5f, 3f, 4f, 5f, 6f }, 2, 3),
            Tensor.FromArray(new[] { 7L }, 1),
            Tensor.FromArray(new byte[] { 0, 255 }, 2),
            Tensor.FromArray(new[] { 1.5 }, 1, 1),
            Tensor.Scalar(3),
        })
        {
            string path = Path.Combine(dir, $"{t.DataType}.npy");
            NpyFile.Write(path, t);
            var bytes = File.ReadAllBytes(path);
            Assert.AreEqual(0, (bytes.Length - t.Bytes.Length) % 64, "the header is padded to 64 bytes as numpy does");
            var back = NpyFile.Read(path);
            Assert.IsNull(Numerics.Compare(t, back, 0, 0));
        }
    }

    [TestMethod]
    public void Npy_WithATruncatedBody_IsCB4002()
    {
        string dir = TestData.TempDirectory("npy");
        string path = Path.Combine(dir, "bad.npy");
        var bytes = NpyFile.ToBytes(Tensor.FromArray(new float[10], 10));
        File.WriteAllBytes(path, bytes[..^4]);
        var e = Assert.ThrowsExactly<CompressBuildException>(() => NpyFile.Read(path));
        Assert.AreEqual(ErrorCodes.InvalidDataFile, e.Code);
        StringAssert.Contains(e.Message, "bad.npy");
    }

    [TestMethod]
    public void FashionMnistIdxGz_ReadsImagesAndLabels()
    {
        string root = TestData.RequireFashionMnist();
        var images = IdxFile.Read(Path.Combine(root, "t10k-images-idx3-ubyte.gz"));
        var labels = IdxFile.Read(Path.Combine(root, "t10k-labels-idx1-ubyte.gz"));
        CollectionAssert.AreEqual(new[] { 10000, 28, 28 }, images.Shape);
        Assert.AreEqual(DataType.UInt8, images.DataType);
        CollectionAssert.AreEqual(new[] { 10000 }, labels.Shape);
        var l = labels.ToInt64Array();
        Assert.IsTrue(l.All(v => v is >= 0 and <= 9));
        // Fashion-MNIST's test set is balanced: 1,000 images per class.
        Assert.IsTrue(l.GroupBy(v => v).All(g => g.Count() == 1000));
    }

    [TestMethod]
    public void Expand_FolderAndGlob_ListDataFilesInOrdinalOrder()
    {
        string dir = TestData.TempDirectory("glob");
        foreach (var n in new[] { "b.npy", "a.npy", "c.txt", "a.pb" })
            File.WriteAllBytes(Path.Combine(dir, n), Array.Empty<byte>());
        CollectionAssert.AreEqual(new[] { "a.npy", "a.pb", "b.npy" }, DataFile.Expand(dir).Select(Path.GetFileName).ToArray());
        CollectionAssert.AreEqual(new[] { "a.npy", "b.npy" }, DataFile.Expand(Path.Combine(dir, "*.npy")).Select(Path.GetFileName).ToArray());
        Assert.AreEqual(ErrorCodes.InputFileMissing, Assert.ThrowsExactly<CompressBuildException>(() => DataFile.Expand(Path.Combine(dir, "missing.npy"))).Code);
    }
}
