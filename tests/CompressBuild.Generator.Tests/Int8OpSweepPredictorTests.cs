using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using CompressBuild.Generator.Tests.Harness;
using CompressBuild.Generator.Tests.Suite;
using Microsoft.CodeAnalysis;

namespace CompressBuild.Generator.Tests;

/// <summary>
/// The int8 op sweep (see Core.Tests Int8OpSweepTests and int8-op-sweep.txt) through the generator:
/// every wrapped op's fused integer plan is generated and all predictors compile in one strict
/// compilation; each predictor then runs the sweep samples and must match ONNX Runtime on the QDQ
/// model it was planned from. A case whose plan or code fails is reported with the reason under its op.
/// </summary>
[TestClass]
public sealed class Int8OpSweepPredictorTests
{
    private const string Namespace = "SweepInt8";

    /// <summary>Samples compared (sample 0 is the suite test's own input).</summary>
    private const int Compared = 16;

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> Ops => SweepCase.All.Where(c => c.Runs != "skip" && c.Generator).Select(c => new object[] { c.Op });

    private sealed record Built(Dictionary<string, SweepRun> Runs, Dictionary<string, string> Problems, Assembly? Assembly);

    private static readonly Lazy<Built> All = new(() =>
    {
        TestData.RequireOnnxSuite();
        var runs = new Dictionary<string, SweepRun>(StringComparer.Ordinal);
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var c in SweepCase.All.Where(c => c.Runs != "skip" && c.Generator))
        {
            try
            {
                runs[c.Op] = Int8OpSweep.Compress(c, ClassName(c.Op), Namespace);
            }
            catch (CompressBuildException e)
            {
                problems[c.Op] = $"no plan: {e.Code}: {e.Message}";
            }
        }

        // One compilation for all; a case whose generated code fails is set aside with the reason and the rest rebuilt.
        for (int attempt = 0; attempt < 5 && runs.Count > 0; attempt++)
        {
            var byClass = runs.ToDictionary(kv => ClassName(kv.Key), kv => kv.Key, StringComparer.Ordinal);
            var outputs = runs.Values.Select(r => r.Output).ToList();
            var (texts, resources) = EndToEnd.Inputs(outputs);
            var hosts = outputs.Select(o => TypedHost.Source(o.Plan.Plan, Namespace + "Host", Namespace)).ToArray();
            var (_, run, compilation) = GeneratorHarness.Run(texts, GeneratorHarness.NewCompilation(true, hosts));
            var rejected = GeneratorSuite.Attribute(run.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning), byClass, "generator");
            if (rejected.Count == 0)
            {
                using var pe = new MemoryStream();
                var errors = compilation.Emit(pe, manifestResources: resources).Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
                if (errors.Count == 0)
                {
                    pe.Position = 0;
                    return new Built(runs, problems, new AssemblyLoadContext("int8-sweep", isCollectible: true).LoadFromStream(pe));
                }
                rejected = GeneratorSuite.Attribute(errors, byClass, "generated code does not compile");
                if (rejected.Count == 0) throw new InvalidOperationException("the generated sweep does not compile:\n" + string.Join("\n", errors.Take(20)));
            }
            foreach (var (op, problem) in rejected)
            {
                problems[op] = problem;
                runs.Remove(op);
            }
        }
        return new Built(runs, problems, null);
    });

    private static string ClassName(string op) => "Sweep" + op;

    [TestMethod]
    [DynamicData(nameof(Ops))]
    public void Op_BetweenInt8Layers_GeneratedPredictor_MatchesOnnxRuntimeOnTheQdqModel(string op)
    {
        var built = All.Value;
        if (built.Problems.TryGetValue(op, out var problem)) Assert.Fail($"{SweepCase.Of(op)}: {problem}");
        Assert.IsNotNull(built.Assembly, "nothing compiled");
        var run = built.Runs[op];
        var plan = run.Output.Plan.Plan;
        var host = built.Assembly.GetType($"{Namespace}Host.Host_{plan.ClassName}", throwOnError: true)!;
        object predictor = host.GetMethod("Create")!.Invoke(null, null)!;
        byte[] qdq = OnnxModel.ToBytes(run.Output.CompressedModel);
        var graphOutputs = run.Output.CompressedModel.Graph.Outputs.Select(o => o.Name).ToList();

        var (ours, theirs) = (new List<Tensor>(), new List<Tensor>());
        for (int s = 0; s < Compared; s++)
        {
            var z = Int8OpSweep.Sample(run.Samples, s);
            var outArrays = plan.Outputs.Select(v => Array.CreateInstance(TypedHost.ClrType(v.ElementType), v.Shape.Aggregate(1, (a, d) => a * d))).ToArray();
            host.GetMethod("Predict")!.Invoke(null, new object[] { predictor, new Array[] { z.Floats }, outArrays });
            var ort = OnnxRuntimeOracle.Run(qdq, z);
            for (int k = 0; k < plan.Outputs.Count; k++)
            {
                var expected = ort[graphOutputs.IndexOf(plan.Outputs[k].Name)];
                theirs.Add(expected);
                ours.Add(Tensor.FromArray(expected.DataType, outArrays[k], expected.Shape));
            }
        }
        var continuous = Enumerable.Range(0, ours.Count).Where(i => DataTypes.IsFloatingPoint(ours[i].DataType)).ToList();
        var discrete = Enumerable.Range(0, ours.Count).Except(continuous).ToList();
        List<Tensor> Pick(List<Tensor> ts, List<int> at) => at.Select(i => ts[i]).ToList();
        double sqnr = Int8OpSweep.SqnrDb(Pick(theirs, continuous), Pick(ours, continuous));
        double equal = Int8OpSweep.Equal(Pick(theirs, discrete), Pick(ours, discrete));
        double maxDiff = continuous.Count == 0 ? 0 : continuous.Max(i => Numerics.MaxAbsDiff(theirs[i], ours[i]));
        string steps = string.Join(" → ", plan.Steps.Select(s => s.Op));
        int integer = plan.Steps.Count(s => s.Op is "QLinearConv" or "QGemm" or "QLinearMatMul"), int8 = run.Output.Report.Layers.Count(l => l.Bits == 8);
        var inv = CultureInfo.InvariantCulture;
        TestContext.WriteLine(string.Create(inv, $"{run.Case}: predictor vs ONNX Runtime SQNR {sqnr:F1} dB, max |diff| {maxDiff:G3}, equal {equal:P1}; integer kernels for {integer} of {int8} int8 layer(s); steps {steps}"));

        // The integer kernels requantize as ONNX Runtime does; float kernels between them differ in the
        // last bits, which can move a value across a rounding boundary of the next QuantizeLinear: one step.
        Assert.IsTrue(sqnr >= 40, string.Create(inv, $"{run.Case}: predictor vs ONNX Runtime on the QDQ model: SQNR {sqnr:F1} dB < 40, max |diff| {maxDiff:G3}; steps {steps}"));
        Assert.IsTrue(equal >= (run.Case.Agree ?? 1), string.Create(inv, $"{run.Case}: predictor vs ONNX Runtime: {equal:P1} of discrete elements equal"));
        // Every int8 layer, whatever its activation's rank, runs an integer kernel unless the list says why not.
        Assert.AreEqual(int8 - run.Case.FloatLayers, integer, $"{run.Case}: int8 layers with integer kernels; steps {steps}");
    }
}
