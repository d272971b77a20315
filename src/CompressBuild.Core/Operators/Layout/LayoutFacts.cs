namespace CompressBuild.Core.Operators.Layout;

/// <summary>Shape-inference helpers shared by the layout operators.</summary>
internal static class LayoutFacts
{
    /// <summary>
    /// States output <paramref name="output"/> as input <paramref name="input"/>'s elements under a new
    /// shape. Shape vectors keep their (possibly symbolic) elements, so Shape→Unsqueeze→Concat→Reshape
    /// chains stay resolvable statically.
    /// </summary>
    public static void SetView(ShapeContext ctx, int input, int output, Dim[] shape)
    {
        var facts = ctx.Input(input);
        if (facts.Elements is { } e && shape.Length <= 1 && Dim.Product(shape) == Dim.Of(e.Length))
            ctx.SetOutputElements(output, facts.Type, shape, e);
        else
            ctx.SetOutput(output, facts.Type, shape);
    }

    /// <summary>Normalizes axes against <paramref name="rank"/>, rejecting out-of-range and repeated axes.</summary>
    public static int[] Axes(ShapeContext ctx, ReadOnlySpan<long> axes, int rank)
    {
        var result = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            result[i] = ctx.Axis(axes[i], rank);
            for (int j = 0; j < i; j++)
                if (result[j] == result[i]) throw ctx.Error($"axis {axes[i]} is given more than once");
        }
        return result;
    }

    /// <summary>An integer vector input as dims: its (possibly symbolic) elements, or its constant value.</summary>
    public static Dim[] DimsOf(ShapeContext ctx, int input)
    {
        if (ctx.InputElements(input) is { } e) return e;
        var v = ctx.RequireConstantInts(input);
        var r = new Dim[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = Dim.Of(v[i]);
        return r;
    }

    /// <summary>The start index of a whole tensor (all zeros), for region copies.</summary>
    public static int[] Zeros(int rank) => new int[rank];
}
