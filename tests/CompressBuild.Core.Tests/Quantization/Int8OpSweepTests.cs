using System.Globalization;
using CompressBuild.Core.Execution;

namespace CompressBuild.Core.Tests.Quantization;

/// <summary>
/// Every v1 op in a static int8 model: each op's suite test wrapped between int8 MatMul layers
/// (<see cref="Int8OpSweep"/>), compressed with <c>Quantize=int8 Activations=int8</c>, then the QDQ
/// model checked against ONNX Runtime, against the float model, and the report against where the op
/// should run (int8-op-sweep.txt, which gives every skip and looser bound its reason).
/// </summary>
[TestClass]
public sealed class Int8OpSweepTests
{
    /// <summary>Samples compared (sample 0 is the suite test's own input).</summary>
    private const int Compared = 16;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> Ops => SweepCase.All.Select(c => new object[] { c.Op });

    [TestMethod]
    public void List_HasEveryV1OpOnce_AndAReasonForEverySkip()
    {
        CollectionAssert.AreEquivalent(OnnxSuiteCatalog.V1Ops.ToList(), SweepCase.All.Select(c => c.Op).ToList());
        foreach (var c in SweepCase.All.Where(c => c.Runs == "skip" || c.Agree is not null || c.Sqnr < SweepCase.DefaultSqnr || c.MethodSqnr.Count > 0 || c.FloatLayers > 0))
            Assert.IsFalse(string.IsNullOrWhiteSpace(c.Reason), $"{c} is skipped or checked more loosely without a reason");
    }

    [TestMethod]
    [DynamicData(nameof(Ops))]
    public void Op_BetweenInt8Layers_RunsWhereListed_MatchesOnnxRuntime_AndStaysCloseToFloat(string op)
    {
        var c = SweepCase.Of(op);
        if (c.Runs == "skip") Assert.Inconclusive(c.Reason);
        var run = Int8OpSweep.Compress(c, "Sweep" + op);
        AssertRunsWhereListed(run);

        var m = Measure(run, withOnnxRuntime: true);
        TestContext.WriteLine(string.Create(Inv, $"{c}: runs {c.Runs}; vs ONNX Runtime SQNR {m.OrtSqnr:F1} dB, max |diff| {m.OrtMaxDiff:G3}, equal {m.OrtEqual:P1}; vs float SQNR {m.Sqnr:F1} dB, equal {m.Equal:P1}; float ops [{string.Join(", ", run.FloatOps)}]"));
        // Float ops between DQ and Q see identical inputs in both engines, so only float rounding differs.
        Assert.IsTrue(m.OrtSqnr >= 60, string.Create(Inv, $"{c}: executor vs ONNX Runtime on the QDQ model: SQNR {m.OrtSqnr:F1} dB < 60, max |diff| {m.OrtMaxDiff:G3}"));
        Assert.IsTrue(m.OrtEqual >= (c.Agree ?? 1), string.Create(Inv, $"{c}: executor vs ONNX Runtime: {m.OrtEqual:P1} of discrete elements equal"));
        Assert.IsTrue(m.Sqnr >= c.Sqnr, string.Create(Inv, $"{c}: quantized vs float SQNR {m.Sqnr:F1} dB < {c.Sqnr}"));
        Assert.IsTrue(m.Equal >= (c.Agree ?? 1), string.Create(Inv, $"{c}: quantized vs float: {m.Equal:P1} of discrete elements equal"));
    }

    [TestMethod]
    [DataRow("percentile")]
    [DataRow("entropy")]
    [DataRow("mse")]
    public void EveryOp_WithAHistogramRangeMethod_StaysCloseToFloat(string method)
    {
        TestData.RequireOnnxSuite();
        var problems = new List<string>();
        foreach (var c in SweepCase.All.Where(c => c.Runs != "skip"))
        {
            var m = Measure(Int8OpSweep.Compress(c, "Sweep" + c.Op, calibration: method), withOnnxRuntime: false);
            TestContext.WriteLine(string.Create(Inv, $"{c} {method}: vs float SQNR {m.Sqnr:F1} dB, equal {m.Equal:P1}"));
            if (m.Sqnr < c.SqnrWith(method) || m.Equal < (c.Agree ?? 1))
                problems.Add(string.Create(Inv, $"{c}: SQNR {m.Sqnr:F1} dB (bound {c.SqnrWith(method)}), {m.Equal:P1} of discrete elements equal"));
        }
        Assert.AreEqual(0, problems.Count, $"{method} calibration:\n" + string.Join("\n", problems));
    }

