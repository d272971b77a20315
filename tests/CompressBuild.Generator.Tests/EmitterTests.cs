using System.Globalization;
using CompressBuild.Generator.Ops;
using CompressBuild.Generator.Tests.Harness;

namespace CompressBuild.Generator.Tests;

/// <summary>Details of the emitted text: literals are culture-invariant and round-trip.</summary>
[TestClass]
public sealed class EmitterTests
{
    /// <summary>A culture formatting numbers like de-DE (the repository runs in invariant-globalization mode, so it is built by hand).</summary>
    private static CultureInfo CommaCulture()
    {
        var c = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        c.NumberFormat.NumberDecimalSeparator = ",";
        c.NumberFormat.NumberGroupSeparator = ".";
        c.NumberFormat.NegativeSign = "\u2212";
        return c;
    }

    [TestMethod]
    public void FloatLiterals_RoundTrip_InvariantCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CommaCulture();
        try
        {
            Assert.AreEqual("1.5E-05f", Lit.Float(1.5e-5f));
            Assert.AreEqual("0.1f", Lit.Float(0.1f));
            Assert.AreEqual("-2f", Lit.Float(-2f));
            Assert.AreEqual("-0f", Lit.Float(-0f));
            Assert.AreEqual("float.NaN", Lit.Float(float.NaN));
            Assert.AreEqual("float.NegativeInfinity", Lit.Float(float.NegativeInfinity));
            foreach (float f in new[] { 3.4028235E+38f, 1.401298E-45f, 0.33333334f, 123456.79f })
                Assert.AreEqual(f, float.Parse(Lit.Float(f).TrimEnd('f'), CultureInfo.InvariantCulture));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [TestMethod]
    public void GeneratedCode_IsTheSame_UnderAnotherCulture()
    {
        string Generate()
        {
            var (_, result, _) = GeneratorHarness.Run(Baselines.PlanTexts(TestModels.GemmTransA.Build(), "Culture"));
            return result.GeneratedTrees.Single(t => t.FilePath.EndsWith("Culture.g.cs", StringComparison.Ordinal)).ToString();
        }
        string invariant = Generate();
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CommaCulture();
        try
        {
            Assert.AreEqual(invariant, Generate());
            StringAssert.Contains(invariant, "public static float Alpha => 0.5f;");
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }
}
