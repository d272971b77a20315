using CompressBuild.Core.Execution;

namespace CompressBuild.Conformance.Tests;

/// <summary>Runs ONNX suite tests with the executor; the verdict list lives next to the tests.</summary>
internal static class OnnxSuite
{
    /// <summary>The committed verdict list's path (copied next to the test binary).</summary>
    public static string ListPath => Path.Combine(AppContext.BaseDirectory, "onnx-1.12-suite.txt");

    /// <summary>The list's path in the source tree (for regeneration).</summary>
    public static string SourceListPath => Path.Combine(TestData.RepoRoot, "tests", "CompressBuild.Conformance.Tests", "onnx-1.12-suite.txt");

    /// <summary>Entries of the committed list, in file order.</summary>
    public static IReadOnlyList<SuiteEntry> ReadList() => SuiteEntry.Parse(File.ReadAllLines(ListPath));

    /// <summary>Runs every data set of a suite test; returns null on success or the first problem.</summary>
    public static string? Run(string root, string id)
    {
        string dir = Path.Combine(root, id);
        var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
        var executor = new Executor(model);
        var sets = OnnxSuiteCatalog.DataSets(dir, model);
        if (sets.Count == 0) return "no test_data_set_* folders";
        foreach (var set in sets)
        {
            var outputs = executor.Run(set.Inputs);
            foreach (var (name, expected) in set.Outputs)
            {
                string? problem = Numerics.Compare(expected, outputs[name], OnnxSuiteCatalog.RelativeTolerance, OnnxSuiteCatalog.AbsoluteTolerance);
                if (problem is not null) return $"{set.Name} output '{name}': {problem}";
            }
        }
        return null;
    }
}