    // Where the op ends up, as the report and the QDQ model tell it.
    private static void AssertRunsWhereListed(SweepRun run)
    {
        var (c, qdq) = (run.Case, run.Output.CompressedModel);
        var nodes = qdq.Graph.Nodes.Where(n => n.OpType == c.Op && !n.Name.StartsWith("sweep_", StringComparison.Ordinal)).ToList();
        string where = $"{c}: float ops [{string.Join(", ", run.FloatOps)}], QDQ ops [{string.Join(", ", qdq.Graph.Nodes.Select(n => n.OpType).Distinct())}], steps: {string.Join(" | ", run.Output.Report.Steps)}";
        switch (c.Runs)
        {
            case "float":
                Assert.IsTrue(run.FloatOps.Any(e => e.EndsWith($"({c.Op})", StringComparison.Ordinal)), where);
                foreach (var input in nodes.SelectMany(n => n.Inputs).Where(i => run.Sweep.TestInputs.ContainsKey(i) && qdq.Graph.Producer(i) is not null))
                    Assert.AreEqual("DequantizeLinear", qdq.Graph.Producer(input)!.OpType, $"{where}: {c.Op} reads {input} dequantized");
                break;
            case "int8":
                Assert.IsTrue(nodes.Count > 0 && run.FloatOps.Count == 0, where);
                break;
            case "layer":
                Assert.IsTrue(run.Output.Report.Layers.Any(l => l.Op == c.Op && l.Bits == 8 && !l.Name.StartsWith("sweep_", StringComparison.Ordinal)),
                    $"{where}; layers {string.Join("; ", run.Output.Report.Layers)}");
                break;
            case "removed":
                Assert.AreEqual(0, nodes.Count, where);
                break;
        }
    }

    private sealed record Measured(double Sqnr, double Equal, double OrtSqnr, double OrtEqual, double OrtMaxDiff);

    // The QDQ model against the float model (and ONNX Runtime on the QDQ model) on the first samples:
    // SQNR over the floating-point outputs, the fraction of equal elements of the others.
    private static Measured Measure(SweepRun run, bool withOnnxRuntime)
    {
        var qdq = run.Output.CompressedModel;
        var floatRun = new Executor(run.Sweep.Model);
        var ours = new Executor(qdq);
        var (f, q, o) = (new List<Tensor>(), new List<Tensor>(), new List<Tensor>());
        byte[] bytes = OnnxModel.ToBytes(qdq);
        for (int s = 0; s < Compared; s++)
        {
            var z = Int8OpSweep.Sample(run.Samples, s);
            f.AddRange(floatRun.Run(z));
            q.AddRange(ours.Run(z));
            if (withOnnxRuntime) o.AddRange(OnnxRuntimeOracle.Run(bytes, z));
        }
        var continuous = Enumerable.Range(0, f.Count).Where(i => DataTypes.IsFloatingPoint(f[i].DataType)).ToList();
        var discrete = Enumerable.Range(0, f.Count).Except(continuous).ToList();
        List<Tensor> Pick(List<Tensor> ts, List<int> at) => at.Select(i => ts[i]).ToList();
        return new Measured(
            Int8OpSweep.SqnrDb(Pick(f, continuous), Pick(q, continuous)),
            Int8OpSweep.Equal(Pick(f, discrete), Pick(q, discrete)),
            withOnnxRuntime ? Int8OpSweep.SqnrDb(Pick(o, continuous), Pick(q, continuous)) : double.NaN,
            withOnnxRuntime ? Int8OpSweep.Equal(Pick(o, discrete), Pick(q, discrete)) : double.NaN,
            withOnnxRuntime && continuous.Count > 0 ? continuous.Max(i => Numerics.MaxAbsDiff(o[i], q[i])) : 0);
    }
}
