using CompressBuild.Core.Passes;
using CompressBuild.Core.Planning;
using CompressBuild.Plan;

namespace CompressBuild.Core.Tests.Planning;

[TestClass]
public sealed class PlannerTests
{
    private static PlanResult PlanOf(string file, IReadOnlyDictionary<string, ConstantEncoding>? encodings = null)
    {
        var model = OnnxModel.Load(TestData.Model(file));
        PassPipeline.Optimize().Run(model);
        return Planner.Build(model, new PlanOptions { ClassName = "M", Encodings = encodings ?? new Dictionary<string, ConstantEncoding>() });
    }

    [TestMethod]
    public void LeNet300_FusesRelu_AliasesFlatten_AndReusesArenaBuffers()
    {
        var (plan, weights) = PlanOf("lenet300.onnx");
        CollectionAssert.AreEqual(new[] { "Gemm", "Gemm", "Gemm" }, plan.Steps.Select(s => s.Op).ToArray());
        Assert.AreEqual("Relu", plan.Steps[0].Attribute("activation")!.AsString);
        Assert.IsNull(plan.Steps[2].Attribute("activation"));
        Assert.AreEqual(266_610L * 4, weights.Length - CountPadding(plan));
        // image (784) and the first Gemm's output (300) are live together; the 100-wide output can reuse image's space.
        Assert.IsTrue(plan.ArenaBytes < (784 + 300 + 100 + 10) * 4, $"arena {plan.ArenaBytes} bytes does not reuse buffers");
        Assert.AreEqual("image", plan.Inputs[0].Identifier);
        CollectionAssert.AreEqual(new[] { 1, 1, 28, 28 }, plan.Inputs[0].Shape.ToArray());
        Assert.IsTrue(plan.Inputs[0].Batched);
    }

    [TestMethod]
    public void PlanText_RoundTripsExactly()
    {
        var (plan, _) = PlanOf("lenet300.onnx");
        var text = PlanText.Write(plan);
        var back = PlanText.Parse(text);
        Assert.AreEqual(plan, back);
        Assert.AreEqual(text, PlanText.Write(back));
    }

    [TestMethod]
    public void Int8PerChannel_StoresOneBytePerWeight_PlusScales()
    {
        var model = OnnxModel.Load(TestData.Model("lenet300.onnx"));
        var weights = model.Graph.Initializers.Where(kv => kv.Value.Rank == 2).ToDictionary(kv => kv.Key, _ => ConstantEncoding.Int8PerChannel(0));
        var (plan, blob) = PlanOf("lenet300.onnx", weights);
        var q8 = plan.Constants.Where(c => c.Storage == "q8").ToList();
        Assert.AreEqual(3, q8.Count);
        Assert.AreEqual(784 * 300 + 300 * 100 + 100 * 10, q8.Sum(c => c.Bytes));
        Assert.IsTrue(blob.Length < 266_610 * 4 * 0.27, $"{blob.Length} bytes is not ≤ 27% of fp32");
    }

    [TestMethod]
    public void Planning_IsDeterministic()
    {
        var a = PlanOf("lenet300.onnx");
        var b = PlanOf("lenet300.onnx");
        Assert.AreEqual(PlanText.Write(a.Plan), PlanText.Write(b.Plan));
        CollectionAssert.AreEqual(a.Weights, b.Weights);
    }

    private static long CountPadding(ModelPlan plan) =>
        plan.Weights.Bytes - plan.Constants.Sum(c => c.Bytes);
}
