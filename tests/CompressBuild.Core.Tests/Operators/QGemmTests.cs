using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

/// <summary>
/// The engine's QGemm (ONNX Runtime's com.microsoft contrib op, created only by the QDQ fusion pass)
/// against ONNX Runtime's own kernel on the same one-node model.
/// </summary>
[TestClass]
public sealed class QGemmTests
{
    private const DataType U8 = DataType.UInt8;
    private const DataType I8 = DataType.Int8;

    private static Tensor Q(int seed, DataType type, int[] shape, int lo, int hi)
    {
        var rng = new Random(seed);
        var v = Enumerable.Range(0, ShapeMath.ElementCount(shape)).Select(_ => rng.Next(lo, hi + 1)).ToArray();
        return type == U8 ? Tensor.FromArray(v.Select(x => (byte)x).ToArray(), shape) : Tensor.FromArray(v.Select(x => (sbyte)x).ToArray(), shape);
    }

    private static Tensor Scalar(DataType type, int value) => type == U8 ? Tensor.Scalar((byte)value) : Tensor.Scalar((sbyte)value);

    // ONNX Runtime's AVX2 u8·s8 kernel adds product pairs in saturating int16: 7-bit weights keep it exact.
    private static Tensor Weights(int seed, DataType type, int[] shape) => type == I8 ? Q(seed, I8, shape, -64, 63) : Q(seed, U8, shape, 0, 255);

    private static Model QGemmModel(Tensor?[] inputs, params NodeAttribute[] attributes)
    {
        var b = new ModelBuilder(13);
        var names = inputs.Select((t, i) => t is null ? "" : b.Input($"x{i}", t.DataType, t.Shape.Cast<object>().ToArray())).ToArray();
        b.Output(b.Node("QGemm", names, attributes), DataType.Undefined);
        var model = b.Build();
        model.Graph.Nodes[0].Domain = "com.microsoft";
        model.OpsetImports["com.microsoft"] = 1;
        return model;
    }

    private static Tensor AssertMatchesOrt(Tensor?[] inputs, double rtol, params NodeAttribute[] attributes)
    {
        var model = QGemmModel(inputs, attributes);
        var present = inputs.OfType<Tensor>().ToArray();
        var ours = new Executor(model).Run(present, new RunOptions { MaxDegreeOfParallelism = 2 })[0];
        var theirs = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), present)[0];
        Numerics.AssertClose(theirs, ours, rtol, 0, "QGemm vs ONNX Runtime");
        return ours;
    }

    // Requantized outputs must mostly lie inside the range, or the comparison says little.
    private static void AssertNotSaturated(Tensor y)
    {
        var (min, max) = y.DataType == U8 ? (0, 255) : (-128, 127);
        int inside = Enumerable.Range(0, y.Length).Count(i => y.GetDouble(i) > min && y.GetDouble(i) < max);
        Assert.IsTrue(inside > y.Length / 2, $"only {inside} of {y.Length} outputs are inside the range");
    }

    [TestMethod]
    public void TransB_PerColumnScales_Int32Bias_MatchesOnnxRuntime()
    {
        int m = 5, k = 37, n = 19;
        var a = Q(1, U8, [m, k], 0, 255);
        var b = Weights(2, I8, [n, k]);
        var bScale = RandomTensors.Uniform(3, 0.002f, 0.01f, n);
        var c = Tensor.FromArray(Enumerable.Range(0, n).Select(j => (j - 9) * 1500).ToArray(), n);
        var y = AssertMatchesOrt([a, Tensor.Scalar(0.02f), Scalar(U8, 131), b, bScale, Tensor.FromArray(new sbyte[n], n), c, Tensor.Scalar(0.9f), Scalar(U8, 120)],
            0, NodeAttribute.Int("transB", 1));
        AssertNotSaturated(y);
    }

    [TestMethod]
    public void TransA_NoBias_PerTensor_MatchesOnnxRuntime()
    {
        int m = 7, k = 20, n = 33;
        var a = Q(4, U8, [k, m], 0, 255);
        var b = Weights(5, I8, [k, n]);
        var y = AssertMatchesOrt([a, Tensor.Scalar(0.03f), Scalar(U8, 100), b, Tensor.Scalar(0.004f), Scalar(I8, 0), null, Tensor.Scalar(0.5f), Scalar(U8, 128)],
            0, NodeAttribute.Int("transA", 1));
        AssertNotSaturated(y);
    }

    [TestMethod]
    public void UInt8Weights_PerColumnZeroPoints_Alpha_MatchesOnnxRuntime()
    {
        int m = 3, k = 50, n = 17;
        var a = Q(6, U8, [m, k], 0, 255);
        var b = Weights(7, U8, [k, n]);
        var y = AssertMatchesOrt([a, Tensor.Scalar(0.01f), Scalar(U8, 90), b, RandomTensors.Uniform(8, 0.001f, 0.003f, n), Q(9, U8, [n], 110, 150),
            null, Tensor.Scalar(0.2f), Scalar(U8, 127)], 0, NodeAttribute.Float("alpha", 0.75f));
        AssertNotSaturated(y);
    }

    [TestMethod]
    public void Int8Activations_Int8Output_MatchesOnnxRuntime()
    {
        int m = 4, k = 64, n = 10;
        var a = Q(10, I8, [m, k], -128, 127);
        var b = Weights(11, I8, [n, k]);
        var c = Tensor.FromArray(Enumerable.Range(0, n).Select(j => j * 700 - 3000).ToArray(), n);
        var y = AssertMatchesOrt([a, Tensor.Scalar(0.05f), Scalar(I8, -5), b, RandomTensors.Uniform(12, 0.002f, 0.004f, n), Tensor.FromArray(new sbyte[n], n),
            c, Tensor.Scalar(0.6f), Scalar(I8, 3)], 0, NodeAttribute.Int("transB", 1));
        AssertNotSaturated(y);
    }

    [TestMethod]
    public void WithoutOutputParameters_IsFloat_MatchesOnnxRuntime()
    {
        int m = 6, k = 40, n = 12;
        var a = Q(13, U8, [m, k], 0, 255);
        var b = Weights(14, I8, [n, k]);
        var c = Tensor.FromArray(Enumerable.Range(0, n).Select(j => j * 99 - 500).ToArray(), n);
        var y = AssertMatchesOrt([a, Tensor.Scalar(0.02f), Scalar(U8, 128), b, RandomTensors.Uniform(15, 0.001f, 0.01f, n), Tensor.FromArray(new sbyte[n], n), c],
            1e-6, NodeAttribute.Int("transB", 1));
        Assert.AreEqual(DataType.Float, y.DataType);
        Assert.IsTrue(y.Floats.Any(v => v < 0) && y.Floats.Any(v => v > 0), "outputs should have both signs");
    }

    [TestMethod]
    public void QGemm_IsKnownOnlyInItsOwnDomain()
    {
        var inputs = new Tensor?[] { Q(1, U8, [2, 3], 0, 255), Tensor.Scalar(0.1f), Scalar(U8, 0), Weights(2, I8, [3, 4]), Tensor.Scalar(0.1f), Scalar(I8, 0) };
        var model = QGemmModel(inputs);
        model.Graph.Nodes[0].Domain = "";
        var e = Assert.ThrowsExactly<CompressBuildException>(() => new Executor(model));
        StringAssert.Contains(e.Message, "QGemm");
    }
}
