using CompressBuild.Onnx.DataFiles;
using CompressBuild.Onnx.Protobuf;
using Google.Protobuf;

namespace CompressBuild.Cli.Tests;

/// <summary>
/// Every kind of bad input gives one line <c>error CBxxxx: what, where, what to do</c> on stderr,
/// exit code 1, and writes nothing.
/// </summary>
[TestClass]
public sealed class BadInputTests
{
    private static string _dir = "";
    private static string _input = "";

    [ClassInitialize]
    public static void Setup(TestContext _)
    {
        _dir = TestData.TempDirectory("bad");
        _input = Path.Combine(_dir, "x.npy");
        NpyFile.Write(_input, Tensor.FromArray(new float[6], 2, 3));
    }

    // A valid little model: y = Relu(x) + w, x [batch,3].
    private static ModelProto ValidProto()
    {
        var b = new ModelBuilder(13);
        var x = b.Input("x", DataType.Float, "batch", 3);
        var w = b.Initializer("w", new[] { 1f, 2f, 3f }, 3);
        var r = b.Node("Relu", new[] { x });
        var y = b.Node("Add", new[] { r, w });
        b.Output(y, DataType.Float, "batch", 3);
        return ModelProto.Parser.ParseFrom(b.Bytes());
    }

    private static void AssertRejected(byte[] model, string code, params string[] mentions)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model);
        string outDir = Path.Combine(_dir, $"out-{Guid.NewGuid():N}");
        var (exit, stdout, stderr) = Cli.Run("run", path, "--input", _input, "--out", outDir);
        Assert.AreEqual(1, exit, $"exit code; stderr: {stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(1, lines.Length, $"one error line expected: {stderr}");
        StringAssert.StartsWith(lines[0], $"error {code}: ");
        StringAssert.Contains(lines[0], Path.GetFileName(path), "the message names the file");
        foreach (var m in mentions) StringAssert.Contains(lines[0], m);
        Assert.AreEqual("", stdout);
        Assert.IsFalse(Directory.Exists(outDir), "nothing may be written for bad input");
    }

    [TestMethod]
    public void TruncatedModel_IsCB1001()
    {
        var bytes = ValidProto().ToByteArray();
        AssertRejected(bytes[..(bytes.Length / 2)], ErrorCodes.InvalidProtobuf, "truncated", "export it again");
    }

    [TestMethod]
    public void GarbageBytes_AreCB1001()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        AssertRejected(bytes, ErrorCodes.InvalidProtobuf, "not a valid ONNX model");
    }

    [TestMethod]
    public void RawDataLengthDisagreeingWithDims_IsCB1002()
    {
        var p = ValidProto();
        p.Graph.Initializer[0].RawData = ByteString.CopyFrom(new byte[8]);
        AssertRejected(p.ToByteArray(), ErrorCodes.TensorDataSize, "'w'", "8 bytes", "need 12");
    }

    [TestMethod]
    public void NegativeDims_AreCB1003()
    {
        var p = ValidProto();
        p.Graph.Initializer[0].Dims[0] = -3;
        AssertRejected(p.ToByteArray(), ErrorCodes.NegativeDim, "'w'", "-3");
    }

    [TestMethod]
    public void DimsWhoseProductOverflows_AreCB1004()
    {
        var p = ValidProto();
        var t = p.Graph.Initializer[0];
        t.Dims.Clear();
        t.Dims.Add(1L << 40);
        t.Dims.Add(1L << 40);
        AssertRejected(p.ToByteArray(), ErrorCodes.DimOverflow, "'w'");
    }

    [TestMethod]
    public void ExternalDataEscapingTheModelFolder_IsCB1005()
    {
        var p = ValidProto();
        var t = p.Graph.Initializer[0];
        t.ClearRawData();
        t.DataLocation = TensorProto.Types.DataLocation.External;
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../../etc/passwd" });
        AssertRejected(p.ToByteArray(), ErrorCodes.ExternalDataPath, "../../etc/passwd", "outside the model's folder");
    }

    [TestMethod]
    public void UnknownOperatorDomain_IsCB1007_NamingDomainAndNode()
    {
        var p = ValidProto();
        p.Graph.Node[0].Domain = "com.example.custom";
        AssertRejected(p.ToByteArray(), ErrorCodes.UnknownDomain, "com.example.custom", "Relu_0");
    }

    [TestMethod]
    public void OpsetNewerThanSupported_IsCB1008()
    {
        var p = ValidProto();
        p.OpsetImport[0].Version = 99;
        AssertRejected(p.ToByteArray(), ErrorCodes.UnsupportedOpset, "opset 99", "opset_version");
    }

    [TestMethod]
    public void GraphWithACycle_IsCB2001()
    {
        var p = ValidProto();
        // Relu now reads the Add's output, and Add reads the Relu's output.
        p.Graph.Node[0].Input[0] = p.Graph.Node[1].Output[0];
        AssertRejected(p.ToByteArray(), ErrorCodes.GraphCycle, "cycle");
    }

    [TestMethod]
    public void NodeReadingAValueNothingProduces_IsCB2002()
    {
        var p = ValidProto();
        p.Graph.Node[1].Input[1] = "nowhere";
        AssertRejected(p.ToByteArray(), ErrorCodes.DanglingInput, "'nowhere'", "Add_1");
    }

    [TestMethod]
    public void UnsupportedOperators_AreListedTogether_AsCB3001()
    {
        var p = ValidProto();
        p.Graph.Node[0].OpType = "Celu";
        p.Graph.Node[1].OpType = "BitShift";
        AssertRejected(p.ToByteArray(), ErrorCodes.UnsupportedOperator, "Celu", "BitShift", "Relu_0", "Add_1", "Supported operators:");
    }

    [TestMethod]
    public void MissingInputFile_IsCB4001_AndWritesNothing()
    {
        string model = Path.Combine(_dir, "good.onnx");
        File.WriteAllBytes(model, ValidProto().ToByteArray());
        string outDir = Path.Combine(_dir, "out-missing");
        var (exit, _, stderr) = Cli.Run("run", model, "--input", Path.Combine(_dir, "missing.npy"), "--out", outDir);
        Assert.AreEqual(1, exit);
        StringAssert.StartsWith(stderr, $"error {ErrorCodes.InputFileMissing}: ");
        StringAssert.Contains(stderr, "missing.npy");
        Assert.IsFalse(Directory.Exists(outDir));
    }

    [TestMethod]
    public void MissingModelFile_IsCB1011()
    {
        var (exit, _, stderr) = Cli.Run("inspect", Path.Combine(_dir, "nope.onnx"));
        Assert.AreEqual(1, exit);
        StringAssert.StartsWith(stderr, $"error {ErrorCodes.ModelFileMissing}: ");
        StringAssert.Contains(stderr, "nope.onnx");
    }

    [TestMethod]
    public void InputOfTheWrongShape_IsCB4003()
    {
        string model = Path.Combine(_dir, "good2.onnx");
        File.WriteAllBytes(model, ValidProto().ToByteArray());
        string bad = Path.Combine(_dir, "wrong.npy");
        NpyFile.Write(bad, Tensor.FromArray(new float[8], 2, 4));
        var (exit, _, stderr) = Cli.Run("run", model, "--input", bad, "--out", Path.Combine(_dir, "o"));
        Assert.AreEqual(1, exit);
        StringAssert.StartsWith(stderr, $"error {ErrorCodes.InputMismatch}: ");
        StringAssert.Contains(stderr, "[batch,3]");
    }

    [TestMethod]
    public void UnknownCommandAndOption_AreCB5001()
    {
        Assert.AreEqual(1, Cli.Run("frobnicate").Exit);
        StringAssert.StartsWith(Cli.Run("frobnicate").Err, $"error {ErrorCodes.Usage}: ");
        var (exit, _, err) = Cli.Run("inspect", "m.onnx", "--colour", "red");
        Assert.AreEqual(1, exit);
        StringAssert.Contains(err, "--colour");
    }

    [TestMethod]
    public void RealProcess_ReportsBadInputOnStderr_WithExitCode1()
    {
        var (exit, stdout, stderr) = Cli.RunProcess("inspect", Path.Combine(_dir, "absent.onnx"));
        Assert.AreEqual(1, exit);
        Assert.AreEqual("", stdout);
        StringAssert.StartsWith(stderr.Trim(), $"error {ErrorCodes.ModelFileMissing}: ");
    }
}
