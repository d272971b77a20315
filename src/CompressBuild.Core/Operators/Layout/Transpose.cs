using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Transpose: permutes axes, output dim k = input dim perm[k]; without `perm` the axes are reversed.
/// All opsets (1, 13) agree; any element type. A permutation that only moves unit dims is a view.
/// </summary>
[OnnxOperator("Transpose")]
internal sealed class Transpose : OpKernel
{
    private readonly long[]? _perm;

    public Transpose(NodeContext ctx) : base(ctx)
    {
        _perm = ctx.Ints("perm");
    }

    private int[] Perm(int rank, Func<string, Exception> error)
    {
        if (_perm is null)
        {
            var reversed = new int[rank];
            for (int i = 0; i < rank; i++) reversed[i] = rank - 1 - i;
            return reversed;
        }
        if (_perm.Length != rank) throw error($"perm [{string.Join(",", _perm)}] does not have one entry per input axis (rank {rank})");
        var perm = new int[rank];
        var seen = new bool[rank];
        for (int i = 0; i < rank; i++)
        {
            long p = _perm[i];
            if (p < 0 || p >= rank || seen[p]) throw error($"perm [{string.Join(",", _perm)}] is not a permutation of 0..{rank - 1}");
            seen[p] = true;
            perm[i] = (int)p;
        }
        return perm;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        var perm = Perm(x.Length, ctx.Error);
        var shape = new Dim[x.Length];
        for (int i = 0; i < shape.Length; i++) shape[i] = x[perm[i]];
        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        ctx.SetOutput(0, Apply(x, Perm(x.Rank, ShapeError), ctx.Options.MaxDegreeOfParallelism));
    }

    /// <summary>The permuted tensor: a view when only unit dims move, else a new tensor.</summary>
    internal static Tensor Apply(Tensor x, int[] perm, int maxDegree)
    {
        var shape = new int[perm.Length];
        for (int i = 0; i < shape.Length; i++) shape[i] = x.Shape[perm[i]];
        if (KeepsOrder(x.Shape, perm)) return x.Reshape(shape);
        var y = Tensor.Allocate(x.DataType, shape);
        TransposeKernels.Transpose(x.Data, x.Shape, perm, y.Data, maxDegree);
        return y;
    }

    /// <summary>True when the non-unit axes keep their relative order, so the elements do not move.</summary>
    private static bool KeepsOrder(int[] shape, int[] perm)
    {
        int last = -1;
        foreach (int p in perm)
        {
            if (shape[p] == 1) continue;
            if (p < last) return false;
            last = p;
        }
        return true;
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var perm = Perm(ctx.Input(0).Rank, ShapeError);
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        ctx.SetInputGrad(0, Apply(ctx.OutputGrad(0)!, inverse, ctx.Options.MaxDegreeOfParallelism));
    }
}
