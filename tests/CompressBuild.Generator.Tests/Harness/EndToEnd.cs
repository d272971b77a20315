using System.Globalization;
using System.Reflection;
using System.Text;
using CompressBuild.Core.Compression;
using CompressBuild.Plan;
using Microsoft.CodeAnalysis;

namespace CompressBuild.Generator.Tests.Harness;

/// <summary>
/// The whole chain in a test: engine (Compressor: passes, quantization, planner) → plan text and
/// weights as AdditionalFiles / manifest resources → generator → strict Roslyn compile (with a small
/// host class per model so tests can call the span-based API) → load → run.
/// </summary>
internal static class EndToEnd
{
    public const string Namespace = "E2E";
    public const string Folder = "/e2e";

    /// <summary>Compresses an in-memory model as the build would.</summary>
    public static CompressionOutput Compress(Model model, string className, string quantize = "none")
    {
        string dir = TestData.TempDirectory("gen");
        string path = Path.Combine(dir, className + ".onnx");
        OnnxModel.Save(model, path);
        return Compress(path, className, quantize);
    }

    /// <summary>
    /// Plans an in-memory model directly (shape inference + planner, no passes, no file), for graphs
    /// the ONNX reader refuses on purpose, like the com.microsoft QGemm nodes only the engine's own
    /// QDQ fusion creates.
    /// </summary>
    public static CompressionOutput PlanInMemory(Model model, string className)
    {
        CompressBuild.Core.Shapes.ShapeInference.Run(model, strict: true);
        var plan = CompressBuild.Core.Planning.Planner.Build(model, new CompressBuild.Core.Planning.PlanOptions { ClassName = className, Namespace = Namespace, SourceModel = className + ".onnx" });
        return new CompressionOutput(model, plan, new CompressionReport { ClassName = className });
    }

    /// <summary>Compresses a model file as the build would.</summary>
    public static CompressionOutput Compress(string path, string className, string quantize) =>
        Compressor.Run(path, new CompressionSettings { ClassName = className, Namespace = Namespace, Quantize = quantize });

    /// <summary>The plan and weights of each compression as the build hands them to the compiler.</summary>
    public static (List<AdditionalText> Texts, List<ResourceDescription> Resources) Inputs(IEnumerable<CompressionOutput> outputs)
    {
        var texts = new List<AdditionalText>();
        var resources = new List<ResourceDescription>();
        foreach (var o in outputs)
        {
            var plan = o.Plan.Plan;
            texts.Add(new MemoryAdditionalText($"{Folder}/{plan.ClassName}.plan", PlanText.Write(plan)));
            if (plan.Weights.Storage == WeightStorage.Literal)
                texts.Add(new MemoryAdditionalText($"{Folder}/{plan.Weights.File}", Compressor.Base64Lines(o.Plan.Weights)));
            else
            {
                var bytes = o.Plan.Weights;
                resources.Add(new ResourceDescription(plan.Weights.ResourceName, () => new MemoryStream(bytes), isPublic: true));
            }
        }
        return (texts, resources);
    }

    /// <summary>Generates, compiles (zero diagnostics) and loads the predictors of <paramref name="outputs"/>.</summary>
    public static GeneratedAssembly Build(IReadOnlyCollection<CompressionOutput> outputs, bool allowUnsafe = true, bool collectible = true)
    {
        var (texts, resources) = Inputs(outputs);
        var hosts = outputs.Select(o => HostSource(o.Plan.Plan)).Append(HostileConsumer).ToArray();
        var (_, result, compilation) = GeneratorHarness.Run(texts, GeneratorHarness.NewCompilation(allowUnsafe, hosts));
        var errors = result.Diagnostics.Where(d => d.Severity > DiagnosticSeverity.Info).ToList();
        Assert.AreEqual(0, errors.Count, "generator diagnostics:\n" + string.Join("\n", errors));
        return new GeneratedAssembly(GeneratorHarness.EmitAndLoad(compilation, resources, collectible), outputs.ToDictionary(o => o.Plan.Plan.ClassName, o => o.Plan.Plan));
    }

    /// <summary>
    /// Consumer code that would break generated code relying on usings or unqualified names: global
    /// usings (one aliasing an intrinsics type name), and types named like generated members.
    /// </summary>
    public const string HostileConsumer = """
        global using System.Numerics;
        global using System.Linq;
        global using Vector256 = System.String;
        global using Span = System.Collections.Generic.List<int>;
        namespace E2E
        {
            internal sealed class Step0 { }
            internal static class Gemm { }
            internal static class MemoryMarshal { }
        }
        namespace CompressBuild
        {
            internal static class Runtime2 { }
        }
        """;

