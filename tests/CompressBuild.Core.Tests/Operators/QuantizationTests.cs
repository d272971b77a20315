using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests.Operators;

/// <summary>
/// The quantization operators against ONNX Runtime: directly where ONNX Runtime implements the
/// variant, otherwise against an ONNX Runtime graph of plain ops that spells out the spec
/// (Cast/Sub/MatMul or Conv on exact integers, then Mul by the float multiplier and
/// QuantizeLinear with scale 1 for the round-half-even + saturate step).
/// </summary>
[TestClass]
public sealed class QuantizationTests
{
    private static readonly DataType U8 = DataType.UInt8;
    private static readonly DataType I8 = DataType.Int8;

    private static NodeAttribute Ints(string name, params long[] v) => NodeAttribute.Ints(name, v);

    private static NodeAttribute Int(string name, long v) => NodeAttribute.Int(name, v);

    // ---- tensors ----

    private static (int Min, int Max) Range(DataType t) => t == U8 ? (0, 255) : (-128, 127);

    // Uniform over [lo, hi] (default: the type's whole range).
    private static Tensor Q(int seed, DataType type, int[] shape, int? lo = null, int? hi = null)
    {
        var rng = new Random(seed);
        var (min, max) = Range(type);
        int a = lo ?? min, b = hi ?? max;
        var v = Enumerable.Range(0, ShapeMath.ElementCount(shape)).Select(_ => rng.Next(a, b + 1)).ToArray();
        return type == U8 ? Tensor.FromArray(v.Select(x => (byte)x).ToArray(), shape) : Tensor.FromArray(v.Select(x => (sbyte)x).ToArray(), shape);
    }

    // Weights for comparisons with ONNX Runtime's own kernels: on AVX2 without VNNI its u8·s8 kernels
    // add product pairs in saturating int16, so int8 weights must fit 7 bits (its quantizer's
    // reduce_range) for its result to be the exact one the spec defines.
    private static Tensor W(int seed, DataType type, int[] shape, bool forOrtKernel) =>
        forOrtKernel && type == I8 ? Q(seed, type, shape, -64, 63) : Q(seed, type, shape);

    private static Tensor Zp(DataType type, int value, params int[] shape) => Q(0, type, shape, value, value);

    // Zero points near the middle of the range, so shifted values use both signs.
    private static Tensor Zps(int seed, DataType type, params int[] shape) => type == U8 ? Q(seed, type, shape, 100, 160) : Q(seed, type, shape, -30, 30);

    private static Tensor F(float v, params int[] shape) => Tensor.FromArray(Enumerable.Repeat(v, ShapeMath.ElementCount(shape)).ToArray(), shape);

    private static Tensor Scales(int seed, float lo, float hi, params int[] shape) => RandomTensors.Uniform(seed, lo, hi, shape);

    private static Tensor Reshape(Tensor t, params int[] shape) => t.Reshape(shape);

    // ---- running ----

    // One node over graph inputs; null inputs are omitted optional inputs (empty names).
    private static Model Node(string op, int opset, Tensor?[] inputs, NodeAttribute[]? attrs = null, int outputs = 1)
    {
        var b = new ModelBuilder(opset);
        var names = inputs.Select((t, i) => t is null ? "" : b.Input($"x{i}", t.DataType, t.Shape.Cast<object>().ToArray())).ToArray();
        foreach (var o in b.NodeMulti(op, names, outputs, attrs ?? [])) b.Output(o, DataType.Undefined);
        return b.Build();
    }

    private static Tensor[] Ours(Model model, Tensor?[] inputs, int threads = 2) =>
        new Executor(model).Run(inputs.Where(t => t is not null).ToArray()!, new RunOptions { MaxDegreeOfParallelism = threads });

