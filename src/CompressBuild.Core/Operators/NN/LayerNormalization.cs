using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// LayerNormalization (opset 17+): each row of X flattened to [∏ dims[..axis], ∏ dims[axis..]] is
/// normalised, y = (x − μ)·InvStdDev·Scale + B with InvStdDev = 1/√(mean((x − μ)²) + epsilon).
/// axis defaults to -1 (negative counts from the end); Scale and the optional B broadcast to
/// dims[axis..]; the optional Mean and InvStdDev outputs have X's leading dims and ones for the
/// normalised ones. Float only, with stash_type 1 (float statistics).
/// </summary>
[OnnxOperator("LayerNormalization", MinOpset = 17)]
internal sealed class LayerNormalization : OpKernel
{
    private readonly long _axis;
    private readonly float _epsilon;

    public LayerNormalization(NodeContext ctx) : base(ctx)
    {
        _axis = ctx.Int("axis", -1);
        _epsilon = ctx.Float("epsilon", 1e-5f);
        long stash = ctx.Int("stash_type", 1);
        if (stash != (long)DataType.Float)
            throw ctx.Invalid($"stash_type {stash} is not supported; CompressBuild computes LayerNormalization statistics in float (stash_type 1).");
    }

    private sealed record State(float[] Mean, float[] InvStd);

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        int axis = ctx.Axis(_axis, x.Length);
        for (int i = 0; i < 3; i++)
            if (ctx.HasInput(i) && ctx.InputType(i) != DataType.Float) throw TypeError(ctx.InputType(i), $"input {i}");
        var normalized = x[axis..];
        for (int i = 1; i < 3; i++)
        {
            if (!ctx.HasInput(i)) continue;
            // Scale and B broadcast to the normalised dims only, never across rows.
            var p = ctx.InputShape(i);
            if (p.Length > normalized.Length || !ctx.Broadcast(normalized, p).AsSpan().SequenceEqual(normalized))
                throw ctx.Error($"input {i} of shape {Dim.Format(p)} does not broadcast to the normalised dims {Dim.Format(normalized)}");
        }
        ctx.SetOutput(0, DataType.Float, x);
        var stats = new Dim[x.Length];
        for (int d = 0; d < x.Length; d++) stats[d] = d < axis ? x[d] : 1;
        for (int i = 1; i < 3; i++)
            if (ctx.HasOutput(i)) ctx.SetOutput(i, DataType.Float, stats);
    }

    public override void Forward(ForwardContext ctx)
    {
        var xt = ctx.Input(0);
        var x = xt.Floats;
        var (rows, n) = Layout(xt.Shape);
        var scale = Expanded(ctx.Input(1), xt.Shape);
        var bias = ctx.HasInput(2) ? Expanded(ctx.Input(2), xt.Shape) : null;
        var y = ctx.Output(0).Floats;
        var mean = new float[rows];
        var invStd = new float[rows];
        Parallelism.For(rows, ctx.Options.MaxDegreeOfParallelism, (long)n * 5, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var xr = x.AsSpan(r * n, n);
                var yr = y.AsSpan(r * n, n);
                float mu = TensorPrimitives.Sum(xr) / n;
                TensorPrimitives.Subtract(xr, mu, yr);
                float istd = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(yr) / n + _epsilon);
                mean[r] = mu;
                invStd[r] = istd;
                TensorPrimitives.Multiply(yr, istd, yr);
                if (bias is null) TensorPrimitives.Multiply(yr, scale, yr);
                else TensorPrimitives.MultiplyAdd(yr, scale, bias, yr);
            }
        });
        if (ctx.HasOutput(1)) mean.CopyTo(ctx.Output(1).Floats, 0);
        if (ctx.HasOutput(2)) invStd.CopyTo(ctx.Output(2).Floats, 0);
        if (ctx.Recording) ctx.Saved = new State(mean, invStd);
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var xt = ctx.Input(0);
        var x = xt.Floats;
        var (rows, n) = Layout(xt.Shape);
        var s = (State)ctx.Saved!;
        var scale = Expanded(ctx.Input(1), xt.Shape);
        var dy = ctx.OutputGradOrZeros(0).Floats;
        var gMean = ctx.OutputGrad(1)?.Floats;
        var gInvStd = ctx.OutputGrad(2)?.Floats;
        var dx = ctx.NeedsInputGrad(0) ? Tensor.Allocate(DataType.Float, xt.Shape) : null;
        var dScale = new float[n];
        var dBias = new float[n];
        var sync = new object();
        Parallelism.For(rows, ctx.Options.MaxDegreeOfParallelism, (long)n * 8, (start, end) =>
        {
            var xhat = new float[n];
            var g = new float[n];
            var partScale = new float[n];
            var partBias = new float[n];
            for (int r = start; r < end; r++)
            {
                var xr = x.AsSpan(r * n, n);
                var dyr = dy.AsSpan(r * n, n);
                float mu = s.Mean[r], istd = s.InvStd[r];
                TensorPrimitives.Subtract(xr, mu, xhat);
                TensorPrimitives.Multiply(xhat, istd, xhat);
                TensorPrimitives.MultiplyAdd(dyr, xhat, partScale, partScale);
                TensorPrimitives.Add(partBias, dyr, partBias);
                if (dx is null) continue;
                // dx = istd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = dy·scale, plus what reaches the
                // Mean (1/n each) and InvStdDev (−istd²·x̂/n) outputs.
                TensorPrimitives.Multiply(dyr, scale, g);
                float meanG = TensorPrimitives.Sum(g) / n;
                float meanGx = TensorPrimitives.Dot(g, xhat) / n;
                float gm = gMean is null ? 0f : gMean[r];
                float gs = gInvStd is null ? 0f : gInvStd[r];
                var dxr = dx.Floats.AsSpan(r * n, n);
                TensorPrimitives.Multiply(g, istd, dxr);
                TensorPrimitives.MultiplyAdd(xhat, -istd * meanGx - gs * istd * istd / n, dxr, dxr);
                TensorPrimitives.Add(dxr, -istd * meanG + gm / n, dxr);
            }
            lock (sync)
            {
                TensorPrimitives.Add(dScale, partScale, dScale);
                TensorPrimitives.Add(dBias, partBias, dBias);
            }
        });
        if (dx is not null) ctx.SetInputGrad(0, dx);
        var normalized = xt.Shape[Axis(xt.Rank)..];
        if (ctx.NeedsInputGrad(1))
            ctx.SetInputGrad(1, Broadcasting.SumToShape(Tensor.FromArray(dScale, normalized), ctx.Input(1).Shape));
        if (ctx.HasInput(2) && ctx.NeedsInputGrad(2))
            ctx.SetInputGrad(2, Broadcasting.SumToShape(Tensor.FromArray(dBias, normalized), ctx.Input(2).Shape));
    }

    private int Axis(int rank) => (int)(_axis < 0 ? _axis + rank : _axis);

    private (int Rows, int N) Layout(int[] shape)
    {
        int axis = Axis(shape.Length);
        return (ShapeMath.Product(shape, 0, axis), ShapeMath.Product(shape, axis, shape.Length));
    }

    // A parameter broadcast to the normalised dims (no copy when it already has them all).
    private float[] Expanded(Tensor p, int[] xShape)
    {
        var normalized = xShape[Axis(xShape.Length)..];
        if (p.Rank > normalized.Length || ShapeMath.Broadcast(normalized, p.Shape) is not { } b || !b.AsSpan().SequenceEqual(normalized))
            throw ShapeError($"a parameter of shape [{ShapeMath.Format(p.Shape)}] does not broadcast to [{ShapeMath.Format(normalized)}]");
        if (p.Length == ShapeMath.ElementCount(normalized)) return p.Floats;
        var r = new float[ShapeMath.ElementCount(normalized)];
        Broadcasting.Expand<float>(p.Floats, p.Shape, r, normalized);
        return r;
    }
}