    /// <summary>A static host class that calls the predictor's span API with arrays (reflection cannot pass spans).</summary>
    public static string HostSource(ModelPlan plan)
    {
        string c = $"global::{Namespace}.{plan.ClassName}";
        string args = string.Join(", ", plan.Inputs.Select((_, k) => $"i[{k}]").Concat(plan.Outputs.Select((_, k) => $"o[{k}]")));
        bool batched = plan.Inputs.All(v => v.Batched) && plan.Outputs.All(v => v.Batched);
        var sb = new StringBuilder();
        sb.AppendLine("namespace E2EHost");
        sb.AppendLine("{");
        sb.AppendLine($"    public static class Host_{plan.ClassName}");
        sb.AppendLine("    {");
        sb.AppendLine($"        public static object Create() => new {c}();");
        sb.AppendLine($"        public static void Predict(object p, float[][] i, float[][] o) => (({c})p).Predict({args});");
        if (batched) sb.AppendLine($"        public static void PredictBatch(object p, float[][] i, float[][] o, int n) => (({c})p).PredictBatch({args}, n);");
        sb.AppendLine("        public static long Allocated(object p, float[][] i, float[][] o, int calls)");
        sb.AppendLine("        {");
        sb.AppendLine($"            var m = ({c})p;");
        sb.AppendLine($"            m.Predict({args});");
        sb.AppendLine("            long before = global::System.GC.GetAllocatedBytesForCurrentThread();");
        sb.AppendLine($"            for (int k = 0; k < calls; k++) m.Predict({args});");
        sb.AppendLine("            return global::System.GC.GetAllocatedBytesForCurrentThread() - before;");
        sb.AppendLine("        }");
        sb.AppendLine("        public static double[] Micros(object p, float[][] i, float[][] o, int calls)");
        sb.AppendLine("        {");
        sb.AppendLine($"            var m = ({c})p;");
        sb.AppendLine($"            for (int k = 0; k < 3000; k++) m.Predict({args});");
        sb.AppendLine("            var batches = new double[calls / 50];");
        sb.AppendLine("            for (int b = 0; b < batches.Length; b++)");
        sb.AppendLine("            {");
        sb.AppendLine("                var sw = global::System.Diagnostics.Stopwatch.StartNew();");
        sb.AppendLine($"                for (int k = 0; k < 50; k++) m.Predict({args});");
        sb.AppendLine("                batches[b] = sw.Elapsed.TotalMilliseconds * 1000.0 / 50;");
        sb.AppendLine("            }");
        sb.AppendLine("            global::System.Array.Sort(batches);");
        sb.AppendLine("            return new[] { batches[0], batches[batches.Length / 2] };");
        sb.AppendLine("        }");
        sb.AppendLine("    }");
        sb.AppendLine("}");
        return sb.ToString();
    }
}

/// <summary>A loaded assembly of generated predictors.</summary>
internal sealed class GeneratedAssembly(Assembly assembly, IReadOnlyDictionary<string, ModelPlan> plans)
{
    public Assembly Assembly { get; } = assembly;

    public Predictor Create(string className) => new(Assembly.GetType("E2EHost.Host_" + className, throwOnError: true)!, Assembly.GetType($"{EndToEnd.Namespace}.{className}", throwOnError: true)!, plans[className]);
}

/// <summary>One predictor instance driven through its host class.</summary>
internal sealed class Predictor
{
    private readonly Type _host;
    private readonly object _instance;

    public Predictor(Type host, Type type, ModelPlan plan)
    {
        _host = host;
        Type = type;
        Plan = plan;
        try
        {
            _instance = host.GetMethod("Create")!.Invoke(null, null)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    public Type Type { get; }

    public ModelPlan Plan { get; }

    public T Constant<T>(string name) => (T)Type.GetField(name, BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue()!;

    private float[][] NewOutputs(int samples) => Plan.Outputs.Select(v => new float[samples * (int)v.Shape.Aggregate(1L, (a, d) => a * d)]).ToArray();

    /// <summary>One sample; inputs flattened.</summary>
    public float[][] Predict(params float[][] inputs)
    {
        var outputs = NewOutputs(1);
        Invoke("Predict", inputs, outputs);
        return outputs;
    }

    /// <summary>Runs engine-shaped inputs (batched along axis 0 when the model is batched); returns tensors shaped like the engine's.</summary>
    public Tensor[] Run(Tensor[] inputs)
    {
        bool batched = Plan.Inputs.All(v => v.Batched) && Plan.Outputs.All(v => v.Batched);
        int samples = batched ? inputs[0].Shape[0] : 1;
        var outputs = NewOutputs(samples);
        var arrays = inputs.Select(t => t.Floats).ToArray();
        if (batched) Invoke("PredictBatch", arrays, outputs, samples);
        else Invoke("Predict", arrays, outputs);
        return outputs.Select((o, k) =>
        {
            var shape = Plan.Outputs[k].Shape.ToArray();
            if (batched) shape[0] = samples;
            return Tensor.FromArray(o, shape);
        }).ToArray();
    }

    public long Allocated(float[][] inputs, int calls) => (long)Invoke("Allocated", inputs, NewOutputs(1), calls)!;

    /// <summary>Batch-1 latency over <paramref name="calls"/> calls after 3,000 warm-up calls, in batches of 50 (shorter than a scheduler slice, so the fastest batch is one the shared machine did not interrupt): (fastest batch, median batch) µs per call.</summary>
    public (double Best, double Median) MicrosPerCall(float[][] inputs, int calls)
    {
        var r = (double[])Invoke("Micros", inputs, NewOutputs(1), calls)!;
        return (r[0], r[1]);
    }

    private object? Invoke(string method, float[][] inputs, float[][] outputs, int? n = null)
    {
        var m = _host.GetMethod(method) ?? throw new InvalidOperationException($"{Plan.ClassName} has no {method}");
        try
        {
            return m.Invoke(null, n is int k ? new object[] { _instance, inputs, outputs, k } : new object[] { _instance, inputs, outputs });
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    public override string ToString() => Plan.ClassName.ToString(CultureInfo.InvariantCulture);
}
