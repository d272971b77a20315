using CompressBuild.Core.Compression;
using CompressBuild.Core.Execution;
using CompressBuild.Generator.Tests.Harness;

namespace CompressBuild.Generator.Tests;

/// <summary>
/// Generated predictors against the engine's executor and ONNX Runtime on the compressed model,
/// for every op case of <see cref="TestModels"/> (all compiled into one assembly).
/// </summary>
[TestClass]
public sealed class EndToEndTests
{
    private static readonly Lazy<(GeneratedAssembly Assembly, Dictionary<string, (OpCase Case, CompressionOutput Output)> Cases)> Ops = new(() =>
    {
        var cases = TestModels.All.ToDictionary(c => c.ClassName, c => (c, EndToEnd.Compress(c.Build(), c.ClassName, c.Quantize)));
        return (EndToEnd.Build(cases.Values.Select(v => v.Item2).ToList()), cases);
    });

    public static IEnumerable<object[]> OpCases => TestModels.All.Select(c => new object[] { c.ClassName });

    [TestMethod]
    [DynamicData(nameof(OpCases))]
    public void Op_MatchesExecutorAndOnnxRuntime(string className)
    {
        var (assembly, cases) = Ops.Value;
        var (opCase, output) = cases[className];
        var inputs = opCase.RandomInputs(7);
        var predictor = assembly.Create(className);
        var actual = predictor.Run(inputs);
        var engine = new Executor(output.CompressedModel).Run(inputs);
        var ort = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(output.CompressedModel), inputs);
        for (int k = 0; k < actual.Length; k++)
        {
            Numerics.AssertClose(engine[k], actual[k], 1e-4, 1e-5, $"{className} output {k} vs executor");
            Numerics.AssertClose(ort[k], actual[k], 1e-4, 1e-5, $"{className} output {k} vs ONNX Runtime");
        }
    }

    [TestMethod]
    public void Predict_ValidatesSpanLengths_NamingTheParameter()
    {
        var predictor = Ops.Value.Assembly.Create(TestModels.GemmRelu.ClassName);
        var e = Assert.ThrowsExactly<ArgumentException>(() => predictor.Predict(new float[15]));
        Assert.AreEqual("x", e.ParamName);
        StringAssert.Contains(e.Message, "expected 16 elements");
    }

    [TestMethod]
    public void GeneratedClass_HasContractMembers()
    {
        var predictor = Ops.Value.Assembly.Create(TestModels.ConvPad.ClassName);
        var type = predictor.Type;
        Assert.AreEqual(3 * 10 * 12, predictor.Constant<int>("InputSize"));
        Assert.AreEqual(5 * 10 * 12, predictor.Constant<int>("OutputSize"));
        Assert.IsTrue(predictor.Constant<long>("WeightBytes") > 0);
        Assert.IsTrue(predictor.Constant<long>("ArenaBytes") >= predictor.Plan.ArenaBytes);
        Assert.AreEqual("fp32", predictor.Constant<string>("Compression"));
        Assert.IsNotNull(type.GetProperty("XShape"));
        Assert.IsNotNull(type.GetMethod("PredictBatch"));
        Assert.IsNotNull(type.GetMethod("Predict", new[] { typeof(float[]) }));
        Assert.IsTrue(type.IsSealed);
    }

    [TestMethod]
    public void MultiInputModel_HasNoSingleIoConvenience()
    {
        var type = Ops.Value.Assembly.Create(TestModels.SubTwoInputs.ClassName).Type;
        Assert.IsNull(type.GetField("InputSize"));
        Assert.IsNull(type.GetMethod("Predict", new[] { typeof(float[]) }));
        Assert.IsNotNull(type.GetProperty("AShape"));
        Assert.IsNotNull(type.GetProperty("BShape"));
    }

    [TestMethod]
    public void Predict_AllocatesNothing()
    {
        foreach (var c in new[] { TestModels.ConvPad, TestModels.GemmRelu.With("int8"), TestModels.MaxPoolPadCeil, TestModels.Softmax13 })
        {
            var predictor = Ops.Value.Assembly.Create(c.ClassName);
            var inputs = c.Inputs.Select(s => new float[s.Skip(1).Aggregate(1, (a, d) => a * d)]).ToArray();
            Assert.AreEqual(0L, predictor.Allocated(inputs, 100), $"{c.ClassName} allocated during Predict");
        }
    }
}
