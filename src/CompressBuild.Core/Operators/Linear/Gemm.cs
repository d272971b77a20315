using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Linear;

/// <summary>
/// Gemm: Y = alpha * op(A) * op(B) + beta * C, with C unidirectionally broadcast to [M, N].
/// Opset 1–6: C required, `broadcast` attribute; 7–10: C required, always broadcast; 11+: C optional.
/// </summary>
[OnnxOperator("Gemm")]
internal sealed class Gemm : OpKernel
{
    private readonly float _alpha;
    private readonly float _beta;
    private readonly bool _transA;
    private readonly bool _transB;

    public Gemm(NodeContext ctx) : base(ctx)
    {
        _alpha = ctx.Float("alpha", 1f);
        _beta = ctx.Float("beta", 1f);
        _transA = ctx.Int("transA", 0) != 0;
        _transB = ctx.Int("transB", 0) != 0;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        if (a.Length != 2 || b.Length != 2) throw ctx.Error($"A and B must be 2-D, got {Dim.Format(a)} and {Dim.Format(b)}");
        Dim m = _transA ? a[1] : a[0];
        Dim ka = _transA ? a[0] : a[1];
        Dim kb = _transB ? b[1] : b[0];
        Dim n = _transB ? b[0] : b[1];
        if (ka != kb) throw ctx.Error($"inner dimensions differ: op(A) is [{m},{ka}], op(B) is [{kb},{n}]");
        if (ctx.InputType(0) != DataType.Float) throw TypeError(ctx.InputType(0));
        ctx.SetOutput(0, DataType.Float, new[] { m, n });
    }

    public override void Forward(ForwardContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        var c = ctx.OptionalInput(2);
        var y = ctx.Output(0);
        int m = y.Shape[0], n = y.Shape[1];
        int k = _transA ? a.Shape[0] : a.Shape[1];
        float beta = 0f;
        if (c is not null && _beta != 0f)
        {
            BroadcastBias(c, y.Floats, m, n);
            beta = _beta;
        }
        Sgemm.Multiply(_transA, _transB, m, n, k, _alpha, a.Floats, a.Shape[1], b.Floats, b.Shape[1], beta, y.Floats, n, ctx.Options.MaxDegreeOfParallelism);
    }

    private void BroadcastBias(Tensor c, Span<float> y, int m, int n)
    {
        var cs = c.Floats;
        int r = c.Rank;
        int cm = r == 2 ? c.Shape[0] : 1;
        int cn = r >= 1 ? c.Shape[r - 1] : 1;
        if ((cm != 1 && cm != m) || (cn != 1 && cn != n) || r > 2)
            throw ShapeError($"C of shape [{ShapeMath.Format(c.Shape)}] cannot be broadcast to [{m},{n}]");
        for (int i = 0; i < m; i++)
        {
            var row = y.Slice(i * n, n);
            int ci = cm == 1 ? 0 : i;
            if (cn == 1) row.Fill(cs[ci * cn]);
            else cs.AsSpan(ci * n, n).CopyTo(row);
        }
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        var dy = ctx.OutputGrad(0)!;
        int m = dy.Shape[0], n = dy.Shape[1];
        int k = _transA ? a.Shape[0] : a.Shape[1];
        int threads = ctx.Options.MaxDegreeOfParallelism;
        if (ctx.NeedsInputGrad(0))
        {
            // dop(A) = alpha * dY * op(B)ᵀ; if transA, dA = dop(A)ᵀ = alpha * op(B) * dYᵀ.
            var da = Tensor.Allocate(DataType.Float, a.Shape);
            if (!_transA)
                Sgemm.Multiply(false, !_transB, m, k, n, _alpha, dy.Floats, n, b.Floats, b.Shape[1], 0f, da.Floats, k, threads);
            else
                Sgemm.Multiply(_transB, true, k, m, n, _alpha, b.Floats, b.Shape[1], dy.Floats, n, 0f, da.Floats, m, threads);
            ctx.SetInputGrad(0, da);
        }
        if (ctx.NeedsInputGrad(1))
        {
            // dop(B) = alpha * op(A)ᵀ * dY; if transB, dB = alpha * dYᵀ * op(A).
            var db = Tensor.Allocate(DataType.Float, b.Shape);
            if (!_transB)
                Sgemm.Multiply(!_transA, false, k, n, m, _alpha, a.Floats, a.Shape[1], dy.Floats, n, 0f, db.Floats, n, threads);
            else
                Sgemm.Multiply(true, _transA, n, k, m, _alpha, dy.Floats, n, a.Floats, a.Shape[1], 0f, db.Floats, k, threads);
            ctx.SetInputGrad(1, db);
        }
        if (ctx.HasInput(2) && ctx.NeedsInputGrad(2))
        {
            var c = ctx.Input(2);
            var dc = Tensor.Zeros(DataType.Float, c.Shape);
            int r = c.Rank;
            int cm = r == 2 ? c.Shape[0] : 1;
            int cn = r >= 1 ? c.Shape[r - 1] : 1;
            var dcs = dc.Floats;
            var dys = dy.Floats;
            for (int i = 0; i < m; i++)
            {
                var row = dys.AsSpan(i * n, n);
                int ci = cm == 1 ? 0 : i;
                if (cn == 1) dcs[ci] += TensorPrimitives.Sum(row);
                else TensorPrimitives.Add(dcs.AsSpan(ci * n, n), row, dcs.AsSpan(ci * n, n));
            }
            if (_beta != 1f) TensorPrimitives.Multiply(dcs, _beta, dcs);
            ctx.SetInputGrad(2, dc);
        }
    }

    public override bool IsDifferentiableInput(int index) => true;
}
