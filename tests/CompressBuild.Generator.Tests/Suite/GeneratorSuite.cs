using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using CompressBuild.Core.Compression;
using CompressBuild.Generator.Tests.Harness;
using CompressBuild.Plan;
using Microsoft.CodeAnalysis;

namespace CompressBuild.Generator.Tests.Suite;

/// <summary>
/// Every in-scope ONNX suite test through the whole product chain: the engine compresses (fp32)
/// and plans it, the generator emits its predictor, Roslyn compiles all of them in one strict
/// compilation, and each predictor runs the test's data sets. A test whose model cannot become a
/// predictor (string or bfloat16 tensors) or whose op the generator does not support is reported
/// with the reason, never hidden.
/// </summary>
/// <remarks>
/// A predictor has static shapes, but many node tests feed shape-determining values (Reshape's
/// shape, Slice's starts, Resize's scales, axes, pads) as graph inputs. Such an input is frozen to
/// the value of the test's first data set (it becomes an initializer), as an exporter's constant
/// would be; the predictor then computes the output from the remaining inputs, and only data sets
/// with the same frozen values are compared.
/// </remarks>
internal static class GeneratorSuite
{
    public const string Namespace = "Suite";

    private static readonly Lazy<IReadOnlyDictionary<string, string?>> Outcomes = new(RunAll);

    /// <summary>Null for a pass, else what went wrong, per in-scope installed test.</summary>
    public static IReadOnlyDictionary<string, string?> Results => Outcomes.Value;

    /// <summary>The class name a suite test's predictor gets: "node/test_abs" → NodeTestAbs.</summary>
    public static string ClassNameOf(string id) => CSharpNames.Type(id.Replace('/', '_').Replace('-', '_'));

    private static IReadOnlyDictionary<string, string?> RunAll()
    {
        var results = new Dictionary<string, string?>(StringComparer.Ordinal);
        string root = TestData.OnnxSuiteRoot;
        if (!Directory.Exists(Path.Combine(root, "node"))) return results;

        // 1. The engine: compress and plan every model as the build would (fp32, literal or resource weights by size).
        var outputs = new Dictionary<string, CompressionOutput>(StringComparer.Ordinal);
        foreach (var (id, _) in OnnxSuiteCatalog.InstalledInScope(root))
        {
            try
            {
                outputs[id] = CompressFreezingShapeInputs(id);
            }
            catch (CompressBuildException e)
            {
                results[id] = $"no predictor: {e.Code}: {e.Message}";
            }
        }

        // 2. Generate and compile; a model whose code fails is set aside with the reason and the rest rebuilt.
        Assembly? assembly = null;
        for (int attempt = 0; attempt < 5 && assembly is null && outputs.Count > 0; attempt++)
        {
            var byClass = outputs.ToDictionary(kv => kv.Value.Plan.Plan.ClassName, kv => kv.Key, StringComparer.Ordinal);
            var (texts, resources) = EndToEnd.Inputs(outputs.Values);
            var hosts = outputs.Values.Select(o => TypedHost.Source(o.Plan.Plan, "SuiteHost", Namespace)).ToArray();
            var (_, run, compilation) = GeneratorHarness.Run(texts, GeneratorHarness.NewCompilation(true, hosts));
            var rejected = Attribute(run.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning), byClass, "generator");
            if (rejected.Count == 0)
            {
                using var pe = new MemoryStream();
                var emit = compilation.Emit(pe, manifestResources: resources);
                var errors = emit.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
                if (errors.Count == 0)
                {
                    pe.Position = 0;
                    assembly = new AssemblyLoadContext("suite", isCollectible: false).LoadFromStream(pe);
                    break;
                }
                rejected = Attribute(errors, byClass, "generated code does not compile");
                if (rejected.Count == 0) throw new InvalidOperationException("the generated suite does not compile:\n" + string.Join("\n", errors.Take(20)));
            }
            foreach (var (id, problem) in rejected)
            {
                results[id] = problem;
                outputs.Remove(id);
            }
        }

