namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Shape: the input's dims as a 1-D int64 tensor. Opsets 1 and 13 return all dims; 15 adds `start`
/// and `end` attributes (negative counts from the back, both clamped to [0, rank]). The dims are
/// stated as (possibly symbolic) elements, so downstream shape arithmetic resolves statically.
/// </summary>
[OnnxOperator("Shape")]
internal sealed class Shape : OpKernel
{
    private readonly long _start;
    private readonly long? _end;

    public Shape(NodeContext ctx) : base(ctx)
    {
        if (ctx.Opset >= 15)
        {
            _start = ctx.Int("start", 0);
            if (ctx.Has("end")) _end = ctx.RequiredInt("end");
        }
    }

    private (int Start, int Count) Range(int rank)
    {
        static int Clamp(long v, int rank) => (int)Math.Clamp(v < 0 ? v + rank : v, 0, rank);
        int start = Clamp(_start, rank);
        int end = Clamp(_end ?? rank, rank);
        return (start, Math.Max(0, end - start));
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var x = ctx.InputShape(0);
        var (start, count) = Range(x.Length);
        ctx.SetOutputElements(0, DataType.Int64, new Dim[] { count }, x.AsSpan(start, count).ToArray());
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var (start, count) = Range(x.Rank);
        var y = ctx.Output(0).Span<long>();
        for (int i = 0; i < count; i++) y[i] = x.Shape[start + i];
    }
}
