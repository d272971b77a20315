using CompressBuild.Core.Passes;
using CompressBuild.Core.Planning;
using CompressBuild.Core.Tests.Passes;
using CompressBuild.Plan;

namespace CompressBuild.Core.Tests.Planning;

/// <summary>Plans of fused (integer) models: steps, buffer and constant types, inlined quantization parameters, scratch.</summary>
[TestClass]
public sealed class IntegerPlanTests
{
    private static ModelPlan PlanOf(Model model, out byte[] weights)
    {
        var result = Planner.Build(model, new PlanOptions { ClassName = "M" });
        weights = result.Weights;
        return result.Plan;
    }

    private static PlanBuffer Buffer(ModelPlan plan, string id) => plan.Buffers.Single(b => b.Id == id);

    private static PlanConstant Constant(ModelPlan plan, string id) => plan.Constants.Single(c => c.Id == id);

    [TestMethod]
    public void FusedConvNet_PlansIntegerSteps_OnByteBuffers()
    {
        var plan = PlanOf(QdqFusionPassTests.Fused(QdqFusionPassTests.ConvNet()), out _);
        // Flatten of a uint8 buffer is a view.
        CollectionAssert.AreEqual(new[] { "QuantizeLinear", "QLinearConv", "MaxPool", "QGemm", "DequantizeLinear" }, plan.Steps.Select(s => s.Op).ToArray());
        var types = plan.Steps.Select(s => string.Join(",", s.Outputs.Select(o => Buffer(plan, o).ElementType))).ToArray();
        CollectionAssert.AreEqual(new[] { "uint8", "uint8", "uint8", "uint8", "float" }, types);
        var conv = plan.Steps[1];
        Assert.AreEqual(4 * 8 * 8, Buffer(plan, conv.Outputs[0]).Length, "one byte per element");
        Assert.AreEqual(PlanTypes.Int8, Constant(plan, conv.Inputs[3]).Storage);
        Assert.AreEqual(PlanTypes.Int32, Constant(plan, conv.Inputs[8]).Storage);
        Assert.AreEqual(4L * 9, Constant(plan, conv.Inputs[3]).Bytes);
        // Every scale and zero point is inlined for generation-time requantization constants.
        Assert.AreEqual(QdqFusionPassTests.InputScale, conv.Attribute("_value1")!.Floats.Single());
        CollectionAssert.AreEqual(new long[] { 128 }, conv.Attribute("_value2")!.Ints.ToArray());
        Assert.AreEqual(4, conv.Attribute("_value4")!.Floats.Count);
        CollectionAssert.AreEqual(new long[] { 0 }, conv.Attribute("_value7")!.Ints.ToArray());
        var gemm = plan.Steps[3];
        Assert.AreEqual(plan.Steps[2].Outputs[0], gemm.Inputs[0], "Flatten aliases MaxPool's uint8 buffer");
        Assert.AreEqual(10, gemm.Attribute("_value4")!.Floats.Count, "per-column scales of a [10, 64] weight");
        Assert.AreEqual(1L, gemm.Attribute("transB")!.AsInt);
    }

    [TestMethod]
    public void QLinearConv_GetsItsKernelScratch()
    {
        var plan = PlanOf(QdqFusionPassTests.Fused(QdqFusionPassTests.ConvNet()), out _);
        var conv = plan.Steps[1];
        var scratch = Buffer(plan, conv.Attribute(KernelScratch.Attribute)!.AsString);
        Assert.AreEqual(KernelScratch.QuantizedFloats("QLinearConv", [[1, 1, 8, 8], [], [], [4, 1, 3, 3]], [1, 4, 8, 8], null, null, 1, false), scratch.Length);
        Assert.IsTrue(scratch.Length > 0);
        var output = Buffer(plan, conv.Outputs[0]);
        var input = Buffer(plan, conv.Inputs[0]);
        foreach (var live in new[] { output, input })
            Assert.IsTrue(scratch.Offset >= live.Offset + live.Length || live.Offset >= scratch.Offset + scratch.Length * 4L,
                $"scratch [{scratch.Offset}, +{scratch.Length * 4}) overlaps {live.Id}");
    }

    [TestMethod]
    public void FloatFallback_PlansDequantizeQuantizeAroundTheFloatOp()
    {
        // Relu before a nonzero zero point keeps Conv and Relu float: DequantizeLinear of the int8
        // weights becomes a step reading the constant, and the activations are quantized after it.
        var plan = PlanOf(QdqFusionPassTests.Fused(QdqFusionPassTests.ConvNet(hiddenZero: 10)), out _);
        var ops = plan.Steps.Select(s => s.Op).ToArray();
        CollectionAssert.IsSubsetOf(new[] { "Conv", "QuantizeLinear", "MaxPool", "QGemm" }, ops, string.Join(" ", ops));
        var dequantized = plan.Steps.Where(s => s.Op == "DequantizeLinear").SelectMany(s => plan.Constants.Where(c => c.Id == s.Inputs[0])).Select(c => c.ElementType);
        CollectionAssert.AreEquivalent(new[] { PlanTypes.Int8, PlanTypes.Int32 }, dequantized.ToArray(), "the conv's weights and bias");
        Assert.AreEqual(plan, PlanText.Parse(PlanText.Write(plan)));
    }

    [TestMethod]
    public void FusedPlan_RoundTripsThroughPlanText()
    {
        var plan = PlanOf(QdqFusionPassTests.Fused(QdqFusionPassTests.ConvNet()), out _);
        var text = PlanText.Write(plan);
        var back = PlanText.Parse(text);
        Assert.AreEqual(plan, back);
        Assert.AreEqual(text, PlanText.Write(back));
    }

    [TestMethod]
    public void FusedPlan_WeightBlobHoldsQuantizedValuesOnly()
    {
        var fused = QdqFusionPassTests.Fused(QdqFusionPassTests.ConvNet());
        var plan = PlanOf(fused, out var weights);
        Assert.IsFalse(plan.Constants.Any(c => c.ElementType == PlanTypes.Float && c.Shape.Aggregate(1, (a, d) => a * d) > 10), "a float weight remains");
        // int8 weights (36 + 640 bytes), int32 biases (4 + 10 values), scales and zero points: well under the fp32 weights' 2,960 bytes.
        long payload = plan.Constants.Sum(c => c.Bytes);
        Assert.IsTrue(payload < (36 + 640) + (4 + 10) * 4 + 200, $"{payload} bytes of constants");
        Assert.AreEqual(weights.Length, plan.Weights.Bytes);
    }

    [TestMethod]
    public void FusedLeNet5_PlansOnlyIntegerLayers_InAQuarterOfTheFloatWeights()
    {
        var (_, fused) = QdqFusionPassTests.LeNet5();
        var plan = PlanOf(fused, out var weights);
        var ops = plan.Steps.Select(s => s.Op).ToArray();
        CollectionAssert.AreEqual(new[] { "QuantizeLinear", "QLinearConv", "MaxPool", "QLinearConv", "MaxPool", "QGemm", "QGemm", "QGemm", "DequantizeLinear" }, ops,
            string.Join(" ", ops));
        Assert.IsTrue(plan.Steps.Skip(1).Take(7).All(s => s.Outputs.All(o => plan.Buffers.Single(b => b.Id == o).ElementType == PlanTypes.UInt8)));
        const long Fp32Bytes = 61_706L * 4;
        Assert.IsTrue(weights.Length <= Fp32Bytes * 0.27, $"{weights.Length} weight bytes is more than 27% of fp32 ({Fp32Bytes})");
        Assert.AreEqual(plan, PlanText.Parse(PlanText.Write(plan)));
    }
}
