using System.Runtime.InteropServices;
using CompressBuild.Onnx;
using Microsoft.Build.Framework;

namespace CompressBuild.Tasks.Tests;

/// <summary>
/// The CompressModels task running the real engine out of process (and stand-in engines for
/// failures): engine diagnostics become build diagnostics with the engine's code, on the project
/// file, naming the item; the summary line shows in a normal build; nothing else leaks.
/// </summary>
[TestClass]
public sealed class CompressModelsTests
{
    [TestMethod]
    public void SmallModel_GivesPlanAndLiteralWeights_AndLogsTheSummary()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        var task = p.Build(TestProject.Item(spec, ("ClassName", "LeNet5"), ("Quantize", "int8")))!;

        Assert.AreEqual(0, p.Engine.Errors.Count, string.Join("\n", p.Engine.ErrorLines));
        Assert.AreEqual(Path.Combine(p.OutputDirectory, "LeNet5.plan"), task.PlanFiles.Single().ItemSpec);
        Assert.AreEqual(Path.Combine(p.OutputDirectory, "LeNet5.weights.b64"), task.LiteralWeightFiles.Single().ItemSpec);
        Assert.AreEqual(0, task.ResourceFiles.Length);
        CollectionAssert.AreEquivalent(
            new[] { "LeNet5.plan", "LeNet5.weights.b64", "LeNet5.onnx", "LeNet5.report.json", "LeNet5.report.md" },
            task.GeneratedFiles.Select(f => Path.GetFileName(f.ItemSpec)).ToArray());
        StringAssert.StartsWith(p.Engine.MessagesAt(MessageImportance.High), "CompressBuild: LeNet5: lenet5.onnx weights 246,824 B -> ");
        Assert.AreEqual(0, p.Engine.Warnings.Count);
    }

    [TestMethod]
    public void LargeModel_GivesAResourceNamedForTheGeneratedClass()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet300.onnx");
        var task = p.Build(TestProject.Item(spec))!;

        Assert.AreEqual(0, p.Engine.Errors.Count, string.Join("\n", p.Engine.ErrorLines));
        var resource = task.ResourceFiles.Single();
        Assert.AreEqual(Path.Combine(p.OutputDirectory, "Lenet300.weights.bin"), resource.ItemSpec);
        Assert.AreEqual("CompressBuild.Lenet300.weights", resource.GetMetadata("LogicalName"));
        Assert.AreEqual(0, task.LiteralWeightFiles.Length);
    }

    [TestMethod]
    public void UnknownSettingValue_IsTheEnginesCB6001_OnTheProjectFile()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        var task = p.Build(TestProject.Item(spec, ("Quantize", "int9")))!;

        Assert.IsFalse(task.PlanFiles.Any());
        CollectionAssert.AreEqual(new[]
        {
            $"{p.ProjectFile}: error CB6001: CompressModel 'Models/lenet5.onnx': Quantize='int9' is not valid; use one of none, fp16, int8, int4, int2.",
        }, p.Engine.ErrorLines.ToArray());
        Assert.IsFalse(Directory.Exists(p.OutputDirectory) && Directory.EnumerateFiles(p.OutputDirectory).Any(), "nothing is written for bad input");
    }

    [TestMethod]
    public void InvalidClassName_IsTheEnginesCB6001()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        p.Build(TestProject.Item(spec, ("ClassName", "1abc")));

        CollectionAssert.AreEqual(new[]
        {
            $"{p.ProjectFile}: error CB6001: CompressModel 'Models/lenet5.onnx': ClassName='1abc' is not a C# identifier (letters, digits and _, not starting with a digit, not a keyword).",
        }, p.Engine.ErrorLines.ToArray());
    }

    [TestMethod]
    public void DuplicateClassName_StopsTheBuildBeforeTheEngineRuns()
    {
        var p = new TestProject();
        string a = p.AddModel("lenet5.onnx");
        string b = p.AddModel("lenet300.onnx");

        Assert.IsNull(p.Build(TestProject.Item(a, ("ClassName", "Net")), TestProject.Item(b, ("ClassName", "Net"))));
        Assert.AreEqual("CB6005", p.Engine.Errors.Single().Code);
        Assert.AreEqual(p.ProjectFile, p.Engine.Errors.Single().File);
        Assert.IsFalse(Directory.Exists(p.OutputDirectory));
    }

    [TestMethod]
    public void MissingModel_IsCB1011_AndTheEngineDoesNotRun()
    {
        var p = new TestProject();
        var resolve = p.Resolver(TestProject.Item("Models/gone.onnx"));
        resolve.ReportErrors = false;
        Assert.IsTrue(resolve.Execute());
        var task = p.Compressor(resolve.ResolvedModels);

        Assert.IsFalse(task.Execute());
        CollectionAssert.AreEqual(new[]
        {
            $"{p.ProjectFile}: error CB1011: CompressModel 'Models/gone.onnx': the model file '{Path.Combine(p.Directory, "Models", "gone.onnx")}' does not exist. Check the Include path of the item.",
        }, p.Engine.ErrorLines.ToArray());
    }

    [TestMethod]
    public void UnsupportedOperator_IsTheEnginesCB3001()
    {
        var p = new TestProject();
        var b = new TestSupport.ModelBuilder(13);
        var x = b.Input("x", DataType.Float, "batch", 2, 2);
        var y = b.Node("Det", new[] { x });
        b.Output(y, DataType.Float, "batch");
        string spec = p.AddModel("det.onnx", b.Build());
        p.Build(TestProject.Item(spec));

        var error = p.Engine.Errors.Single();
        Assert.AreEqual("CB3001", error.Code);
        Assert.AreEqual(p.ProjectFile, error.File);
        StringAssert.StartsWith(error.Message, "CompressModel 'Models/det.onnx': ");
        StringAssert.Contains(error.Message, "Det_0 Det opset 13 (not implemented)");
    }

    [TestMethod]
    public void EngineFailingWithoutOutput_IsCB9002()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        var task = p.Compressor(ResolveCompressModelsTests.Resolve(p, TestProject.Item(spec)), FakeHost(p, exitCode: 3));

        Assert.IsFalse(task.Execute());
        CollectionAssert.AreEqual(new[]
        {
            $"{p.ProjectFile}: error CB9002: CompressModel 'Models/lenet5.onnx': the CompressBuild engine exited with code 3 without reporting an error. Build with -v:detailed to see its output, and please report it with the model and the settings.",
        }, p.Engine.ErrorLines.ToArray());
    }

    [TestMethod]
    public void EngineCrash_ShowsNoStackTrace_OnlyCB9002()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        var task = p.Compressor(ResolveCompressModelsTests.Resolve(p, TestProject.Item(spec)),
            FakeHost(p, exitCode: 134, stderr: new[] { "Unhandled exception. System.InvalidOperationException: boom", "   at CompressBuild.Cli.Program.Main(String[] args)" }));

        Assert.IsFalse(task.Execute());
        Assert.AreEqual("CB9002", p.Engine.Errors.Single().Code);
        StringAssert.Contains(p.Engine.Errors.Single().Message, "exited with code 134");
        Assert.IsFalse(p.Engine.MessagesAt(MessageImportance.High).Contains("at CompressBuild"), "no stack trace in normal output");
        Assert.IsFalse(p.Engine.MessagesAt(MessageImportance.Normal).Contains("at CompressBuild"), "no stack trace in normal output");
        StringAssert.Contains(p.Engine.MessagesAt(MessageImportance.Low), "   at CompressBuild.Cli.Program.Main(String[] args)");
    }

    [TestMethod]
    public void EngineWarnings_BecomeWarnings_WithTheirCode()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        var task = p.Compressor(ResolveCompressModelsTests.Resolve(p, TestProject.Item(spec)),
            FakeHost(p, exitCode: 1, stderr: new[] { "warning CB6004: lenet5.onnx: 2 of 16 samples differ.", "error CB3004: lenet5.onnx: node conv1 failed." }));

        Assert.IsFalse(task.Execute());
        CollectionAssert.AreEqual(new[] { $"{p.ProjectFile}: warning CB6004: CompressModel 'Models/lenet5.onnx': 2 of 16 samples differ." }, p.Engine.WarningLines.ToArray());
        CollectionAssert.AreEqual(new[] { $"{p.ProjectFile}: error CB3004: CompressModel 'Models/lenet5.onnx': node conv1 failed." }, p.Engine.ErrorLines.ToArray());
    }

    [TestMethod]
    public void MissingEngine_IsCB9003()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        var task = p.Compressor(ResolveCompressModelsTests.Resolve(p, TestProject.Item(spec)));
        task.EnginePath = Path.Combine(p.Directory, "tools", "compressbuild.dll");

        Assert.IsFalse(task.Execute());
        CollectionAssert.AreEqual(new[]
        {
            $"{p.ProjectFile}: error CB9003: the CompressBuild engine '{task.EnginePath}' does not exist. Restore the CompressBuild package again, or set CompressBuildEnginePath.",
        }, p.Engine.ErrorLines.ToArray());
    }

    /// <summary>A stand-in for the dotnet host: prints <paramref name="stderr"/> and exits with <paramref name="exitCode"/>.</summary>
    private static string FakeHost(TestProject p, int exitCode, string[]? stderr = null)
    {
        stderr ??= Array.Empty<string>();
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            string cmd = Path.Combine(p.Directory, "fake-dotnet.cmd");
            File.WriteAllLines(cmd, new[] { "@echo off" }.Concat(stderr.Select(l => $"echo {l} 1>&2")).Append($"exit /b {exitCode}"));
            return cmd;
        }
        string sh = Path.Combine(p.Directory, "fake-dotnet");
        File.WriteAllLines(sh, new[] { "#!/bin/sh" }.Concat(stderr.Select(l => $"echo '{l}' >&2")).Append($"exit {exitCode}"));
        File.SetUnixFileMode(sh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return sh;
    }
}
