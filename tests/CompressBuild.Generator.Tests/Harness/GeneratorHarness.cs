using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Basic.Reference.Assemblies;
using CompressBuild.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace CompressBuild.Generator.Tests.Harness;

/// <summary>An AdditionalFile held in memory.</summary>
internal sealed class MemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

/// <summary>Per-file AdditionalFiles metadata (what MSBuild puts in the generated .editorconfig).</summary>
internal sealed class TestOptionsProvider(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> perFile) : AnalyzerConfigOptionsProvider
{
    public static readonly TestOptionsProvider Empty = new(new Dictionary<string, IReadOnlyDictionary<string, string>>());

    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(new Dictionary<string, string>());

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
        perFile.TryGetValue(textFile.Path, out var o) ? new Options(o) : GlobalOptions;

    /// <summary>Marks plan files with <c>CompressBuildPlan=true</c>.</summary>
    public static TestOptionsProvider MarkPlans(IEnumerable<AdditionalText> texts) => new(texts
        .Where(t => t.Path.EndsWith(".plan", StringComparison.Ordinal))
        .ToDictionary(t => t.Path, _ => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [PredictorGenerator.Parser.PlanMetadata] = "true" }));

    private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value)
        {
            if (values.TryGetValue(key, out var v))
            {
                value = v;
                return true;
            }
            value = "";
            return false;
        }
    }
}

/// <summary>Runs the generator and compiles its output the way a strict consumer project would.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp11);

    /// <summary>A net8.0 library compilation: nullable enabled, every warning (all waves) an error, optimized.</summary>
    public static CSharpCompilation NewCompilation(bool allowUnsafe = true, params string[] sources) =>
        CSharpCompilation.Create(
            "CompressBuildGenerated" + Guid.NewGuid().ToString("N"),
            sources.Select(s => CSharpSyntaxTree.ParseText(s, ParseOptions)),
            Net80.References.All,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Error,
                warningLevel: 9999,
                optimizationLevel: OptimizationLevel.Release,
                allowUnsafe: allowUnsafe,
                deterministic: true));

    /// <summary>A driver with step tracking on.</summary>
    public static GeneratorDriver Driver(IEnumerable<AdditionalText> texts, AnalyzerConfigOptionsProvider? options = null) =>
        CSharpGeneratorDriver.Create(
            new[] { new PredictorGenerator().AsSourceGenerator() },
            texts,
            ParseOptions,
            options ?? TestOptionsProvider.Empty,
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator over <paramref name="texts"/>; returns the driver (for reruns), the result and the updated compilation.</summary>
    public static (GeneratorDriver Driver, GeneratorDriverRunResult Result, Compilation Output) Run(IEnumerable<AdditionalText> texts, CSharpCompilation? compilation = null, bool markPlans = true)
    {
        var list = texts.ToList();
        var driver = Driver(list, markPlans ? TestOptionsProvider.MarkPlans(list) : TestOptionsProvider.Empty);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation ?? NewCompilation(), out var output, out _);
        return (driver, driver.GetRunResult(), output);
    }

    /// <summary>
    /// Emits <paramref name="compilation"/> (asserting zero diagnostics) and loads it in its own
    /// context, collectible unless <paramref name="collectible"/> is false. Code of a collectible
    /// assembly runs markedly slower (measured: LeNet-5 25 µs instead of 15 µs per Predict), so
    /// latency measurements load non-collectible, as a real application does.
    /// </summary>
    public static Assembly EmitAndLoad(Compilation compilation, IEnumerable<ResourceDescription>? resources = null, bool collectible = true)
    {
        using var pe = new MemoryStream();
        var result = compilation.Emit(pe, manifestResources: resources);
        var problems = result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        if (!result.Success || problems.Count > 0)
            Assert.Fail("The generated code does not compile cleanly:\n" + string.Join("\n", problems.Take(30).Select(d => d.ToString())));
        pe.Position = 0;
        var context = new AssemblyLoadContext("generated-" + Guid.NewGuid().ToString("N"), isCollectible: collectible);
        return context.LoadFromStream(pe);
    }

    /// <summary>Diagnostics of the generator run (not of the compilation).</summary>
    public static ImmutableArray<Diagnostic> GeneratorDiagnostics(GeneratorDriverRunResult result) => result.Diagnostics;
}
