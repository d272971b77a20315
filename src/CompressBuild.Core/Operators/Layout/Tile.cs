using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Tile: repeats the input `repeats[i]` times along each axis i. Opset 1 takes a scalar `tiles` and a
/// scalar `axis` input (one axis repeated); 6+ a `repeats` vector with one entry per axis. Any element
/// type. Tiling [d0,d1,..] by [r0,r1,..] is broadcasting [1,d0,1,d1,..] to [r0,d0,r1,d1,..], so
/// forward and backward reuse the broadcast kernels.
/// </summary>
[OnnxOperator("Tile")]
internal sealed class Tile : OpKernel
{
    public Tile(NodeContext ctx) : base(ctx)
    {
    }

    /// <summary>Repeats per axis for a tensor of rank <paramref name="rank"/>.</summary>
    private Dim[] Repeats(int rank, Func<int, Dim[]> dims, Func<string, Exception> error)
    {
        if (Opset < 6)
        {
            var tiles = dims(1);
            var axis = dims(2);
            if (tiles.Length != 1 || axis.Length != 1 || !axis[0].IsKnown) throw error("opset-1 Tile needs scalar 'tiles' and 'axis' inputs");
            long a = axis[0].Value < 0 ? axis[0].Value + rank : axis[0].Value;
            if (a < 0 || a >= rank) throw error($"axis {axis[0]} is out of range for rank {rank}");
            var r = Enumerable.Repeat(Dim.Of(1), rank).ToArray();
            r[a] = tiles[0];
            return r;
        }
        var repeats = dims(1);
        if (repeats.Length != rank) throw error($"repeats has {repeats.Length} entries for an input of rank {rank}");
        foreach (var d in repeats)
            if (d.IsKnown && d.Value < 0) throw error($"repeats {Dim.Format(repeats)} has a negative entry");
        return repeats;
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        var repeats = Repeats(x.Length, i => LayoutFacts.DimsOf(ctx, i), ctx.Error);
        var shape = new Dim[x.Length];
        for (int i = 0; i < shape.Length; i++) shape[i] = x[i] * repeats[i];
        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    /// <summary>The interleaved shapes [1,d0,1,d1,..] and [r0,d0,r1,d1,..].</summary>
    private static (int[] Source, int[] Target) Interleave(int[] input, int[] output)
    {
        var source = new int[2 * input.Length];
        var target = new int[2 * input.Length];
        for (int i = 0; i < input.Length; i++)
        {
            source[2 * i] = 1;
            source[2 * i + 1] = input[i];
            target[2 * i] = input[i] == 0 ? 0 : output[i] / input[i];
            target[2 * i + 1] = input[i];
        }
        return (source, target);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0);
        var (source, target) = Interleave(x.Shape, y.Shape);
        LayoutElements.Dispatch(x.Data, new BroadcastJob(x.Data, source, y.Data, target));
    }

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index == 0;

    public override void Backward(BackwardContext ctx)
    {
        var x = ctx.Input(0);
        var dy = ctx.OutputGrad(0)!;
        var (source, target) = Interleave(x.Shape, dy.Shape);
        ctx.SetInputGrad(0, Broadcasting.SumToShape(dy.Reshape(target), source).Reshape(x.Shape));
    }
}
