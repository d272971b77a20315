using CompressBuild.Generator.Tests.Harness;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CompressBuild.Generator.Tests;

/// <summary>Every CB7xxx diagnostic: when it is reported, where, and what it says; nothing crashes.</summary>
[TestClass]
public sealed class DiagnosticsTests
{
    private static List<AdditionalText> Valid(string name = "Model") => Baselines.PlanTexts(TestModels.GemmRelu.Build(), name);

    private static string PlanText(List<AdditionalText> texts) => texts.Single(t => t.Path.EndsWith(".plan", StringComparison.Ordinal)).GetText()!.ToString();

    private static List<AdditionalText> WithPlan(List<AdditionalText> texts, string plan) =>
        texts.Select(t => t.Path.EndsWith(".plan", StringComparison.Ordinal) ? new MemoryAdditionalText(t.Path, plan) : t).ToList<AdditionalText>();

    private static (Diagnostic Diagnostic, GeneratorDriverRunResult Result) Single(List<AdditionalText> texts, string id, CSharpCompilation? compilation = null)
    {
        var (_, result, _) = GeneratorHarness.Run(texts, compilation);
        var d = result.Diagnostics.Where(x => x.Id == id).ToList();
        Assert.AreEqual(1, d.Count, $"expected one {id}, got: {string.Join("\n", result.Diagnostics)}");
        return (d[0], result);
    }

    [TestMethod]
    public void ValidPlan_HasNoDiagnostics()
    {
        var (_, result, _) = GeneratorHarness.Run(Valid());
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
    }

    [TestMethod]
    public void MalformedPlan_CB7001_NamesTheLine()
    {
        var texts = Valid();
        var lines = PlanText(texts).Split('\n').ToList();
        lines.Insert(4, "bogus record here");
        var (d, result) = Single(WithPlan(texts, string.Join("\n", lines)), "CB7001");
        Assert.AreEqual(DiagnosticSeverity.Error, d.Severity);
        StringAssert.Contains(d.GetMessage(), "line 5");
        StringAssert.Contains(d.GetMessage(), "Model.plan");
        Assert.AreEqual(4, d.Location.GetLineSpan().StartLinePosition.Line);
        Assert.IsTrue(d.Location.GetLineSpan().Path.EndsWith("Model.plan", StringComparison.Ordinal));
        Assert.AreEqual(0, result.GeneratedTrees.Length, "nothing is generated for a broken plan");
    }

    [TestMethod]
    public void TruncatedPlan_CB7001()
    {
        var texts = Valid();
        string plan = PlanText(texts);
        var (d, _) = Single(WithPlan(texts, plan.Substring(0, plan.IndexOf("\nend", StringComparison.Ordinal))), "CB7001");
        StringAssert.Contains(d.GetMessage(), "truncated");
    }

    [TestMethod]
    public void OtherFormatVersion_CB7002()
    {
        var texts = Valid();
        var (d, _) = Single(WithPlan(texts, PlanText(texts).Replace("compressbuild-plan 1", "compressbuild-plan 99")), "CB7002");
        StringAssert.Contains(d.GetMessage(), "format version 99");
        StringAssert.Contains(d.GetMessage(), "reads format 1");
    }

