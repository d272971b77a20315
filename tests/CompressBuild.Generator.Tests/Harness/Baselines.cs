using CompressBuild.Core.Compression;
using CompressBuild.Core.Passes;
using CompressBuild.Core.Planning;
using CompressBuild.Plan;
using Microsoft.CodeAnalysis;

namespace CompressBuild.Generator.Tests.Harness;

/// <summary>
/// Baseline (snapshot) files: <c>Baselines/{Test}/{HintName}.txt</c> beside the test sources.
/// Set COMPRESSBUILD_UPDATE_BASELINES=1 to rewrite them, then review the diff.
/// </summary>
internal static class Baselines
{
    public static string Root => Path.Combine(TestData.RepoRoot, "tests", "CompressBuild.Generator.Tests", "Baselines");

    public static bool Update => Environment.GetEnvironmentVariable("COMPRESSBUILD_UPDATE_BASELINES") == "1";

    /// <summary>Compares (or rewrites) every generated file of <paramref name="result"/> selected by <paramref name="include"/>.</summary>
    public static void Verify(string test, GeneratorDriverRunResult result, Func<string, bool> include) =>
        Verify(test, result.Results.SelectMany(r => r.GeneratedSources).Where(s => include(s.HintName)).Select(s => (s.HintName, s.SourceText.ToString())).ToList());

    /// <summary>Compares (or rewrites) generated files given as (hint name, text).</summary>
    public static void Verify(string test, IReadOnlyList<(string HintName, string Source)> sources)
    {
        Assert.IsTrue(sources.Count > 0, $"{test}: nothing was generated");
        string dir = Path.Combine(Root, test);
        if (Update) Directory.CreateDirectory(dir);
        var failures = new List<string>();
        foreach (var s in sources)
        {
            string path = Path.Combine(dir, s.HintName + ".txt");
            string actual = s.Source;
            if (Update)
            {
                File.WriteAllText(path, actual);
                continue;
            }
            if (!File.Exists(path))
            {
                failures.Add($"missing baseline {path} (run with COMPRESSBUILD_UPDATE_BASELINES=1 to create it)");
                continue;
            }
            string expected = File.ReadAllText(path).Replace("\r\n", "\n");
            if (expected != actual) failures.Add($"{path} differs from the generated {s.HintName} (first difference at line {FirstDifference(expected, actual)}; run with COMPRESSBUILD_UPDATE_BASELINES=1 to accept)");
        }
        if (failures.Count > 0) Assert.Fail(string.Join("\n", failures));
    }

    private static int FirstDifference(string a, string b)
    {
        var la = a.Split('\n');
        var lb = b.Split('\n');
        for (int i = 0; i < Math.Min(la.Length, lb.Length); i++)
            if (la[i] != lb[i]) return i + 1;
        return Math.Min(la.Length, lb.Length) + 1;
    }

    /// <summary>A plan made by the real planner (optimized graph, chosen precision and storage), as additional texts.</summary>
    public static List<AdditionalText> PlanTexts(Model model, string className, string quantize = "none", WeightStorage? storage = null, string folder = "/baselines")
    {
        var plan = PlanOf(model, className, quantize, storage);
        var texts = new List<AdditionalText> { new MemoryAdditionalText($"{folder}/{className}.plan", PlanText.Write(plan.Plan)) };
        if (plan.Plan.Weights.Storage == WeightStorage.Literal)
            texts.Add(new MemoryAdditionalText($"{folder}/{plan.Plan.Weights.File}", Compressor.Base64Lines(plan.Weights)));
        return texts;
    }

    /// <summary>The planner's result for a model.</summary>
    public static PlanResult PlanOf(Model model, string className, string quantize = "none", WeightStorage? storage = null)
    {
        PassPipeline.Optimize().Run(model);
        var encodings = WeightQuantization.Encodings(model, quantize, perChannel: true);
        string compression = quantize switch { "fp16" => "fp16 weights", "int8" => "int8 weights (per-channel symmetric)", _ => "fp32" };
        return Planner.Build(model, new PlanOptions
        {
            ClassName = className,
            Namespace = "Baselines.Models",
            SourceModel = className.ToLowerInvariant() + ".onnx",
            SourceSha256 = new string('0', 64),
            Compression = compression,
            Encodings = encodings,
            Storage = storage,
            Notes = new[] { $"Baseline model {className}: {compression}." },
        });
    }
}
