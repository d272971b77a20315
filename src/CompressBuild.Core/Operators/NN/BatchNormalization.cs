using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// BatchNormalization: y = scale·(x − μ)/√(σ² + epsilon) + B per channel (axis 1 of [N,C,D…]; a 1-D
/// input is N samples of one channel). Inference uses μ = input_mean, σ² = input_var; training
/// uses the batch's mean and biased variance and outputs running statistics
/// input·momentum + batch·(1 − momentum). Training statistics are used when
/// <see cref="RunOptions.Training"/> is set or the node asks for them: opsets 1/6 is_test = 0;
/// 7–13 more outputs than Y (mean, var, saved_mean, saved_var: the batch mean and, as in ONNX
/// Runtime, the inverse standard deviation 1/√(σ² + epsilon));
/// 14+ training_mode = 1 (outputs running_mean, running_var). spatial = 0 (opsets ≤ 7) keeps
/// statistics per activation, with parameters shaped [C, D…]. Opset 15's mixed parameter types are
/// not supported (float only).
/// </summary>
[OnnxOperator("BatchNormalization")]
internal sealed class BatchNormalization : OpKernel
{
    private readonly float _epsilon;
    private readonly float _momentum;
    private readonly bool _batchStatistics;
    private readonly bool _spatial;

    public BatchNormalization(NodeContext ctx) : base(ctx)
    {
        _epsilon = ctx.Float("epsilon", 1e-5f);
        _momentum = ctx.Float("momentum", 0.9f);
        _spatial = ctx.Opset >= 9 || ctx.Int("spatial", 1) != 0;
        bool moreOutputs = Node.Outputs.Skip(1).Any(o => o.Length > 0);
        if (ctx.Opset < 7)
            _batchStatistics = ctx.Int("is_test", 0) == 0;
        else if (ctx.Opset < 14)
            _batchStatistics = moreOutputs;
        else
        {
            _batchStatistics = ctx.Int("training_mode", 0) != 0;
            if (!_batchStatistics && moreOutputs)
                throw ctx.Invalid("outputs running_mean and running_var exist only with training_mode=1. Re-export the model.");
        }
    }

    /// <summary>
    /// The per-channel statistics a forward pass normalised with, kept in the forward record for
    /// backward. With <see cref="BatchStatistics"/> they are the batch's, which a trainer blends into
    /// the model's running mean/var initializers (with <see cref="Momentum"/>) when the graph itself
    /// does not output running statistics.
    /// </summary>
    internal sealed record Statistics(float[] Mean, float[] Variance, float[] InvStd, bool BatchStatistics);

