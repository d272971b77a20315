using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>
/// Dropout: in inference the output is the input (shared) and the optional mask is all true; in
/// training each element is zeroed with probability `ratio` and the kept ones are scaled by
/// 1/(1-ratio). Opsets 1–6: `is_test` attribute (training only when the run trains and is_test=0);
/// 7–11: `ratio` attribute (default 0.5), mask of the input type before opset 10 and bool after;
/// 12+: optional `ratio` and `training_mode` inputs and a `seed` attribute. Training is on when the
/// run trains or training_mode is true. Masks come from a counter-based generator seeded by the run's
/// seed, the `seed` attribute, the node and the call count: reproducible, different every step, and
/// independent of thread count (numpy's generator is not reproduced). An inference mask marks every
/// element kept, as the ONNX reference does (ONNX Runtime fills it with 0/false before opset 12).
/// </summary>
[OnnxOperator("Dropout")]
internal sealed class Dropout : OpKernel
{
    private readonly bool _isTest;
    private readonly float _ratioAttribute;
    private readonly ulong _nodeSeed;
    private long _calls;

    public Dropout(NodeContext ctx) : base(ctx)
    {
        _isTest = ctx.Opset < 7 && ctx.Int("is_test", 0) != 0;
        _ratioAttribute = ctx.Opset < 12 ? ctx.Float("ratio", 0.5f) : 0.5f;
        // A stable hash of the node's output name, so two Dropout nodes draw different masks.
        ulong h = 14695981039346656037UL;
        foreach (char c in ctx.Node.Outputs.FirstOrDefault() ?? "") h = (h ^ c) * 1099511628211UL;
        _nodeSeed = Mix(h ^ (ulong)(ctx.Opset >= 12 ? ctx.Int("seed", 0) : 0));
    }

    private DataType MaskType(DataType input) => Opset >= 10 ? DataType.Bool : input;

    public override void InferShapes(ShapeContext ctx)
    {
        var type = ctx.InputType(0);
        if (!DataTypes.IsFloatingPoint(type)) throw TypeError(type);
        var shape = ctx.InputShape(0);
        ctx.SetOutput(0, type, shape);
        if (ctx.HasOutput(1)) ctx.SetOutput(1, MaskType(type), shape);
    }

    private sealed record Mask(bool[] Keep, float Scale);

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        bool training = Opset < 7 ? ctx.Training && !_isTest
            : Opset < 12 ? ctx.Training
            : ctx.Training || (ctx.OptionalInput(2) is { } mode && mode.GetDouble(0) != 0);
        float ratio = Opset >= 12 && ctx.OptionalInput(1) is { } r ? (float)r.GetDouble(0) : _ratioAttribute;
        if (training && !(ratio >= 0f && ratio < 1f)) throw ShapeError($"ratio {ratio} must be in [0, 1)");
        if (!training || ratio == 0f)
        {
            ctx.SetOutput(0, x);
            if (ctx.HasOutput(1)) ctx.SetOutput(1, MaskTensor(null, x));
            return;
        }

        var keep = new bool[x.Length];
        float keepProbability = 1f - ratio;
        ulong seed = Mix(_nodeSeed ^ Mix((ulong)ctx.Options.Seed) ^ Mix((ulong)Interlocked.Increment(ref _calls) << 1));
        Parallelism.For(keep.Length, ctx.Options.MaxDegreeOfParallelism, 8, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                keep[i] = (Mix(seed + (ulong)i * 0x9E3779B97F4A7C15UL) >> 40) * (1f / (1 << 24)) < keepProbability;
        });
        float scale = 1f / keepProbability;
        var y = ctx.Output(0);
        ApplyMask(x, keep, scale, y);
        if (ctx.HasOutput(1)) ctx.SetOutput(1, MaskTensor(keep, x));
        if (ctx.Recording) ctx.Saved = new Mask(keep, scale);
    }

    /// <summary>The mask output: bool (opset 10+) or the input type (1 = kept); null keep = all kept.</summary>
    private Tensor MaskTensor(bool[]? keep, Tensor x)
    {
        var type = MaskType(x.DataType);
        if (type == DataType.Bool)
        {
            if (keep is null)
            {
                keep = new bool[x.Length];
                Array.Fill(keep, true);
            }
            return Tensor.FromArray(keep, x.Shape);
        }
        var ones = Tensor.Allocate(x.DataType, x.Shape);
        for (int i = 0; i < ones.Length; i++)
        {
            bool k = keep?[i] ?? true;
            switch (ones.Data)
            {
                case float[] f: f[i] = k ? 1f : 0f; break;
                case double[] d: d[i] = k ? 1d : 0d; break;
                case Half[] h: h[i] = k ? Half.One : Half.Zero; break;
                case BFloat16[] b: b[i] = (BFloat16)(k ? 1f : 0f); break;
            }
        }
        return ones;
    }

    private void ApplyMask(Tensor x, bool[] keep, float scale, Tensor y)
    {
        switch (x.Data)
        {
            case float[] xf:
                var yf = y.Floats;
                for (int i = 0; i < keep.Length; i++) yf[i] = keep[i] ? xf[i] * scale : 0f;
                break;
            case double[] xd:
                var yd = y.ArrayOf<double>();
                for (int i = 0; i < keep.Length; i++) yd[i] = keep[i] ? xd[i] * scale : 0d;
                break;
            case Half[] xh:
                var yh = y.ArrayOf<Half>();
                for (int i = 0; i < keep.Length; i++) yh[i] = keep[i] ? (Half)((float)xh[i] * scale) : Half.Zero;
                break;
            case BFloat16[] xb:
                var yb = y.ArrayOf<BFloat16>();
                for (int i = 0; i < keep.Length; i++) yb[i] = (BFloat16)(keep[i] ? (float)xb[i] * scale : 0f);
                break;
            default:
                throw TypeError(x.DataType);
        }
    }

    /// <summary>SplitMix64's finalizer: a well-mixed 64-bit hash of <paramref name="z"/>.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx)
    {
        var dy = ctx.OutputGrad(0)!;
        if (ctx.Saved is not Mask mask)
        {
            ctx.SetInputGrad(0, dy);
            return;
        }
        var dx = Tensor.Allocate(DataType.Float, dy.Shape);
        var g = dx.Floats;
        var d = dy.Floats;
        for (int i = 0; i < g.Length; i++) g[i] = mask.Keep[i] ? d[i] * mask.Scale : 0f;
        ctx.SetInputGrad(0, dx);
    }
}
