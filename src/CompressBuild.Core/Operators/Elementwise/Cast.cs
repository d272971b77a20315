namespace CompressBuild.Core.Operators.Elementwise;

/// <summary>
/// Cast: converts every element to the type `to` (see <see cref="ElementConversion"/> for the
/// rules). Opset 1–5: `to` is a type name string ("FLOAT"); 6+: the TensorProto.DataType number;
/// 9 adds strings (numeric ↔ string, formatted like numpy's str(), parsing "NaN"/"INF"/"-INF"); 13
/// adds bfloat16 (round to nearest even). All supported types are accepted at every opset; opset
/// 19's `saturate` is not supported. Int32/int64 shape vectors keep their symbolic elements. The
/// gradient passes through float→float casts.
/// </summary>
[OnnxOperator("Cast")]
internal sealed class Cast : ElementwiseKernel
{
    private readonly DataType _to;

    public Cast(NodeContext ctx) : base(ctx)
    {
        var attr = ctx.Node.Attribute("to") ?? throw ctx.Invalid("required attribute 'to' is missing. Re-export the model.");
        _to = attr.Kind == AttributeKind.String ? TypeNamed(ctx, attr.AsString()) : (DataType)ctx.RequiredInt("to");
        if (!DataTypes.IsSupported(_to)) throw TypeError(_to, "target type");
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var from = ctx.InputType(0);
        if (!DataTypes.IsSupported(from)) throw TypeError(from);
        var shape = ctx.InputShape(0);
        var elements = ctx.InputElements(0);
        bool intToInt = from is DataType.Int64 or DataType.Int32 && _to is DataType.Int64 or DataType.Int32;
        // Narrowing to int32 wraps out-of-range values; only in-range elements keep their dims.
        if (elements is not null && intToInt
            && (_to == DataType.Int64 || elements.All(d => !d.IsKnown || (d.Value >= int.MinValue && d.Value <= int.MaxValue))))
            ctx.SetOutputElements(0, _to, shape, elements);
        else
            ctx.SetOutput(0, _to, shape);
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        try
        {
            ctx.SetOutput(0, ElementConversion.Convert(x, _to));
        }
        catch (FormatException e)
        {
            throw ExecutionError($"cannot cast to {DataTypes.OnnxName(_to)}: {e.Message}");
        }
    }

    public override bool IsDifferentiable => _to == DataType.Float;

    public override void Backward(BackwardContext ctx)
    {
        RequireFloatGradient(ctx.Input(0));
        ctx.SetInputGrad(0, ctx.OutputGrad(0)!);
    }

    private static DataType TypeNamed(NodeContext ctx, string name)
    {
        foreach (var t in Enum.GetValues<DataType>())
            if (t != DataType.Undefined && string.Equals(DataTypes.OnnxName(t), name, StringComparison.OrdinalIgnoreCase)) return t;
        throw ctx.Invalid($"attribute 'to' names an unknown type \"{name}\"");
    }
}