        // 3. Run every predictor on its data sets.
        foreach (var (id, output) in outputs)
            results[id] = assembly is null ? "not compiled" : RunOne(assembly, id, output.Plan.Plan);
        return results;
    }

    private static readonly Dictionary<string, Dictionary<string, Tensor>> Frozen = new(StringComparer.Ordinal);

    private static CompressionOutput CompressFreezingShapeInputs(string id)
    {
        string dir = Path.Combine(TestData.OnnxSuiteRoot, id);
        var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
        var first = OnnxSuiteCatalog.DataSets(dir, model).FirstOrDefault();
        var frozen = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        Frozen[id] = frozen;
        string path = Path.Combine(dir, "model.onnx");
        while (true)
        {
            try
            {
                return Compressor.Run(path, new CompressionSettings { ClassName = ClassNameOf(id), Namespace = Namespace });
            }
            catch (CompressBuildException e) when (e.Code == ErrorCodes.UnresolvedShape && first is not null
                && System.Text.RegularExpressions.Regex.Match(e.Message, @"input '([^']+)' (\([^)]*\) )?of \w+ must be a constant") is { Success: true } m
                && first.Inputs.TryGetValue(m.Groups[1].Value, out var value) && !frozen.ContainsKey(m.Groups[1].Value))
            {
                frozen[m.Groups[1].Value] = value;
                model.Graph.Initializers[m.Groups[1].Value] = value;
                path = Path.Combine(TestData.TempDirectory("suite-frozen"), "model.onnx");
                OnnxModel.Save(model, path);
            }
        }
    }

    // Maps diagnostics to the tests whose plan or generated file they are about.
    internal static Dictionary<string, string> Attribute(IEnumerable<Diagnostic> diagnostics, IReadOnlyDictionary<string, string> byClass, string what)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in diagnostics)
        {
            string where = d.Location.GetLineSpan().Path ?? "";
            string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
            var match = byClass.Keys.Where(c => where.Contains(c, StringComparison.Ordinal) || message.Contains(c, StringComparison.Ordinal))
                .OrderByDescending(c => c.Length).FirstOrDefault();
            if (match is null) continue;
            string id = byClass[match];
            if (!result.ContainsKey(id)) result[id] = $"{what}: {d.Id}: {message}";
        }
        return result;
    }

    private static string? RunOne(Assembly assembly, string id, ModelPlan plan)
    {
        try
        {
            var model = OnnxModel.Load(Path.Combine(TestData.OnnxSuiteRoot, id, "model.onnx"));
            var host = assembly.GetType($"SuiteHost.Host_{plan.ClassName}", throwOnError: true)!;
            object predictor = host.GetMethod("Create")!.Invoke(null, null)!;
            bool batched = plan.Inputs.All(v => v.Batched) && plan.Outputs.All(v => v.Batched);
            var frozen = Frozen.TryGetValue(id, out var f) ? f : new Dictionary<string, Tensor>();
            int compared = 0;
            foreach (var set in OnnxSuiteCatalog.DataSets(Path.Combine(TestData.OnnxSuiteRoot, id), model))
            {
                if (frozen.Any(kv => Numerics.Compare(kv.Value, set.Inputs[kv.Key], 0, 0) is not null)) continue;
                compared++;
                var inputs = plan.Inputs.Select(v => set.Inputs[v.Name]).ToArray();
                int n = batched ? inputs[0].Shape[0] : 1;
                var inArrays = inputs.Select(t => t.Data).ToArray();
                var outArrays = plan.Outputs.Select(v => Array.CreateInstance(TypedHost.ClrType(v.ElementType), n * v.Shape.Aggregate(1, (a, d) => a * d))).ToArray();
                if (batched) host.GetMethod("PredictBatch")!.Invoke(null, new object[] { predictor, inArrays, outArrays, n });
                else host.GetMethod("Predict")!.Invoke(null, new object[] { predictor, inArrays, outArrays });
                for (int k = 0; k < plan.Outputs.Count; k++)
                {
                    var v = plan.Outputs[k];
                    var expected = set.Outputs.FirstOrDefault(o => o.Name == v.Name).Expected;
                    if (expected is null) continue;
                    var shape = v.Shape.ToArray();
                    if (batched) shape[0] = n;
                    var actual = Tensor.FromArray(expected.DataType, outArrays[k], shape);
                    if (Numerics.Compare(expected, actual, OnnxSuiteCatalog.RelativeTolerance, OnnxSuiteCatalog.AbsoluteTolerance) is { } problem)
                        return $"{set.Name} output '{v.Name}': {problem}";
                }
            }
            return compared == 0 ? "no data set matches the frozen shape inputs" : null;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            return $"crash: {e.InnerException.GetType().Name}: {e.InnerException.Message}";
        }
        catch (Exception e)
        {
            return $"crash: {e.GetType().Name}: {e.Message}";
        }
    }
}
