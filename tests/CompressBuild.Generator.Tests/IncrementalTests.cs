using System.Collections;
using System.Reflection;
using CompressBuild.Generator.Models;
using CompressBuild.Generator.Tests.Harness;
using Microsoft.CodeAnalysis;

namespace CompressBuild.Generator.Tests;

/// <summary>The incremental pipeline caches: unchanged plans, and edits to unrelated files, do not re-run emission.</summary>
[TestClass]
public sealed class IncrementalTests
{
    private static readonly string[] Tracked =
    {
        TrackingNames.PlanFiles, TrackingNames.ParsedPlans, TrackingNames.Specs, TrackingNames.EmitInputs, TrackingNames.WeightsChecks, TrackingNames.RuntimeNeeded,
    };

    private static List<AdditionalText> Texts() =>
        Baselines.PlanTexts(TestModels.ConvPad.Build(), "Cached", "int8")
            .Concat(Baselines.PlanTexts(TestModels.GemmRelu.Build(), "Other"))
            .Append(new MemoryAdditionalText("/baselines/readme.txt", "unrelated"))
            .ToList();

    private static GeneratorDriver Run(GeneratorDriver driver) => driver.RunGenerators(GeneratorHarness.NewCompilation());

    private static void AssertAllCached(GeneratorDriverRunResult result, params string[] steps)
    {
        var run = result.Results[0];
        foreach (var name in steps)
        {
            Assert.IsTrue(run.TrackedSteps.TryGetValue(name, out var runs), $"step {name} was not tracked");
            foreach (var step in runs)
                foreach (var (_, reason) in step.Outputs)
                    Assert.IsTrue(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {name} output was {reason}");
        }
        foreach (var (name, runs) in run.TrackedOutputSteps)
            foreach (var step in runs)
                foreach (var (_, reason) in step.Outputs)
                    Assert.AreEqual(IncrementalStepRunReason.Cached, reason, $"output {name} re-ran");
    }

    [TestMethod]
    public void SecondRun_WithNothingChanged_IsCached()
    {
        var texts = Texts();
        var driver = Run(GeneratorHarness.Driver(texts, TestOptionsProvider.MarkPlans(texts)));
        Assert.AreEqual(0, driver.GetRunResult().Diagnostics.Length);
        driver = Run(driver);
        AssertAllCached(driver.GetRunResult(), Tracked);
    }

    [TestMethod]
    public void EditingAnUnrelatedFile_DoesNotReEmit()
    {
        var texts = Texts();
        var driver = Run(GeneratorHarness.Driver(texts, TestOptionsProvider.MarkPlans(texts)));
        var old = texts.Single(t => t.Path.EndsWith("readme.txt", StringComparison.Ordinal));
        driver = driver.ReplaceAdditionalText(old, new MemoryAdditionalText(old.Path, "edited"));
        driver = Run(driver);
        AssertAllCached(driver.GetRunResult(), TrackingNames.ParsedPlans, TrackingNames.Specs, TrackingNames.EmitInputs, TrackingNames.WeightsChecks);
    }

    [TestMethod]
    public void EditingOnePlan_ReEmitsOnlyThatPlan()
    {
        var texts = Texts();
        var driver = Run(GeneratorHarness.Driver(texts, TestOptionsProvider.MarkPlans(texts)));
        var plan = texts.Single(t => t.Path.EndsWith("Other.plan", StringComparison.Ordinal));
        string edited = plan.GetText()!.ToString().Replace("note \"", "note \"Edited. ");
        driver = driver.ReplaceAdditionalText(plan, new MemoryAdditionalText(plan.Path, edited));
        driver = Run(driver);
        var specs = driver.GetRunResult().Results[0].TrackedSteps[TrackingNames.Specs];
        var reasons = specs.SelectMany(s => s.Outputs.Select(o => (Spec: (PredictorSpec)o.Value, o.Reason))).ToList();
        Assert.AreEqual(IncrementalStepRunReason.Modified, reasons.Single(r => r.Spec.Plan.ClassName == "Other").Reason);
        Assert.IsTrue(reasons.Single(r => r.Spec.Plan.ClassName == "Cached").Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        StringAssert.Contains(driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Other.g.cs", StringComparison.Ordinal)).ToString(), "Edited.");
    }

    [TestMethod]
    public void PipelineValues_HoldNoCompilationOrSymbols()
    {
        var texts = Texts();
        var driver = Run(GeneratorHarness.Driver(texts, TestOptionsProvider.MarkPlans(texts)));
        var run = driver.GetRunResult().Results[0];
        foreach (var name in new[] { TrackingNames.PlanFiles, TrackingNames.ParsedPlans, TrackingNames.Specs, TrackingNames.CompilationFacts, TrackingNames.WeightsChecks })
            foreach (var step in run.TrackedSteps[name])
                foreach (var (value, _) in step.Outputs)
                    AssertNoRoslynObjects(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
    }

    private static void AssertNoRoslynObjects(object? value, string step, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        Assert.IsFalse(value is Compilation or ISymbol or SyntaxNode or SemanticModel or AdditionalText,
            $"step {step} holds a {value.GetType().Name}");
        if (value is DiagnosticDescriptor) return;
        if (value is IEnumerable items)
        {
            foreach (var item in items) AssertNoRoslynObjects(item, step, seen);
            return;
        }
        foreach (var f in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertNoRoslynObjects(f.GetValue(value), step, seen);
    }
}
