using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// QGemm (ONNX Runtime contrib operator, domain com.microsoft): Gemm of quantized 8-bit A and B,
/// y = requantize(alpha · a_scale · b_scale[j] / y_scale · (C + (op(A) - a_zero_point) · (op(B) -
/// b_zero_point[j]))) with the multiplier computed in float32 in that order and the result rounded
/// half to even, as ONNX Runtime does. A's parameters are per tensor, B's per tensor or per column
/// (N-vectors); C is an optional int32 bias in accumulator units, broadcast to [M, N]. Without
/// y_zero_point, y is float: the scaled accumulator (still divided by y_scale if that is given, as
/// in ONNX Runtime). Only the engine's passes create it (the loader
/// refuses contrib domains in user models); it is what a QDQ Gemm or MatMul becomes.
/// </summary>
[OnnxOperator("QGemm", Domain = Domain)]
internal sealed class QGemm : OpKernel
{
    /// <summary>The operator's domain.</summary>
    public const string Domain = "com.microsoft";

    private readonly float _alpha;
    private readonly bool _transA;
    private readonly bool _transB;

    public QGemm(NodeContext ctx) : base(ctx)
    {
        _alpha = ctx.Float("alpha", 1f);
        _transA = ctx.Int("transA", 0) != 0;
        _transB = ctx.Int("transB", 0) != 0;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        Quantized.RequireEightBit(this, ctx.InputType(0), "A element type");
        Quantized.RequireEightBit(this, ctx.InputType(3), "B element type");
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(3);
        if (a.Length != 2 || b.Length != 2) throw ctx.Error($"A and B must be 2-D, got {Dim.Format(a)} and {Dim.Format(b)}");
        Dim m = _transA ? a[1] : a[0], ka = _transA ? a[0] : a[1];
        Dim kb = _transB ? b[1] : b[0], n = _transB ? b[0] : b[1];
        if (ka != kb && ka.IsKnown == kb.IsKnown) throw ctx.Error($"inner dimensions differ: op(A) is [{m},{ka}], op(B) is [{kb},{n}]");
        foreach (var (i, name) in new[] { (1, "a_scale"), (4, "b_scale"), (7, "y_scale") }) Quantized.RequireFloatScale(ctx, this, i, name + " type");
        Quantized.RequireSameType(ctx, this, 2, 0, "a_zero_point");
        Quantized.RequireSameType(ctx, this, 5, 3, "b_zero_point");
        Quantized.RequireSingle(ctx, 1, "a_scale");
        Quantized.RequireSingle(ctx, 2, "a_zero_point");
        Quantized.RequireSingle(ctx, 7, "y_scale");
        Quantized.RequireSingle(ctx, 8, "y_zero_point");
        if (ctx.HasInput(6) && ctx.InputType(6) != DataType.Int32) throw TypeError(ctx.InputType(6), "C element type");
        if (!ctx.HasInput(8))
        {
            ctx.SetOutput(0, DataType.Float, [m, n]);
            return;
        }
        var type = ctx.InputType(8);
        Quantized.RequireEightBit(this, type, "y_zero_point type");
        ctx.SetOutput(0, type, [m, n]);
    }

    public override void Forward(ForwardContext ctx)
    {
        var a = _transA ? Transpose(ctx.Input(0)) : ctx.Input(0);
        var b = _transB ? Transpose(ctx.Input(3)) : ctx.Input(3);
        var p = IntegerMatMul.Plan(this, a.Shape, b.Shape);
        int m = p.M, n = p.N, threads = ctx.Options.MaxDegreeOfParallelism;
        float aScale = Quantized.SingleScale(this, ctx.Input(1), "a_scale");
        int aZero = Quantized.SingleZeroPoint(this, ctx.OptionalInput(2), "a_zero_point");
        var bScale = ctx.Input(4);
        var bScales = p.ColumnParams(this, bScale.Floats, bScale.Shape, "b_scale");
        var bZero = ctx.OptionalInput(5) is { } z ? p.ColumnParams(this, Quantized.ZeroPoints(this, z, z.Length, "b_zero_point"), z.Shape, "b_zero_point") : [0];
        var acc = new int[m * n];
        p.Multiply(a, [aZero], b, bZero, acc, threads);
        if (ctx.OptionalInput(6) is { } c) AddBias(c, acc, m, n);

        // ONNX Runtime's output scale: (alpha · a_scale) · b_scale[j], then / y_scale.
        float? yScale = ctx.OptionalInput(7) is { } ys ? Quantized.SingleScale(this, ys, "y_scale") : null;
        var multipliers = new float[bScales.Length];
        for (int j = 0; j < multipliers.Length; j++)
        {
            multipliers[j] = _alpha * aScale * bScales[j];
            if (yScale is { } divisor) multipliers[j] /= divisor;
        }
        var y = ctx.Output(0);
        if (y.DataType == DataType.Float)
        {
            var yf = y.Floats;
            for (int i = 0; i < acc.Length; i++) yf[i] = acc[i] * multipliers[multipliers.Length == 1 ? 0 : i % n];
            return;
        }
        int yZero = Quantized.SingleZeroPoint(this, ctx.Input(8), "y_zero_point");
        Parallelism.For(m, threads, 8L * n, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) Quantized.Requantize(acc.AsSpan(r * n, n), multipliers, yZero, y, r * n);
        });
    }

    // acc += C broadcast unidirectionally to [M, N] (C: [], [N], [1, N], [M, 1], [M, N]).
    private void AddBias(Tensor c, int[] acc, int m, int n)
    {
        var cs = c.ArrayOf<int>();
        int cm = c.Rank == 2 ? c.Shape[0] : 1;
        int cn = c.Rank >= 1 ? c.Shape[^1] : 1;
        if (c.Rank > 2 || (cm != 1 && cm != m) || (cn != 1 && cn != n))
            throw ShapeError($"C of shape [{ShapeMath.Format(c.Shape)}] cannot be broadcast to [{m},{n}]");
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                acc[i * n + j] = unchecked(acc[i * n + j] + cs[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)]);
    }

    // op(X) for an 8-bit matrix: the integer product reads its operands untransposed.
    private static Tensor Transpose(Tensor x) => x.DataType == DataType.UInt8 ? Transpose<byte>(x) : Transpose<sbyte>(x);

    private static Tensor Transpose<T>(Tensor x)
    {
        int rows = x.Shape[0], cols = x.Shape[1];
        var src = x.ArrayOf<T>();
        var dst = new T[src.Length];
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cols; k++) dst[k * rows + r] = src[r * cols + k];
        return Tensor.FromArray(dst, cols, rows);
    }
}