    [TestMethod]
    public void MissingWeightsFile_CB7003()
    {
        var texts = Valid().Where(t => !t.Path.EndsWith(".b64", StringComparison.Ordinal)).ToList();
        var (d, result) = Single(texts, "CB7003");
        StringAssert.Contains(d.GetMessage(), "Model.weights.b64");
        Assert.IsFalse(result.GeneratedTrees.Any(t => t.FilePath.EndsWith("Model.g.cs", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void WeightsHashMismatch_CB7004()
    {
        var texts = Valid();
        var other = Baselines.PlanTexts(TestModels.GemmRelu.With("fp16").Build(), "Model", "fp16").Single(t => t.Path.EndsWith(".b64", StringComparison.Ordinal));
        var swapped = texts.Select(t => t.Path.EndsWith(".b64", StringComparison.Ordinal) ? new MemoryAdditionalText(t.Path, other.GetText()!.ToString()) : t).ToList<AdditionalText>();
        var (d, result) = Single(swapped, "CB7004");
        StringAssert.Contains(d.GetMessage(), "SHA-256");
        Assert.IsFalse(result.GeneratedTrees.Any(t => t.FilePath.EndsWith("Model.g.cs", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void UnsupportedOp_CB7005_NamesOpStepAndPlan()
    {
        var texts = Valid();
        var (d, _) = Single(WithPlan(texts, PlanText(texts).Replace("step Gemm ", "step LSTM ")), "CB7005");
        StringAssert.Contains(d.GetMessage(), "LSTM");
        StringAssert.Contains(d.GetMessage(), "Model.plan");
        StringAssert.Contains(d.GetMessage(), "step 0");
    }

    [TestMethod]
    public void UnsupportedAttribute_CB7005()
    {
        // Antialiased downsampling by 1/128 is valid ONNX (opset 18) and runs in the engine, but needs 256 taps per
        // output, more than the generated kernel's fixed window.
        var b = new ModelBuilder(18);
        string x = b.Input("x", DataType.Float, 1, 1, 1, 256);
        string scales = b.Initializer("scales", new[] { 1f, 1f, 1f, 1f / 128 }, 4);
        string y = b.Node("Resize", new[] { x, "", scales }, NodeAttribute.String("mode", "linear"), NodeAttribute.Int("antialias", 1));
        b.Output(y, DataType.Float, 1, 1, 1, 2);
        var (d, _) = Single(Baselines.PlanTexts(b.Build(), "ResizeAntialias"), "CB7005");
        StringAssert.Contains(d.GetMessage(), "needs more than 64 taps");
    }

    [TestMethod]
    public void InvalidClassName_CB7006()
    {
        var texts = Valid();
        var (d, _) = Single(WithPlan(texts, PlanText(texts).Replace("class \"Model\"", "class \"class\"")), "CB7006");
        StringAssert.Contains(d.GetMessage(), "'class' is not a valid C# class name");
    }

    [TestMethod]
    public void InvalidNamespace_CB7006()
    {
        var texts = Valid();
        var (d, _) = Single(WithPlan(texts, PlanText(texts).Replace("namespace \"Baselines.Models\"", "namespace \"My..App\"")), "CB7006");
        StringAssert.Contains(d.GetMessage(), "namespace");
    }

    [TestMethod]
    public void TwoPlansForOneClass_CB7007()
    {
        var texts = Valid().Concat(Baselines.PlanTexts(TestModels.GemmRelu.Build(), "Model", folder: "/elsewhere")).ToList();
        var (d, result) = Single(texts, "CB7007");
        StringAssert.Contains(d.GetMessage(), "Baselines.Models.Model");
        Assert.AreEqual(1, result.GeneratedTrees.Count(t => t.FilePath.EndsWith("Model.g.cs", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void ResourceWeightsWithoutUnsafe_CB7008_IsInformation_AndStillCompiles()
    {
        var texts = Baselines.PlanTexts(TestModels.GemmRelu.Build(), "Model", storage: CompressBuild.Plan.WeightStorage.Resource);
        var (d, result) = Single(texts, "CB7008", GeneratorHarness.NewCompilation(allowUnsafe: false));
        Assert.AreEqual(DiagnosticSeverity.Info, d.Severity);
        Assert.IsTrue(result.GeneratedTrees.Any(t => t.FilePath.EndsWith("Model.g.cs", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void FrameworkWithoutVector512_CB7009()
    {
        var bare = CSharpCompilation.Create("bare", options: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var (d, result) = Single(Valid(), "CB7009", bare);
        StringAssert.Contains(d.GetMessage(), ".NET 8");
        Assert.AreEqual(0, result.GeneratedTrees.Length);
    }

    [TestMethod]
    public void UnmarkedFilesThatAreNotPlans_AreIgnored()
    {
        var texts = new List<AdditionalText> { new MemoryAdditionalText("/x/notes.plan", "a project plan, not a model") };
        var (_, result, _) = GeneratorHarness.Run(texts, markPlans: false);
        Assert.AreEqual(0, result.Diagnostics.Length);
        Assert.AreEqual(0, result.GeneratedTrees.Length, "no plan, no runtime");
    }

    [TestMethod]
    public void UnmarkedPlans_AreStillRecognized()
    {
        var (_, result, _) = GeneratorHarness.Run(Valid(), markPlans: false);
        Assert.AreEqual(0, result.Diagnostics.Length);
        Assert.IsTrue(result.GeneratedTrees.Any(t => t.FilePath.EndsWith("Model.g.cs", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void MarkedFalse_OptsOut()
    {
        var texts = Valid();
        var options = new TestOptionsProvider(texts.Where(t => t.Path.EndsWith(".plan", StringComparison.Ordinal))
            .ToDictionary(t => t.Path, _ => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [CompressBuild.Generator.PredictorGenerator.Parser.PlanMetadata] = "false" }));
        var driver = GeneratorHarness.Driver(texts, options).RunGenerators(GeneratorHarness.NewCompilation());
        Assert.AreEqual(0, driver.GetRunResult().GeneratedTrees.Length);
    }
}
