using CompressBuild.Generator.Tests.Harness;

namespace CompressBuild.Generator.Tests;

/// <summary>
/// The generated code of the element-wise family, one representative step per kind of lowering
/// (float function with and without parameters, exact numeric function, typed binary, variadic
/// fold, Clip with bound inputs, Cast, mixed-type Pow, PRelu, Mean's division, Dropout's mask),
/// against reviewed baselines under Baselines/Element*.
/// </summary>
[TestClass]
public sealed class ElementwiseBaselineTests
{
    private static void Check(string test, string caseName)
    {
        var c = ElementwiseOpsTests.Cases.Single(x => x.Name == caseName);
        var (_, result, _) = GeneratorHarness.Run(Baselines.PlanTexts(c.Build(), test));
        Assert.AreEqual(0, result.Diagnostics.Length, string.Join("\n", result.Diagnostics));
        Baselines.Verify(test, result, hint => !hint.StartsWith("CompressBuild.Runtime.", StringComparison.Ordinal));
    }

    [TestMethod]
    public void ElementSigmoidHalf() => Check(nameof(ElementSigmoidHalf), "SigmoidHalf");

    [TestMethod]
    public void ElementHardSigmoid() => Check(nameof(ElementHardSigmoid), "HardSigmoidFloat");

    [TestMethod]
    public void ElementErfInt32() => Check(nameof(ElementErfInt32), "ErfInt32");

    [TestMethod]
    public void ElementAbsInt8() => Check(nameof(ElementAbsInt8), "AbsInt8");

    [TestMethod]
    public void ElementAddUint8() => Check(nameof(ElementAddUint8), "AddUint8");

    [TestMethod]
    public void ElementMaxUint16() => Check(nameof(ElementMaxUint16), "MaxUint164");

    [TestMethod]
    public void ElementMeanFloat() => Check(nameof(ElementMeanFloat), "MeanFloat3");

    [TestMethod]
    public void ElementClipInputs() => Check(nameof(ElementClipInputs), "ClipInputsInt8");

    [TestMethod]
    public void ElementCast() => Check(nameof(ElementCast), "CastFloatToInt8");

    [TestMethod]
    public void ElementPowMixed() => Check(nameof(ElementPowMixed), "PowInt32Float");

    [TestMethod]
    public void ElementPRelu() => Check(nameof(ElementPRelu), "PReluChannels");

    [TestMethod]
    public void ElementDropoutMask() => Check(nameof(ElementDropoutMask), "DropoutMask13Float");
}
