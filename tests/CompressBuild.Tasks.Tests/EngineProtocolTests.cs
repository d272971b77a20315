namespace CompressBuild.Tasks.Tests;

/// <summary>Command lines for the engine, and the engine's output lines read back.</summary>
[TestClass]
public sealed class EngineProtocolTests
{
    [TestMethod]
    public void Arguments_HaveEveryNonEmptySetting_InContractOrder()
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Target"] = "arm64",
            ["Quantize"] = " int8 ",
            ["Namespace"] = "",
            ["EvaluationData"] = "data/x y.npy",
            ["DataScale"] = "1/255",
            ["Seed"] = "7",
        };
        string args = EngineProtocol.Arguments("/e/compressbuild.dll", "/m/a b.onnx", "/o/compressbuild/", "Net", settings);
        Assert.AreEqual("/e/compressbuild.dll compress \"/m/a b.onnx\" --out /o/compressbuild --ClassName Net --Quantize int8 "
            + "--EvaluationData \"data/x y.npy\" --DataScale 1/255 --Target arm64 --Seed 7", args);
    }

    [TestMethod]
    public void Arguments_WithNoSettings_HaveTheClassNameOnly() =>
        Assert.AreEqual("e.dll compress m.onnx --out o --ClassName M",
            EngineProtocol.Arguments("e.dll", "m.onnx", "o", "M", new Dictionary<string, string>()));

    [TestMethod]
    [DataRow("plain", "plain")]
    [DataRow("a b", "\"a b\"")]
    [DataRow("", "\"\"")]
    [DataRow("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [DataRow(@"C:\my dir\", "\"C:\\my dir\\\\\"")]
    [DataRow(@"C:\dir\file", @"C:\dir\file")]
    public void Quote_FollowsTheWindowsCommandLineRules(string arg, string expected) =>
        Assert.AreEqual(expected, EngineProtocol.Quote(arg));

    [TestMethod]
    public void ErrorLine_BecomesAnError_NamingTheItem_WithoutTheEnginesFilePrefix()
    {
        var line = EngineProtocol.Parse("error CB6001: lenet5.onnx: Quantize='int9' is not valid; use one of none, fp16, int8, int4, int2.", "Models/lenet5.onnx", "/p/Models/lenet5.onnx");
        Assert.AreEqual("error CB6001: CompressModel 'Models/lenet5.onnx': Quantize='int9' is not valid; use one of none, fp16, int8, int4, int2.", line.Diagnostic?.ToString());
    }

    [TestMethod]
    public void WarningLine_BecomesAWarning()
    {
        var line = EngineProtocol.Parse("warning CB6004: lenet5.onnx: 3 of 16 samples disagree with ONNX Runtime.", "m/lenet5.onnx", "/p/m/lenet5.onnx");
        Assert.AreEqual("warning CB6004: CompressModel 'm/lenet5.onnx': 3 of 16 samples disagree with ONNX Runtime.", line.Diagnostic?.ToString());
    }

    [TestMethod]
    public void MessageNamingAnotherFile_KeepsItsPrefix()
    {
        var line = EngineProtocol.Parse("error CB4001: data file 'x.npy' does not exist.", "m.onnx", "/p/m.onnx");
        Assert.AreEqual("error CB4001: CompressModel 'm.onnx': data file 'x.npy' does not exist.", line.Diagnostic?.ToString());
    }

    [TestMethod]
    [DataRow("LeNet5: lenet5.onnx weights 246,824 B -> 63,400 B (25.7%), int8 weights (per-channel symmetric), arena 23,552 B")]
    [DataRow("   at CompressBuild.Cli.Program.Main(String[] args)")]
    [DataRow("error: something without a code")]
    [DataRow("error CB12: too short a code")]
    [DataRow("")]
    public void OtherLines_AreNotDiagnostics(string text)
    {
        var line = EngineProtocol.Parse(text, "m.onnx", "/p/m.onnx");
        Assert.IsNull(line.Diagnostic);
        Assert.AreEqual(text, line.Text);
    }
}
