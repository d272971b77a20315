namespace CompressBuild.Generator.Tests.Suite;

/// <summary>
/// The ONNX suite through the generator: for each in-scope test, the generated predictor's outputs
/// equal the expected outputs (rtol 1e-3, atol 1e-5, as for the executor). Verdicts are committed in
/// onnx-1.12-generator.txt; a listed pass that fails is a regression. Regenerate with
/// COMPRESSBUILD_UPDATE_GENERATOR_SUITE_LIST=1 (or a file path) and review the diff.
/// </summary>
[TestClass]
public sealed class GeneratorSuiteTests
{
    private static string ListPath => Path.Combine(AppContext.BaseDirectory, "onnx-1.12-generator.txt");

    private static string SourceListPath => Path.Combine(TestData.RepoRoot, "tests", "CompressBuild.Generator.Tests", "onnx-1.12-generator.txt");

    private static readonly string? UpdateTarget = SuiteVerdicts.UpdateTarget("COMPRESSBUILD_UPDATE_GENERATOR_SUITE_LIST", SourceListPath);

    private static IReadOnlyList<SuiteEntry> List => SuiteEntry.Parse(File.ReadAllLines(ListPath));

    private static readonly Lazy<Dictionary<string, IReadOnlyList<string>>> Installed = new(() =>
        Directory.Exists(Path.Combine(TestData.OnnxSuiteRoot, "node"))
            ? OnnxSuiteCatalog.InstalledInScope(TestData.OnnxSuiteRoot).ToDictionary(t => t.Id, t => t.Ops)
            : new Dictionary<string, IReadOnlyList<string>>());

    public static IEnumerable<object[]> Cases =>
        List.Select(e => e.Id).Union(Installed.Value.Keys).OrderBy(x => x, StringComparer.Ordinal).Select(id => new object[] { id });

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void GeneratedPredictor_MatchesSuiteExpectedOutputs(string id)
    {
        TestData.RequireOnnxSuite();
        if (UpdateTarget is not null) return;
        var entry = List.FirstOrDefault(e => e.Id == id);
        if (entry is null)
            Assert.Fail($"{id} is not in onnx-1.12-generator.txt; run with COMPRESSBUILD_UPDATE_GENERATOR_SUITE_LIST=1 and review the list.");
        if (!entry.Pass) Assert.Inconclusive($"listed as skip: {entry.Reason}");
        Assert.IsTrue(GeneratorSuite.Results.TryGetValue(id, out var problem), $"{id} is listed but not installed");
        if (problem is not null) Assert.Fail($"{id} regressed: {problem}");
    }

    [TestMethod]
    public void List_CoversTheInstalledSuite_AndEveryV1OpPassesSomewhere()
    {
        TestData.RequireOnnxSuite();
        var listed = List.Select(e => e.Id).ToHashSet();
        var missing = Installed.Value.Keys.Where(k => !listed.Contains(k)).ToList();
        Assert.AreEqual(0, missing.Count, "in scope but unlisted: " + string.Join(", ", missing.Take(10)));
        var covered = List.Where(e => e.Pass).SelectMany(e => e.Ops).ToHashSet();
        // The suite tests ConstantOfShape only in models without inputs, which are constants, not predictors;
        // its kernel is checked against the engine by LayoutOpsTests (ConstantOfShapeInt32).
        var uncovered = OnnxSuiteCatalog.V1Ops.Except(covered).Except(new[] { "ConstantOfShape" }).OrderBy(x => x, StringComparer.Ordinal).ToList();
        Assert.AreEqual(0, uncovered.Count, "v1 ops without a passing generated-predictor suite test: " + string.Join(", ", uncovered));
        foreach (var e in List.Where(e => !e.Pass))
            Assert.IsFalse(string.IsNullOrWhiteSpace(e.Reason), $"{e.Id} is skipped without a reason");
    }

    [ClassCleanup]
    public static void WriteListWhenUpdating()
    {
        if (UpdateTarget is null || !Directory.Exists(Path.Combine(TestData.OnnxSuiteRoot, "node"))) return;
        var previous = File.Exists(SourceListPath) ? SuiteEntry.Parse(File.ReadAllLines(SourceListPath)) : Array.Empty<SuiteEntry>();
        SuiteVerdicts.Write(UpdateTarget, new[]
        {
            "ONNX 1.12 backend test suite through the generated predictors: every in-scope test (all ops in the v1 list)",
            "compressed (fp32) and planned by the engine, emitted by the source generator, compiled, and run on the test's data.",
            "Format: <folder>/<test> pass|skip [ops] <reason for skip>. A listed pass that fails is a regression.",
            "Regenerate: COMPRESSBUILD_UPDATE_GENERATOR_SUITE_LIST=1 dotnet test tests/CompressBuild.Generator.Tests, then review the diff.",
        }, GeneratorSuite.Results, id => Installed.Value.TryGetValue(id, out var o) ? o : Array.Empty<string>(), previous);
    }
}
