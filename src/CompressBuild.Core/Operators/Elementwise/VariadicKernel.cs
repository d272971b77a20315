using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Base of Max, Min, Sum and Mean: one or more inputs of one type, folded pairwise with numpy
/// broadcasting (opset 8+; opset 6–7 required equal shapes, which broadcasting accepts too; the
/// consumed_inputs attribute of opsets 1–5 is ignored). One input passes through unchanged;
/// float16 and bfloat16 accumulate in float and round once.
/// </summary>
internal abstract class VariadicKernel : ElementwiseKernel
{
    protected VariadicKernel(NodeContext ctx) : base(ctx)
    {
    }

    /// <summary>True when only float types are allowed (Sum, Mean).</summary>
    protected virtual bool FloatOnly => false;

    /// <summary>dst = op(a, b) broadcast to dst's shape (dst may be a).</summary>
    protected abstract void Combine(Tensor a, Tensor b, Tensor dst, int maxDegree);

    /// <summary>Adjusts the folded result in place (Mean divides).</summary>
    protected virtual void Finish(Tensor y, int count, int maxDegree)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var present = Present(ctx.InputCount, ctx.HasInput);
        if (present.Length == 0) throw ctx.Error($"{Node.OpType} needs at least one input");
        var t = ctx.InputType(present[0]);
        foreach (int i in present)
            if (ctx.InputType(i) != t)
                throw ctx.Error($"input {i} is {DataTypes.OnnxName(ctx.InputType(i))}, input {present[0]} is {DataTypes.OnnxName(t)}; they must have the same element type");
        if (FloatOnly ? !DataTypes.IsFloatingPoint(t) : !IsNumeric(t)) throw TypeError(t);
        ctx.SetOutput(0, t, ctx.BroadcastInputs(present));
    }

    public override void Forward(ForwardContext ctx)
    {
        var inputs = Present(ctx.InputCount, ctx.HasInput).Select(ctx.Input).ToArray();
        if (inputs.Length == 1)
        {
            ctx.SetOutput(0, inputs[0]);
            return;
        }
        int threads = ctx.Options.MaxDegreeOfParallelism;
        var y = ctx.Output(0);
        if (y.DataType is DataType.Float16 or DataType.BFloat16)
        {
            // Accumulate in float and round once, rather than after every input.
            var f = Tensor.Allocate(DataType.Float, y.Shape);
            Fold(inputs.Select(t => Tensor.FromArray(ElementConversion.ToFloats(t), t.Shape)).ToArray(), f, threads);
            ElementConversion.StoreFloats(f.Floats, y);
        }
        else Fold(inputs, y, threads);
    }

    private void Fold(Tensor[] inputs, Tensor y, int threads)
    {
        // Into y once the partial result has y's shape; before that into a temporary.
        var acc = inputs[0];
        for (int k = 1; k < inputs.Length; k++)
        {
            var shape = ShapeMath.Broadcast(acc.Shape, inputs[k].Shape)!;
            var dst = ShapeMath.SameShape(shape, y.Shape) ? y : Tensor.Allocate(y.DataType, shape);
            Combine(acc, inputs[k], dst, threads);
            acc = dst;
        }
        Finish(y, inputs.Length, threads);
    }

    public override bool IsDifferentiable => true;

    /// <summary>Present input indices (optional inputs may be empty names).</summary>
    protected static int[] Present(int count, Func<int, bool> has) => Enumerable.Range(0, count).Where(has).ToArray();

    /// <summary>Sets each wanted input's gradient to <paramref name="grad"/> (y's shape) summed to the input's shape.</summary>
    protected void SetReducedGrads(BackwardContext ctx, Tensor grad)
    {
        foreach (int i in Present(Node.Inputs.Count, ctx.HasInput))
        {
            if (!ctx.NeedsInputGrad(i)) continue;
            RequireFloatGradient(ctx.Input(i));
            ctx.SetInputGrad(i, Broadcasting.SumToShape(grad, ctx.Input(i).Shape));
        }
    }

    /// <summary>
    /// Max/Min: the gradient goes to the input that supplied each output element (the first one on
    /// ties), summed over the dimensions that input was broadcast along.
    /// </summary>
    protected void SetSelectedGrads(BackwardContext ctx)
    {
        var y = ctx.Output(0);
        var yv = y.Floats;
        var dy = ctx.OutputGrad(0)!.Floats;
        var taken = new bool[yv.Length];
        foreach (int i in Present(Node.Inputs.Count, ctx.HasInput))
        {
            var x = ctx.Input(i);
            RequireFloatGradient(x);
            var xe = ExpandFloats(x.Floats, x.Shape, y.Shape);
            var g = ctx.NeedsInputGrad(i) ? new float[yv.Length] : null;
            for (int k = 0; k < yv.Length; k++)
            {
                if (taken[k] || xe[k] != yv[k]) continue;
                taken[k] = true;
                if (g is not null) g[k] = dy[k];
            }
            if (g is not null) ctx.SetInputGrad(i, Broadcasting.SumToShape(Tensor.FromArray(g, y.Shape), x.Shape));
        }
    }
}