    private static Tensor[] Ort(Model model, Tensor?[] inputs) =>
        OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), inputs.Where(t => t is not null).ToArray()!);

    private static Tensor[] AssertMatchesOrt(string op, int opset, Tensor?[] inputs, NodeAttribute[]? attrs = null, int outputs = 1, int threads = 2)
    {
        var model = Node(op, opset, inputs, attrs, outputs);
        var ours = Ours(model, inputs, threads);
        var theirs = Ort(model, inputs);
        Assert.AreEqual(theirs.Length, ours.Length);
        for (int i = 0; i < ours.Length; i++) Numerics.AssertClose(theirs[i], ours[i], 0, 0, $"{op} output {i} vs ONNX Runtime");
        return ours;
    }

    // Guards against vacuous comparisons: most requantized outputs must lie strictly inside the range.
    private static void AssertMostlyUnsaturated(Tensor y)
    {
        var (min, max) = Range(y.DataType);
        int inside = Enumerable.Range(0, y.Length).Count(i => y.GetDouble(i) > min && y.GetDouble(i) < max);
        Assert.IsTrue(inside * 2 >= y.Length, $"only {inside} of {y.Length} outputs are unsaturated: the test scales are off");
    }

    // ---- QuantizeLinear / DequantizeLinear ----

    // Values on exact ties of x / 0.5 (…, 1.25, 1.75, …) and past both ends of the range.
    private static Tensor TiesAndOutliers(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var v = Enumerable.Range(0, ShapeMath.ElementCount(shape)).Select(i => (i % 4) switch
        {
            0 => (rng.Next(-300, 300) + 0.5f) * 0.5f,
            1 => (float)(rng.NextDouble() * 400 - 200),
            2 => rng.Next(2) == 0 ? 500f : -500f,
            _ => (float)(rng.NextDouble() * 4 - 2),
        }).ToArray();
        return Tensor.FromArray(v, shape);
    }

    [TestMethod]
    public void QuantizeLinear_PerTensor_Uint8Int8AndDefaultZeroPoint_MatchesOnnxRuntime()
    {
        var x = TiesAndOutliers(1, 3, 4, 5);
        foreach (int opset in new[] { 10, 13 })
        {
            AssertMatchesOrt("QuantizeLinear", opset, [x, F(0.5f)]);
            AssertMatchesOrt("QuantizeLinear", opset, [x, F(0.5f), Zp(U8, 128)]);
            AssertMatchesOrt("QuantizeLinear", opset, [x, F(0.37f), Zp(U8, 3)]);
            AssertMatchesOrt("QuantizeLinear", opset, [x, F(0.5f), Zp(I8, -7)]);
            AssertMatchesOrt("QuantizeLinear", opset, [x, F(1.3f), Zp(I8, 0)]);
            // One-element 1-D scale and zero point are per-tensor too.
            AssertMatchesOrt("QuantizeLinear", opset, [x, F(0.5f, 1), Zp(U8, 10, 1)]);
        }
        // Large enough to split over threads.
        var big = TiesAndOutliers(2, 4, 64, 300);
        AssertMatchesOrt("QuantizeLinear", 13, [big, F(0.5f), Zp(I8, 5)], threads: 4);
    }

    [TestMethod]
    public void QuantizeLinear_PerAxis_DefaultAndNegativeAxes_MatchesOnnxRuntime()
    {
        var x = TiesAndOutliers(3, 2, 3, 4, 5);
        foreach (var (axis, dim) in new (long?, int)[] { (null, 3), (0, 2), (2, 4), (-1, 5), (-3, 3) })
        {
            NodeAttribute[] attrs = axis is null ? [] : [Int("axis", axis.Value)];
            var scale = Scales(10 + dim, 0.2f, 2f, dim);
            AssertMatchesOrt("QuantizeLinear", 13, [x, scale, Zps(20 + dim, U8, dim)], attrs);
            AssertMatchesOrt("QuantizeLinear", 13, [x, scale, Zps(30 + dim, I8, dim)], attrs);
        }
        var big = TiesAndOutliers(4, 3, 40, 30, 30);
        AssertMatchesOrt("QuantizeLinear", 13, [big, Scales(5, 0.2f, 2f, 40), Zps(6, U8, 40)], threads: 4);
    }

    [TestMethod]
    public void QuantizeLinear_Int32Input_RoundsHalfToEvenAndSaturates()
    {
        // ONNX Runtime has no int32 QuantizeLinear; the spec's formula is checked on exact ties instead.
        var x = Tensor.FromArray(new[] { 5, 7, -5, -7, 1000, -1000, 3 }, 7);
        var y = Ours(Node("QuantizeLinear", 13, [x, F(2f), Zp(U8, 10)]), [x, F(2f), Zp(U8, 10)])[0].ArrayOf<byte>();
        // 2.5→2, 3.5→4, -2.5→-2, -3.5→-4, then +10 and saturate.
        CollectionAssert.AreEqual(new byte[] { 12, 14, 8, 6, 255, 0, 12 }, y);
    }

    [TestMethod]
    public void DequantizeLinear_PerTensor_Uint8Int8Int32_MatchesOnnxRuntime()
    {
        var u = Q(1, U8, [3, 4, 5]);
        var s = Q(2, I8, [3, 4, 5]);
        var i32 = Tensor.FromArray(Enumerable.Range(0, 60).Select(i => (i - 30) * 123457).ToArray(), 3, 4, 5);
        foreach (int opset in new[] { 10, 13 })
        {
            AssertMatchesOrt("DequantizeLinear", opset, [u, F(0.37f)]);
            AssertMatchesOrt("DequantizeLinear", opset, [u, F(0.37f), Zp(U8, 131)]);
            AssertMatchesOrt("DequantizeLinear", opset, [s, F(0.011f), Zp(I8, -9)]);
            AssertMatchesOrt("DequantizeLinear", opset, [s, F(0.011f, 1), Zp(I8, 4, 1)]);
            AssertMatchesOrt("DequantizeLinear", opset, [i32, F(0.0013f)]);
            AssertMatchesOrt("DequantizeLinear", opset, [i32, F(0.0013f), Tensor.Scalar(0)]);
        }
    }

    [TestMethod]
    public void DequantizeLinear_PerAxis_DefaultAndNegativeAxes_MatchesOnnxRuntime()
    {
        var u = Q(3, U8, [2, 3, 4, 5]);
        var s = Q(4, I8, [2, 3, 4, 5]);
        foreach (var (axis, dim) in new (long?, int)[] { (null, 3), (0, 2), (2, 4), (-1, 5), (-4, 2) })
        {
            NodeAttribute[] attrs = axis is null ? [] : [Int("axis", axis.Value)];
            var scale = Scales(40 + dim, 0.01f, 0.5f, dim);
            AssertMatchesOrt("DequantizeLinear", 13, [u, scale, Zps(50 + dim, U8, dim)], attrs);
            AssertMatchesOrt("DequantizeLinear", 13, [s, scale, Zps(60 + dim, I8, dim)], attrs);
            AssertMatchesOrt("DequantizeLinear", 13, [s, scale], attrs);
        }
        var big = Q(5, U8, [3, 40, 30, 30]);
        AssertMatchesOrt("DequantizeLinear", 13, [big, Scales(6, 0.01f, 0.5f, 40), Zps(7, U8, 40)], threads: 4);
    }

    [TestMethod]
    public void QuantizeDequantize_InvalidParameters_AreReported()
    {
        var x = RandomTensors.Uniform(1, -1f, 1f, 2, 3, 4);
        // Per-axis scales need opset 13; the axis attribute too.
        Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node("QuantizeLinear", 10, [x, F(0.1f, 3)]), [x, F(0.1f, 3)]));
        Assert.ThrowsExactly<CompressBuildException>(() => new Executor(Node("QuantizeLinear", 10, [x, F(0.1f)], [Int("axis", 0)])));
        // Scale length against the axis, zero point shape and type, axis range.
        Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node("QuantizeLinear", 13, [x, F(0.1f, 4)]), [x, F(0.1f, 4)]));
        Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node("QuantizeLinear", 13, [x, F(0.1f, 3), Zp(U8, 1, 2)]), [x, F(0.1f, 3), Zp(U8, 1, 2)]));
        Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node("QuantizeLinear", 13, [x, F(0.1f, 3)], [Int("axis", 3)]), [x, F(0.1f, 3)]));
        Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node("QuantizeLinear", 13, [x, F(0.1f, 3, 1)]), [x, F(0.1f, 3, 1)]));
        var i16 = Tensor.FromArray(new short[] { 1, 2 }, 2);
        Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node("QuantizeLinear", 13, [x, F(0.1f), i16]), [x, F(0.1f), i16]));
        var u = Q(1, U8, [2, 3]);
        Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node("DequantizeLinear", 13, [u, F(0.1f), Zp(I8, 1)]), [u, F(0.1f), Zp(I8, 1)]));
        Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node("DequantizeLinear", 13, [x, F(0.1f)]), [x, F(0.1f)]));
    }

    // ---- DynamicQuantizeLinear ----

    [TestMethod]
    public void DynamicQuantizeLinear_MixedPositiveNegativeAndZeroRanges_MatchOnnxRuntime()
    {
        Tensor[] cases =
        [
            RandomTensors.Uniform(1, -3f, 5f, 4, 7),
            RandomTensors.Uniform(2, 0.5f, 9f, 3, 5),    // min adjusted to 0
            RandomTensors.Uniform(3, -7f, -0.25f, 11),   // max adjusted to 0
            RandomTensors.Normal(4, 100f, 2, 3, 4),
            Tensor.FromArray(new[] { 0f, 0f, 0f }, 3),   // empty range
            Tensor.FromArray(new[] { -2.55f, 0f, 2.55f, 1.275f, -1.275f }, 5),
            RandomTensors.Uniform(5, -1f, 2f, 8, 64, 70),
        ];
        foreach (var x in cases)
        {
            var outs = AssertMatchesOrt("DynamicQuantizeLinear", 11, [x], outputs: 3, threads: 4);
            CollectionAssert.AreEqual(Array.Empty<int>(), outs[1].Shape);
            CollectionAssert.AreEqual(Array.Empty<int>(), outs[2].Shape);
        }
    }

    // ---- MatMulInteger / QLinearMatMul ----

    // (A, B) shapes: promotion of 1-D operands, plain 2-D, batched with shared and broadcast batches,
    // and sizes that leave partial 4-row and 16-column tiles and an odd K.
    private static readonly (int[] A, int[] B)[] MatMulShapes =
    [
        ([4], [4, 3]),
        ([5, 4], [4]),
        ([5, 7], [7, 3]),
        ([2, 5, 4], [4, 3]),
        ([5, 4], [2, 4, 3]),
        ([2, 1, 5, 4], [3, 4, 6]),
        ([9, 33], [33, 37]),
        ([3, 13, 24], [3, 24, 17]),
    ];

    private static readonly (DataType A, DataType B)[] TypePairs = [(U8, U8), (U8, I8), (I8, I8), (I8, U8)];

    // Exact integer matmul in ONNX Runtime: Cast to int32, subtract the zero points (broadcast), MatMul.
    private static (ModelBuilder B, string Acc) IntegerMatMulGraph(int opset, Tensor a, Tensor? za, Tensor b, Tensor? zb)
    {
        var g = new ModelBuilder(opset);
        string Shifted(string name, Tensor t, Tensor? zp)
        {
            string v = g.Node("Cast", [g.Input(name, t.DataType, t.Shape.Cast<object>().ToArray())], Int("to", (long)DataType.Int32));
            if (zp is null) return v;
            string z = g.Node("Cast", [g.Input(name + "_zp", zp.DataType, zp.Shape.Cast<object>().ToArray())], Int("to", (long)DataType.Int32));
            return g.Node("Sub", [v, z]);
        }
        string sa = Shifted("a", a, za), sb = Shifted("b", b, zb);
        return (g, g.Node("MatMul", [sa, sb]));
    }

    private static Tensor?[] Present(params Tensor?[] t) => t.Where(x => x is not null).ToArray();

    // Oracle inputs lay per-row parameters of a 2-D A out as [M, 1] (numpy broadcasting).
    private static Tensor? RowShaped(Tensor? p, Tensor a) =>
        p is not null && a.Rank == 2 && p.Rank == 1 && p.Length > 1 ? p.Reshape(p.Length, 1) : p;

    private static void MatMulIntegerMatches(Tensor a, Tensor? za, Tensor b, Tensor? zb, int threads = 2)
    {
        var model = Node("MatMulInteger", 10, [a, b, za, zb]);
        var ours = Ours(model, [a, b, za, zb], threads)[0];
        var (g, acc) = IntegerMatMulGraph(13, a, RowShaped(za, a), b, zb);
        g.Output(acc, DataType.Undefined);
        var expected = OnnxRuntimeOracle.Run(g.Bytes(), Present(a, RowShaped(za, a), b, zb)!)[0];
        Numerics.AssertClose(expected, ours, 0, 0, "MatMulInteger vs ONNX Runtime Cast/Sub/MatMul");
    }

    [TestMethod]
    public void MatMulInteger_ShapesTypesAndPerTensorZeroPoints_MatchOnnxRuntime()
    {
        int seed = 1;
        foreach (var (sa, sb) in MatMulShapes)
            foreach (var (ta, tb) in TypePairs)
            {
                var a = Q(seed++, ta, sa);
                var b = Q(seed++, tb, sb);
                MatMulIntegerMatches(a, null, b, null);
                MatMulIntegerMatches(a, Zps(seed++, ta), b, null);
                MatMulIntegerMatches(a, null, b, Zps(seed++, tb));
                MatMulIntegerMatches(a, Zps(seed++, ta, 1), b, Zps(seed++, tb, 1));
            }
        // ONNX Runtime's own kernel, where it has the variant (uint8 A, per-tensor a_zero_point).
        var a8 = Q(90, U8, [6, 10]);
        var b8 = Q(91, U8, [10, 5]);
        AssertMatchesOrt("MatMulInteger", 10, [a8, b8, Zp(U8, 120), Zp(U8, 7)]);
        AssertMatchesOrt("MatMulInteger", 10, [a8, W(92, I8, [10, 5], true), Zp(U8, 120), Zp(I8, -3)]);
        AssertMatchesOrt("MatMulInteger", 10, [a8, b8]);
    }

    [TestMethod]
    public void MatMulInteger_PerRowAndPerColumnZeroPoints_MatchOnnxRuntime()
    {
        // 2-D: an M-vector per row of A, an N-vector or [1, N] per column of B.
        var a = Q(1, U8, [5, 7]);
        var b = Q(2, I8, [7, 19]);
        MatMulIntegerMatches(a, Zps(3, U8, 5), b, Zps(4, I8, 19));
        MatMulIntegerMatches(a, Zps(5, U8, 5, 1), b, Zps(6, I8, 1, 19));
        MatMulIntegerMatches(a, null, b, Zps(7, I8, 19));
        // N-D: [D, M, 1] and [D, 1, N], also broadcast over the batch ([1, M, 1], [1, N]).
        var a3 = Q(8, I8, [3, 6, 9]);
        var b3 = Q(9, U8, [3, 9, 10]);
        MatMulIntegerMatches(a3, Zps(10, I8, 3, 6, 1), b3, Zps(11, U8, 3, 1, 10));
        MatMulIntegerMatches(a3, Zps(12, I8, 1, 6, 1), b3, Zps(13, U8, 10));
        // ONNX Runtime's kernel supports per-column b_zero_point shaped [..., 1, N].
        AssertMatchesOrt("MatMulInteger", 10, [Q(14, U8, [5, 7]), Q(15, U8, [7, 19]), Zp(U8, 9), Zps(16, U8, 1, 19)]);
    }

    [TestMethod]
    public void MatMulInteger_LargeOnSeveralThreads_MatchesOnnxRuntime()
    {
        MatMulIntegerMatches(Q(1, U8, [150, 301]), Zp(U8, 128), Q(2, I8, [301, 130]), Zp(I8, 1), threads: 4);
        MatMulIntegerMatches(Q(3, I8, [40, 9, 31]), Zps(4, I8, 40, 9, 1), Q(5, U8, [31, 23]), Zps(6, U8, 23), threads: 4);
    }

    // QLinearMatMul in ONNX Runtime ops: the exact integer product, times (a_scale · b_scale / y_scale)
    // in float, then QuantizeLinear with scale 1 (round half to even, add y_zero_point, saturate).
    private static Tensor QLinearMatMulOracle(Tensor a, Tensor sa, Tensor za, Tensor b, Tensor sb, Tensor zb, Tensor sy, Tensor zy)
    {
        var (g, acc) = IntegerMatMulGraph(13, a, RowShaped(za, a), b, zb);
        string accf = g.Node("Cast", [acc], Int("to", (long)DataType.Float));
        var saShaped = RowShaped(sa, a)!;
        string mult = g.Node("Div", [g.Node("Mul", [g.Input("sa", DataType.Float, saShaped.Shape.Cast<object>().ToArray()),
            g.Input("sb", DataType.Float, sb.Shape.Cast<object>().ToArray())]), g.Input("sy", DataType.Float, sy.Shape.Cast<object>().ToArray())]);
        string y = g.Node("QuantizeLinear", [g.Node("Mul", [accf, mult]), g.Initializer("one", F(1f)), g.Input("zy", zy.DataType, zy.Shape.Cast<object>().ToArray())]);
        g.Output(y, DataType.Undefined);
        return OnnxRuntimeOracle.Run(g.Bytes(), a, RowShaped(za, a)!, b, zb, saShaped, sb, sy, zy)[0];
    }

    private static void QLinearMatMulMatches(Tensor a, Tensor sa, Tensor za, Tensor b, Tensor sb, Tensor zb, Tensor sy, Tensor zy, bool alsoOrtKernel, int threads = 2)
    {
        Tensor[] inputs = [a, sa, za, b, sb, zb, sy, zy];
        var ours = Ours(Node("QLinearMatMul", 10, inputs), inputs, threads)[0];
        Numerics.AssertClose(QLinearMatMulOracle(a, sa, za, b, sb, zb, sy, zy), ours, 0, 0, "QLinearMatMul vs ONNX Runtime ops");
        if (alsoOrtKernel) AssertMatchesOrt("QLinearMatMul", 10, inputs, threads: threads);
        AssertMostlyUnsaturated(ours);
    }

    // A y_scale that keeps outputs in range for K-long products of centred 8-bit values.
    private static Tensor OutputScale(float sa, float sb, int k) => F(sa * sb * 128f * 128f * MathF.Sqrt(k) / 40f);

    [TestMethod]
    public void QLinearMatMul_ShapesTypesAndPerTensorParameters_MatchOnnxRuntime()
    {
        int seed = 1;
        foreach (var (sa, sb) in MatMulShapes)
            foreach (var (ta, tb) in TypePairs)
                foreach (var ty in new[] { U8, I8 })
                {
                    // ONNX Runtime implements uint8 A with uint8/int8 B and int8 A with int8 B, y of A's type.
                    bool ort = ty == ta && !(ta == I8 && tb == U8);
                    var a = Q(seed++, ta, sa);
                    var b = W(seed++, tb, sb, ort);
                    int k = sa[^1];
                    // Power-of-two scales make exact ties for the round-half-even step.
                    bool ties = seed % 3 == 0;
                    float fa = ties ? 0.5f : 0.02f + seed % 7 * 0.003f, fb = ties ? 0.25f : 0.013f;
                    var sy = ties ? F(MathF.Pow(2, MathF.Round(MathF.Log2(OutputScale(fa, fb, k).Floats[0])))) : OutputScale(fa, fb, k);
                    QLinearMatMulMatches(a, F(fa), Zps(seed++, ta), b, F(fb), Zps(seed++, tb), sy, Zps(seed++, ty), ort);
                }
    }

    [TestMethod]
    public void QLinearMatMul_PerRowAndPerColumnParameters_MatchOnnxRuntime()
    {
        // 2-D: per-column b ([1, N] — ONNX Runtime's kernel has it — and [N]), per-row a ([M]).
        var a = Q(1, U8, [6, 20]);
        var b = W(2, I8, [20, 18], true);
        var sy = OutputScale(0.02f, 0.01f, 20);
        QLinearMatMulMatches(a, F(0.02f), Zp(U8, 130), b, Scales(3, 0.005f, 0.015f, 1, 18), Zps(4, I8, 1, 18), sy, Zp(U8, 120), alsoOrtKernel: true);
        QLinearMatMulMatches(a, F(0.02f), Zp(U8, 130), b, Scales(5, 0.005f, 0.015f, 18), Zps(6, I8, 18), sy, Zp(U8, 120), alsoOrtKernel: false);
        QLinearMatMulMatches(a, Scales(7, 0.015f, 0.025f, 6), Zps(8, U8, 6), b, F(0.01f), Zp(I8, 2), sy, Zp(U8, 120), alsoOrtKernel: false);
        // N-D: [D, M, 1] rows and [D, 1, N] columns, one broadcast over the batch.
        var a3 = Q(9, I8, [2, 7, 12]);
        var b3 = Q(10, U8, [2, 12, 5]);
        var sy3 = OutputScale(0.02f, 0.01f, 12);
        QLinearMatMulMatches(a3, Scales(11, 0.015f, 0.025f, 2, 7, 1), Zps(12, I8, 2, 7, 1), b3, Scales(13, 0.005f, 0.015f, 2, 1, 5), Zps(14, U8, 2, 1, 5), sy3, Zp(I8, 3), alsoOrtKernel: false);
        QLinearMatMulMatches(a3, Scales(15, 0.015f, 0.025f, 1, 7, 1), Zps(16, I8, 1, 7, 1), b3, Scales(17, 0.005f, 0.015f, 5), Zps(18, U8, 5), sy3, Zp(I8, 3), alsoOrtKernel: false);
        QLinearMatMulMatches(Q(19, U8, [2, 7, 12]), F(0.02f), Zp(U8, 128), b3, Scales(20, 0.005f, 0.015f, 2, 1, 5), Zps(21, U8, 2, 1, 5), sy3, Zp(U8, 128), alsoOrtKernel: true);
    }

    [TestMethod]
    public void QLinearMatMul_RequantizationTies_RoundHalfToEven()
    {
        // Values within ±4 of their zero points and a multiplier of 0.5: every odd product is a tie.
        var a = Q(1, U8, [9, 6], 124, 132);
        var b = Q(2, U8, [6, 11], 96, 104);
        QLinearMatMulMatches(a, F(0.5f), Zp(U8, 128), b, F(0.25f), Zp(U8, 100), F(0.25f), Zp(U8, 128), alsoOrtKernel: true);
        var a8 = Q(3, I8, [2, 9, 6], -4, 4);
        QLinearMatMulMatches(a8, F(2f), Zp(I8, 0), Q(4, I8, [2, 6, 11], -4, 4), F(0.5f), Zp(I8, 0), F(2f), Zp(I8, 1), alsoOrtKernel: true);
    }

    [TestMethod]
    public void QLinearMatMul_LargeOnSeveralThreads_MatchesOnnxRuntime()
    {
        var a = Q(1, U8, [130, 257]);
        var b = W(2, I8, [257, 100], true);
        QLinearMatMulMatches(a, F(0.02f), Zp(U8, 128), b, Scales(3, 0.005f, 0.015f, 1, 100), Zps(4, I8, 1, 100), OutputScale(0.02f, 0.01f, 257), Zp(U8, 128), true, threads: 4);
        var a3 = Q(5, I8, [48, 9, 40]);
        QLinearMatMulMatches(a3, F(0.03f), Zp(I8, 0), Q(6, I8, [48, 40, 21]), F(0.01f), Zp(I8, 0), OutputScale(0.03f, 0.01f, 40), Zp(I8, -4), true, threads: 4);
    }

    [TestMethod]
    public void QLinearMatMulAndMatMulInteger_InvalidParameters_AreReported()
    {
        var a = Q(1, U8, [4, 6]);
        var b = Q(2, U8, [6, 5]);
        void Throws(string op, Tensor?[] inputs) =>
            Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node(op, 10, inputs), inputs));
        Throws("MatMulInteger", [a, Q(3, U8, [5, 5])]);                     // inner dims
        Throws("MatMulInteger", [a, b, Zps(4, U8, 6)]);                     // per-row zp of the wrong length
        Throws("MatMulInteger", [a, b, null, Zps(5, U8, 6, 1)]);            // per-"row" zp on B
        Throws("MatMulInteger", [a, b, Zp(I8, 1)]);                         // zp type differs from A
        Throws("MatMulInteger", [RandomTensors.Uniform(1, 0, 1, 4, 6), b]); // float A
        Throws("QLinearMatMul", [a, F(0.1f), Zp(U8, 1), b, F(0.1f), Zp(U8, 1), F(0.1f, 2), Zp(U8, 1, 2)]); // per-tensor y only
        Throws("QLinearMatMul", [a, F(0.1f, 4), Zp(U8, 1), b, F(0.1f), Zp(U8, 1), F(0.1f), Zp(U8, 1)]);    // zp shape differs from scale
    }

    // ---- ConvInteger / QLinearConv ----

    // (x shape, w shape, attributes): pads, strides, dilations, groups (depthwise too), auto_pad
    // modes, 1-D and 3-D, kernel_shape, and a pointwise 1×1.
    private static readonly (int[] X, int[] W, NodeAttribute[] Attrs)[] ConvCases =
    [
        ([2, 3, 9, 8], [4, 3, 3, 3], []),
        ([2, 3, 9, 8], [4, 3, 3, 3], [Ints("pads", 1, 1, 1, 1)]),
        ([1, 3, 9, 8], [5, 3, 3, 2], [Ints("pads", 2, 0, 1, 3), Ints("strides", 2, 3)]),
        ([1, 3, 11, 10], [5, 3, 3, 3], [Ints("dilations", 2, 3), Ints("pads", 1, 2, 0, 1), Ints("kernel_shape", 3, 3)]),
        ([2, 4, 9, 8], [6, 2, 3, 2], [Int("group", 2), Ints("dilations", 2, 2), Ints("pads", 1, 1, 1, 1)]),
        ([2, 3, 8, 7], [6, 1, 3, 3], [Int("group", 3), Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2)]),
        ([1, 4, 7, 7], [4, 1, 3, 3], [Int("group", 4), NodeAttribute.String("auto_pad", "SAME_UPPER")]),
        ([2, 3, 11], [2, 3, 4], [NodeAttribute.String("auto_pad", "SAME_LOWER"), Ints("strides", 2)]),
        ([1, 2, 9, 8], [3, 2, 4, 3], [NodeAttribute.String("auto_pad", "SAME_UPPER"), Ints("strides", 2, 2)]),
        ([1, 2, 9, 8], [3, 2, 2, 3], [NodeAttribute.String("auto_pad", "VALID"), Ints("strides", 1, 2)]),
        ([2, 5, 6, 7], [7, 5, 1, 1], []),
        ([1, 2, 4, 5, 4], [2, 2, 2, 3, 2], [Ints("pads", 1, 1, 0, 0, 1, 1), Ints("strides", 2, 1, 1)]),
    ];

    // The exact integer convolution in ONNX Runtime float ops: Cast, subtract the zero points, Conv
    // (every partial sum is an integer below 2^24, so float is exact), Cast back to int32.
    private static (ModelBuilder G, string Acc, List<Tensor> Inputs) ConvOracle(Tensor x, int xZero, Tensor w, Tensor? wZero, NodeAttribute[] attrs)
    {
        var g = new ModelBuilder(13);
        var inputs = new List<Tensor> { x, w };
        string Shifted(string name, Tensor t, float[] zeros, int[] zShape)
        {
            string v = g.Node("Cast", [g.Input(name, t.DataType, t.Shape.Cast<object>().ToArray())], Int("to", (long)DataType.Float));
            return g.Node("Sub", [v, g.Initializer(name + "_zp", zeros, zShape)]);
        }
        int m = w.Shape[0];
        float[] wz = wZero is null ? [0f] : Enumerable.Range(0, wZero.Length).Select(i => (float)wZero.GetDouble(i)).ToArray();
        int[] wzShape = wz.Length == 1 ? [] : [m, .. Enumerable.Repeat(1, w.Rank - 1)];
        string conv = g.Node("Conv", [Shifted("x", x, [xZero], []), Shifted("w", w, wz, wzShape)], attrs);
        return (g, conv, inputs);
    }

    private static void ConvIntegerMatches(Tensor x, Tensor? xZero, Tensor w, Tensor? wZero, NodeAttribute[] attrs, bool alsoOrtKernel, int threads = 2)
    {
        Tensor?[] inputs = [x, w, xZero, wZero];
        var ours = Ours(Node("ConvInteger", 10, inputs, attrs), inputs, threads)[0];
        var (g, acc, oin) = ConvOracle(x, xZero is null ? 0 : (int)xZero.GetDouble(0), w, wZero, attrs);
        g.Output(g.Node("Cast", [acc], Int("to", (long)DataType.Int32)), DataType.Undefined);
        Numerics.AssertClose(OnnxRuntimeOracle.Run(g.Bytes(), oin.ToArray())[0], ours, 0, 0, "ConvInteger vs ONNX Runtime Cast/Sub/Conv");
        if (alsoOrtKernel) AssertMatchesOrt("ConvInteger", 10, inputs, attrs, threads: threads);
    }

    [TestMethod]
    public void ConvInteger_AllConvAttributes_TypesAndZeroPoints_MatchOnnxRuntime()
    {
        int seed = 1;
        foreach (var (xs, ws, attrs) in ConvCases)
            foreach (var (tx, tw) in TypePairs)
            {
                // ONNX Runtime's ConvInteger takes uint8 x with a per-tensor w zero point.
                bool ort = tx == U8;
                var x = Q(seed++, tx, xs);
                var w = W(seed++, tw, ws, ort);
                ConvIntegerMatches(x, Zps(seed++, tx), w, Zps(seed++, tw), attrs, ort);
                ConvIntegerMatches(x, null, w, null, attrs, ort);
                ConvIntegerMatches(x, Zps(seed++, tx, 1), w, null, attrs, ort);
                // One w zero point per output channel.
                ConvIntegerMatches(x, Zps(seed++, tx), w, Zps(seed++, tw, ws[0]), attrs, false);
            }
    }

    [TestMethod]
    public void ConvInteger_LargeOnSeveralThreads_MatchesOnnxRuntime()
    {
        // Batch split over threads, and one big sample whose columns are split instead.
        ConvIntegerMatches(Q(1, U8, [8, 6, 20, 20]), Zp(U8, 128), Q(2, U8, [16, 6, 5, 5]), Zp(U8, 120), [Ints("pads", 2, 2, 2, 2)], true, threads: 4);
        ConvIntegerMatches(Q(3, U8, [1, 16, 40, 40]), Zp(U8, 100), Q(4, I8, [13, 16, 3, 3]), Zps(5, I8, 13), [Ints("pads", 1, 1, 1, 1)], false, threads: 4);
    }

    private static void QLinearConvMatches(Tensor x, float xScale, Tensor xZero, Tensor w, Tensor wScale, Tensor wZero, float yScale, Tensor yZero,
        Tensor? bias, NodeAttribute[] attrs, bool alsoOrtKernel, int threads = 2)
    {
        Tensor?[] inputs = [x, F(xScale), xZero, w, wScale, wZero, F(yScale), yZero, bias];
        var ours = Ours(Node("QLinearConv", 10, inputs, attrs), inputs, threads)[0];
        // Oracle: Conv with the bias as a float (exact), times x_scale · w_scale / y_scale, QuantizeLinear by 1.
        var (g, acc, oin) = ConvOracle(x, (int)xZero.GetDouble(0), w, wZero, attrs);
        int m = w.Shape[0];
        int[] perChannel = [m, .. Enumerable.Repeat(1, w.Rank - 2)];
        if (bias is not null) acc = g.Node("Add", [acc, g.Initializer("bias", bias.ArrayOf<int>().Select(v => (float)v).ToArray(), perChannel)]);
        var ws = wScale.Floats;
        float[] mult = ws.Select(s => xScale * s / yScale).ToArray();
        string y = g.Node("QuantizeLinear", [g.Node("Mul", [acc, g.Initializer("mult", mult, mult.Length == 1 ? [] : perChannel)]),
            g.Initializer("one", F(1f)), g.Initializer("zy", yZero)]);
        g.Output(y, DataType.Undefined);
        Numerics.AssertClose(OnnxRuntimeOracle.Run(g.Bytes(), oin.ToArray())[0], ours, 0, 0, "QLinearConv vs ONNX Runtime Cast/Sub/Conv/Mul/QuantizeLinear");
        if (alsoOrtKernel) AssertMatchesOrt("QLinearConv", 10, inputs, attrs, threads: threads);
        AssertMostlyUnsaturated(ours);
    }

    [TestMethod]
    public void QLinearConv_AllConvAttributes_TypesBiasAndPerChannelWeights_MatchOnnxRuntime()
    {
        int seed = 1;
        foreach (var (xs, ws, attrs) in ConvCases)
            foreach (var (tx, tw) in TypePairs)
            {
                var x = Q(seed++, tx, xs);
                var w = W(seed++, tw, ws, tx == U8);
                int m = ws[0], k = ShapeMath.Product(ws, 1, ws.Length);
                var rng = new Random(seed++);
                var bias = Tensor.FromArray(Enumerable.Range(0, m).Select(_ => rng.Next(-20000, 20000)).ToArray(), m);
                float ys = 0.02f * 0.01f * 128f * 128f * MathF.Sqrt(k) / 40f;
                // ONNX Runtime's QLinearConv: y of x's type, no int8 x with uint8 w, one w zero point.
                foreach (var ty in new[] { U8, I8 })
                {
                    bool ort = ty == tx && !(tx == I8 && tw == U8);
                    var zw = Zp(tw, tw == U8 ? 128 : 0);
                    QLinearConvMatches(x, 0.02f, Zps(seed++, tx), w, F(0.01f), zw, ys, Zps(seed++, ty), bias, attrs, ort);
                    QLinearConvMatches(x, 0.02f, Zps(seed++, tx), w, Scales(seed++, 0.005f, 0.015f, m), zw, ys, Zps(seed++, ty), null, attrs, ort);
                    // Per-channel w zero points; power-of-two scales for exact ties.
                    QLinearConvMatches(x, 0.5f, Zps(seed++, tx), Q(seed++, tw, ws), F(0.25f, m), Zps(seed++, tw, m),
                        MathF.Pow(2, MathF.Round(MathF.Log2(0.125f * 128f * 128f * MathF.Sqrt(k) / 40f))), Zps(seed++, ty), bias, attrs, false);
                }
            }
    }

    [TestMethod]
    public void QLinearConv_LargeOnSeveralThreads_MatchesOnnxRuntime()
    {
        var rng = new Random(1);
        var bias = Tensor.FromArray(Enumerable.Range(0, 16).Select(_ => rng.Next(-5000, 5000)).ToArray(), 16);
        float ys = 0.02f * 0.01f * 128f * 128f * MathF.Sqrt(150) / 40f;
        QLinearConvMatches(Q(2, U8, [8, 6, 24, 24]), 0.02f, Zp(U8, 128), W(3, I8, [16, 6, 5, 5], true), Scales(4, 0.005f, 0.015f, 16), Zp(I8, 0), ys, Zp(U8, 128),
            bias, [Ints("pads", 2, 2, 2, 2)], true, threads: 4);
        QLinearConvMatches(Q(5, U8, [1, 6, 48, 48]), 0.02f, Zp(U8, 128), Q(6, U8, [16, 6, 5, 5]), F(0.01f), Zp(U8, 128), ys, Zp(U8, 128),
            bias, [Ints("strides", 1, 1)], true, threads: 4);
    }

    [TestMethod]
    public void QLinearConvAndConvInteger_InvalidParameters_AreReported()
    {
        var x = Q(1, U8, [1, 3, 6, 6]);
        var w = Q(2, U8, [4, 3, 3, 3]);
        void Throws(string op, Tensor?[] inputs, params NodeAttribute[] attrs) =>
            Assert.ThrowsExactly<CompressBuildException>(() => Ours(Node(op, 10, inputs, attrs), inputs));
        Throws("ConvInteger", [x, Q(3, U8, [4, 2, 3, 3])]);                            // channels
        Throws("ConvInteger", [x, w, Zps(4, U8, 3)]);                                   // x zero point per tensor only
        Throws("ConvInteger", [x, w, null, Zps(5, U8, 3)]);                             // w zero point: 1 or M
        Throws("ConvInteger", [x, w], Ints("kernel_shape", 2, 2));                      // kernel_shape vs w
        Throws("ConvInteger", [x, w], Int("group", 2));                                 // group vs channels
        Tensor?[] q = [x, F(0.1f), Zp(U8, 1), w, F(0.1f, 3), Zp(U8, 1), F(0.1f), Zp(U8, 1)];
        Throws("QLinearConv", q);                                                       // w_scale: 1 or M
        Throws("QLinearConv", [x, F(0.1f), Zp(U8, 1), w, F(0.1f), Zp(U8, 1), F(0.1f), Zp(U8, 1), Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 4)]); // float bias
        Throws("QLinearConv", [x, F(0.1f), Zp(U8, 1), w, F(0.1f), Zp(U8, 1), F(0.1f), Zp(U8, 1), Tensor.FromArray(new[] { 1, 2 }, 2)]);          // bias length
    }

    // ---- shape inference ----

    private static ValueFacts Facts(DataType t, params Dim[] shape) => new(t, shape);

    private static ValueFacts Scalar(DataType t) => new(t, []);

    private static ShapeContext Infer(string op, int opset, ValueFacts?[] inputs, int outputs = 1, params NodeAttribute[] attrs)
    {
        var node = new Node(op, inputs.Select((f, i) => f is null ? "" : $"i{i}").ToArray(), Enumerable.Range(0, outputs).Select(i => $"o{i}").ToArray());
        node.Attributes.AddRange(attrs);
        var kernel = OperatorRegistry.Create(node, opset, "test");
        var ctx = new ShapeContext(kernel, inputs, outputs);
        kernel.InferShapes(ctx);
        return ctx;
    }

    private static string Out(ShapeContext ctx, int i = 0) => $"{DataTypes.OnnxName(ctx.Output(i)!.Type)}{Dim.Format(ctx.Output(i)!.Shape!)}";

    [TestMethod]
    public void ShapeInference_SymbolicBatch_ForEveryQuantizationOp()
    {
        var n = Dim.Symbolic("batch");
        Assert.AreEqual("INT8[batch,3,5]", Out(Infer("QuantizeLinear", 13, [Facts(DataType.Float, n, 3, 5), Facts(DataType.Float, 3), Facts(I8, 3)])));
        Assert.AreEqual("UINT8[batch,3,5]", Out(Infer("QuantizeLinear", 10, [Facts(DataType.Float, n, 3, 5), Scalar(DataType.Float)])));
        Assert.AreEqual("FLOAT[batch,3,5]", Out(Infer("DequantizeLinear", 13, [Facts(U8, n, 3, 5), Facts(DataType.Float, 5), Facts(U8, 5)], 1, Int("axis", -1))));
        var dq = Infer("DynamicQuantizeLinear", 11, [Facts(DataType.Float, n, 7)], 3);
        Assert.AreEqual("UINT8[batch,7]", Out(dq));
        Assert.AreEqual("FLOAT[]", Out(dq, 1));
        Assert.AreEqual("UINT8[]", Out(dq, 2));
        Assert.AreEqual("INT32[batch,4,6]", Out(Infer("MatMulInteger", 10, [Facts(U8, n, 4, 5), Facts(I8, 5, 6), null, Facts(I8, 6)])));
        Assert.AreEqual("INT32[batch,4]", Out(Infer("MatMulInteger", 10, [Facts(U8, n, 4, 5), Facts(U8, 5)])));
        Assert.AreEqual("INT8[batch,2,4,6]", Out(Infer("QLinearMatMul", 10,
            [Facts(U8, n, 1, 4, 5), Scalar(DataType.Float), Scalar(U8), Facts(U8, 2, 5, 6), Facts(DataType.Float, 1, 6), Facts(U8, 1, 6), Scalar(DataType.Float), Scalar(I8)])));
        Assert.AreEqual("INT32[batch,6,14,14]", Out(Infer("ConvInteger", 10, [Facts(U8, n, 2, 28, 28), Facts(U8, 6, 2, 5, 5)], 1, Ints("strides", 2, 2), Ints("pads", 2, 2, 1, 1))));
        Assert.AreEqual("UINT8[batch,6,28,28]", Out(Infer("QLinearConv", 10,
            [Facts(U8, n, 1, 28, 28), Scalar(DataType.Float), Scalar(U8), Facts(I8, 6, 1, 5, 5), Facts(DataType.Float, 6), Facts(I8, 6), Scalar(DataType.Float), Scalar(U8), Facts(DataType.Int32, 6)],
            1, NodeAttribute.String("auto_pad", "SAME_UPPER"))));
        // Spatial dims must be known for the window; only the batch may be symbolic.
        Assert.ThrowsExactly<UnresolvedDimException>(() => Infer("ConvInteger", 10, [Facts(U8, n, 2, Dim.Symbolic("h"), 28), Facts(U8, 6, 2, 5, 5)]));
        // Types are checked statically.
        Assert.ThrowsExactly<CompressBuildException>(() => Infer("QLinearMatMul", 10,
            [Facts(U8, 4, 5), Scalar(DataType.Float), Scalar(I8), Facts(U8, 5, 6), Scalar(DataType.Float), Scalar(U8), Scalar(DataType.Float), Scalar(U8)]));
        Assert.ThrowsExactly<CompressBuildException>(() => Infer("QuantizeLinear", 13, [Facts(DataType.Float, n, 3, 5), Facts(DataType.Float, 4)]));
    }
}
