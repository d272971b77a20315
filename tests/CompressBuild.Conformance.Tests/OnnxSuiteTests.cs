using System.Collections.Concurrent;
using CompressBuild.Onnx;

namespace CompressBuild.Conformance.Tests;

/// <summary>
/// Runs every ONNX backend test whose ops are all in the v1 list or quantization ops and compares our executor's
/// outputs with the suite's expected outputs (rtol 1e-3, atol 1e-5). The committed list
/// onnx-1.12-suite.txt records the verdict per test; a listed pass that fails is a regression.
/// Set COMPRESSBUILD_UPDATE_SUITE_LIST=1 to rewrite the list from a run.
/// </summary>
[TestClass]
public sealed class OnnxSuiteTests
{
    // "1" rewrites the committed list; any other non-empty value is a file path to write the list to.
    private static readonly string? UpdateTarget = SuiteVerdicts.UpdateTarget("COMPRESSBUILD_UPDATE_SUITE_LIST", OnnxSuite.SourceListPath);
    private static readonly bool Update = UpdateTarget is not null;
    // Restricts the cases to ids containing this text (for working on one operator).
    private static readonly string? Filter = Environment.GetEnvironmentVariable("COMPRESSBUILD_SUITE_FILTER") is { Length: > 0 } f ? f : null;
    private static readonly ConcurrentDictionary<string, string?> Results = new();
    private static readonly Lazy<Dictionary<string, IReadOnlyList<string>>> Installed = new(() =>
        Directory.Exists(Path.Combine(TestData.OnnxSuiteRoot, "node"))
            ? OnnxSuiteCatalog.InstalledInScope(TestData.OnnxSuiteRoot).ToDictionary(t => t.Id, t => t.Ops)
            : new Dictionary<string, IReadOnlyList<string>>());

    public static IEnumerable<object[]> Cases =>
        OnnxSuite.ReadList().Select(e => e.Id).Union(Installed.Value.Keys)
            .Where(id => Filter is null || id.Contains(Filter, StringComparison.OrdinalIgnoreCase))
            .OrderBy(x => x, StringComparer.Ordinal).Select(id => new object[] { id });

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void SuiteTest_MatchesExpectedOutputs(string id)
    {
        string root = TestData.RequireOnnxSuite();
        var entry = OnnxSuite.ReadList().FirstOrDefault(e => e.Id == id);
        if (Update)
        {
            Results[id] = RunCatching(root, id);
            return;
        }
        if (entry is null)
            Assert.Fail($"{id} is in scope but not in onnx-1.12-suite.txt; run the tests with COMPRESSBUILD_UPDATE_SUITE_LIST=1 and review the list.");
        if (!entry.Pass)
            Assert.Inconclusive($"listed as skip: {entry.Reason}");
        if (!Directory.Exists(Path.Combine(root, id)))
            Assert.Fail($"{id} is listed but not installed under {root}");
        string? problem = RunCatching(root, id);
        if (problem is not null) Assert.Fail($"{id} regressed: {problem}");
    }

    private static string? RunCatching(string root, string id)
    {
        try
        {
            return OnnxSuite.Run(root, id);
        }
        catch (CompressBuildException e)
        {
            return e.ToString();
        }
        catch (Exception e)
        {
            return $"crash: {e.GetType().Name}: {e.Message}";
        }
    }

    [TestMethod]
    public void InstalledSuite_HasExactlyTheListedInScopeTests()
    {
        TestData.RequireOnnxSuite();
        var listed = OnnxSuite.ReadList().Select(e => e.Id).ToHashSet();
        var installed = Installed.Value.Keys.ToHashSet();
        var missing = installed.Except(listed).ToList();
        var extra = listed.Except(installed).ToList();
        Assert.IsTrue(missing.Count == 0 && extra.Count == 0,
            $"in scope but unlisted: {string.Join(", ", missing.Take(10))}; listed but not in scope/installed: {string.Join(", ", extra.Take(10))}");
    }

    [TestMethod]
    public void List_PassesAtLeast95Percent_AndEveryV1AndQuantizationOpPassesSomewhere()
    {
        var entries = OnnxSuite.ReadList();
        Assert.IsTrue(entries.Count > 500, $"the list has only {entries.Count} tests");
        int passed = entries.Count(e => e.Pass);
        double rate = (double)passed / entries.Count;
        Assert.IsTrue(rate >= 0.95, $"only {passed}/{entries.Count} = {rate:P1} of in-scope suite tests are listed as passing");
        var covered = entries.Where(e => e.Pass).SelectMany(e => e.Ops).ToHashSet();
        var uncovered = OnnxSuiteCatalog.V1Ops.Union(OnnxSuiteCatalog.QuantizationOps).Except(covered).OrderBy(x => x).ToList();
        Assert.AreEqual(0, uncovered.Count, $"v1 and quantization ops without a passing suite test: {string.Join(", ", uncovered)}");
        foreach (var e in entries.Where(e => !e.Pass))
            Assert.IsFalse(string.IsNullOrWhiteSpace(e.Reason), $"{e.Id} is skipped without a reason");
    }

    [ClassCleanup]
    public static void WriteListWhenUpdating()
    {
        if (UpdateTarget is null || Results.IsEmpty) return;
        var previous = File.Exists(OnnxSuite.SourceListPath) ? SuiteEntry.Parse(File.ReadAllLines(OnnxSuite.SourceListPath)) : Array.Empty<SuiteEntry>();
        SuiteVerdicts.Write(UpdateTarget, new[]
        {
            "ONNX 1.12 backend test suite (Debian libonnx-testdata), folders node, pytorch-converted,",
            "pytorch-operator, simple: every test whose ops are all in the engine's v1 list or quantization ops, run by the executor.",
            "Format: <folder>/<test> pass|skip [ops] <reason for skip>. A listed pass that fails is a regression.",
            "Regenerate: COMPRESSBUILD_UPDATE_SUITE_LIST=1 dotnet test tests/CompressBuild.Conformance.Tests, then review the diff.",
        }, Results, id => Installed.Value.TryGetValue(id, out var o) ? o : previous.FirstOrDefault(e => e.Id == id)?.Ops ?? Array.Empty<string>(), previous);
    }
}