    /// <summary>Weight of the old running statistics in the update (ONNX momentum).</summary>
    public float Momentum => _momentum;

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        if (x.Length == 0) throw ctx.Error("X must have rank 1 or more");
        for (int i = 0; i < 5; i++)
            if (ctx.InputType(i) != DataType.Float) throw TypeError(ctx.InputType(i), $"input {i}");
        Dim channels = x.Length == 1 ? 1 : _spatial ? x[1] : Dim.Product(x.AsSpan(1));
        for (int i = 1; i < 5; i++)
        {
            var p = ctx.InputShape(i);
            Dim size = Dim.Product(p);
            if (size.IsKnown && channels.IsKnown && size != channels)
                throw ctx.Error($"input {i} has shape {Dim.Format(p)}, X {Dim.Format(x)} has {channels} channels");
        }
        ctx.SetOutput(0, DataType.Float, x);
        for (int i = 1; i < ctx.OutputCount; i++)
            if (ctx.HasOutput(i)) ctx.SetOutput(i, DataType.Float, ctx.InputShape(i % 2 == 1 ? 3 : 4)); // mean-like, var-like
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0).Floats;
        var (n, c, inner) = Layout(ctx.Input(0).Shape);
        var scale = Parameter(ctx.Input(1), c);
        var bias = Parameter(ctx.Input(2), c);
        var inputMean = Parameter(ctx.Input(3), c);
        var inputVar = Parameter(ctx.Input(4), c);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        bool batch = _batchStatistics || ctx.Training;

        float[] mean = inputMean, variance = inputVar;
        if (batch)
        {
            int count = n * inner;
            mean = new float[c];
            variance = new float[c];
            if (count == 0) throw ShapeError("training statistics need at least one element per channel");
            ChannelSums(x, null, null, n, c, inner, mean, threads);
            TensorPrimitives.Multiply(mean, 1f / count, mean);
            ChannelSums(x, x, mean, n, c, inner, variance, threads);
            TensorPrimitives.Multiply(variance, 1f / count, variance);
        }
        var invStd = new float[c];
        TensorPrimitives.Add(variance, _epsilon, invStd);
        TensorPrimitives.ReciprocalSqrt(invStd, invStd);

        // y = a·x + b with a = scale/σ, b = B − μ·a.
        var a = new float[c];
        var b = new float[c];
        TensorPrimitives.Multiply(scale, invStd, a);
        TensorPrimitives.Multiply(mean, a, b);
        TensorPrimitives.Subtract(bias, b, b);
        ChannelAffine(ctx.Output(0).Floats, x, a, null, null, b, n, c, inner, threads);

        // Running statistics blend the inputs with the batch; outside training mode they pass through.
        if (ctx.HasOutput(1)) Write(1, batch ? Blend(inputMean, mean) : inputMean);
        if (ctx.HasOutput(2)) Write(2, batch ? Blend(inputVar, variance) : inputVar);
        if (Opset < 14 && ctx.HasOutput(3)) Write(3, mean);
        if (Opset < 14 && ctx.HasOutput(4)) Write(4, invStd);
        if (ctx.Recording) ctx.Saved = new Statistics(mean, variance, invStd, batch);

        void Write(int output, float[] values) => values.CopyTo(ctx.Output(output).Floats, 0);
    }

    private float[] Blend(float[] running, float[] current)
    {
        var r = new float[running.Length];
        TensorPrimitives.Multiply(current, 1f - _momentum, r);
        TensorPrimitives.MultiplyAdd(running, _momentum, r, r);
        return r;
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var xt = ctx.Input(0);
        var x = xt.Floats;
        var (n, c, inner) = Layout(xt.Shape);
        var s = (Statistics)ctx.Saved!;
        var scale = Parameter(ctx.Input(1), c);
        var dy = ctx.OutputGradOrZeros(0).Floats;
        int threads = ctx.Options.MaxDegreeOfParallelism;
        int count = n * inner;

        // Gradients reaching the statistics outputs. Running statistics are momentum·input +
        // (1 − momentum)·used in training mode and the inputs themselves otherwise; saved_mean and
        // saved_var = 1/√(σ² + ε) (opsets < 14) come from the statistics used. gMean/gVar collect what
        // reaches the used ones.
        var gMean = new float[c];
        var gVar = new float[c];
        var dInputMean = new float[c];
        var dInputVar = new float[c];
        float direct = s.BatchStatistics ? _momentum : 0f;
        AddGrad(ctx.OutputGrad(1), dInputMean, direct);
        AddGrad(ctx.OutputGrad(1), gMean, 1f - direct);
        AddGrad(ctx.OutputGrad(2), dInputVar, direct);
        AddGrad(ctx.OutputGrad(2), gVar, 1f - direct);
        if (Opset < 14)
        {
            AddGrad(ctx.OutputGrad(3), gMean, 1f);
            if (ctx.OutputGrad(4) is { } gSaved)
                for (int ch = 0; ch < c; ch++) gVar[ch] -= 0.5f * gSaved.Floats[ch] * s.InvStd[ch] * s.InvStd[ch] * s.InvStd[ch];
        }

        // Per channel: Σ dy and Σ dy·(x − μ).
        var sumDy = new float[c];
        var sumDyXc = new float[c];
        ChannelSums(dy, null, null, n, c, inner, sumDy, threads);
        ChannelSums(dy, x, s.Mean, n, c, inner, sumDyXc, threads);

        // dx = ka·dy + kx·x + k0 per channel (kx·(x − μ) with the μ part folded into k0).
        var ka = new float[c];
        var kx = new float[c];
        var k0 = new float[c];
        var dScale = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            float istd = s.InvStd[ch];
            float sumDyXhat = sumDyXc[ch] * istd;
            dScale[ch] = sumDyXhat;
            ka[ch] = scale[ch] * istd;
            if (s.BatchStatistics)
            {
                // Through the batch mean and variance (including what the statistics outputs receive).
                kx[ch] = (-scale[ch] * istd * istd * sumDyXhat + 2f * gVar[ch]) / count;
                k0[ch] = (-ka[ch] * sumDy[ch] + gMean[ch]) / count - kx[ch] * s.Mean[ch];
            }
            else
            {
                k0[ch] = 0f;
                dInputMean[ch] += gMean[ch] - ka[ch] * sumDy[ch];
                dInputVar[ch] += gVar[ch] - 0.5f * scale[ch] * istd * istd * sumDyXhat;
            }
        }
        if (ctx.NeedsInputGrad(0))
        {
            var dx = Tensor.Allocate(DataType.Float, xt.Shape);
            ChannelAffine(dx.Floats, dy, ka, s.BatchStatistics ? x : null, kx, k0, n, c, inner, threads);
            ctx.SetInputGrad(0, dx);
        }
        SetParameterGrad(ctx, 1, dScale);
        SetParameterGrad(ctx, 2, sumDy);
        SetParameterGrad(ctx, 3, dInputMean);
        SetParameterGrad(ctx, 4, dInputVar);

        static void AddGrad(Tensor? g, float[] into, float factor)
        {
            if (g is not null && factor != 0f) TensorPrimitives.MultiplyAdd(g.Floats, factor, into, into);
        }
    }

    private static void SetParameterGrad(BackwardContext ctx, int i, float[] grad) =>
        ctx.SetInputGrad(i, Tensor.FromArray(grad, ctx.Input(i).Shape));

    // [N, C, inner]: spatial statistics per channel; spatial=0 per activation; 1-D input N×1.
    private (int N, int C, int Inner) Layout(int[] shape)
    {
        if (shape.Length == 1) return (shape[0], 1, 1);
        if (!_spatial) return (shape[0], ShapeMath.Product(shape, 1, shape.Length), 1);
        return (shape[0], shape[1], ShapeMath.Product(shape, 2, shape.Length));
    }

    private float[] Parameter(Tensor t, int channels) =>
        t.Length == channels ? t.Floats : throw ShapeError($"a parameter of shape [{ShapeMath.Format(t.Shape)}] does not match {channels} channels");

    /// <summary>
    /// result[ch] = Σ over samples and positions of v, or of v·(x − centre[ch]) when
    /// <paramref name="x"/> is given.
    /// </summary>
    private static void ChannelSums(float[] v, float[]? x, float[]? centre, int n, int c, int inner, float[] result, int threads)
    {
        Parallelism.For(c, threads, (long)n * inner, (c0, c1) =>
        {
            if (inner == 1)
            {
                // [N, C]: accumulate whole sample vectors over the channel slice.
                int w = c1 - c0;
                var acc = result.AsSpan(c0, w);
                acc.Clear();
                var tmp = x is null ? null : new float[w];
                for (int i = 0; i < n; i++)
                {
                    var vi = v.AsSpan(i * c + c0, w);
                    if (x is null) TensorPrimitives.Add(acc, vi, acc);
                    else
                    {
                        TensorPrimitives.Subtract(x.AsSpan(i * c + c0, w), centre.AsSpan(c0, w), tmp);
                        TensorPrimitives.MultiplyAdd(vi, tmp, acc, acc);
                    }
                }
                return;
            }
            var t = x is null ? null : new float[inner];
            for (int ch = c0; ch < c1; ch++)
            {
                double sum = 0;
                for (int i = 0; i < n; i++)
                {
                    int at = (i * c + ch) * inner;
                    var row = v.AsSpan(at, inner);
                    if (x is null) sum += TensorPrimitives.Sum(row);
                    else
                    {
                        TensorPrimitives.Subtract(x.AsSpan(at, inner), centre![ch], t);
                        sum += TensorPrimitives.Dot(row, t);
                    }
                }
                result[ch] = (float)sum;
            }
        });
    }

    /// <summary>y = ku[ch]·u + kx[ch]·x + k0[ch] (the x term only when x is given).</summary>
    private static void ChannelAffine(float[] y, float[] u, float[] ku, float[]? x, float[]? kx, float[] k0, int n, int c, int inner, int threads)
    {
        if (inner == 1)
        {
            Parallelism.For(n, threads, c * 2, (s, e) =>
            {
                for (int i = s; i < e; i++)
                {
                    var yi = y.AsSpan(i * c, c);
                    TensorPrimitives.MultiplyAdd(u.AsSpan(i * c, c), ku, k0, yi);
                    if (x is not null) TensorPrimitives.MultiplyAdd(x.AsSpan(i * c, c), kx!, yi, yi);
                }
            });
            return;
        }
        Parallelism.For(n * c, threads, inner * 2, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                int ch = r % c;
                var yr = y.AsSpan(r * inner, inner);
                TensorPrimitives.Multiply(u.AsSpan(r * inner, inner), ku[ch], yr);
                TensorPrimitives.Add(yr, k0[ch], yr);
                if (x is not null) TensorPrimitives.MultiplyAdd(x.AsSpan(r * inner, inner), kx![ch], yr, yr);
            }
        });
    }
}
