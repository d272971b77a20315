namespace CompressBuild.Core.Operators.Layout;

/// <summary>
/// Constant: outputs the tensor given by exactly one attribute. Opset 1–11: `value` (a tensor); 11
/// adds `sparse_value` (not supported); 12+ adds `value_float`, `value_floats`, `value_int`,
/// `value_ints`, `value_string` and `value_strings`. The output is a known constant for static passes.
/// </summary>
[OnnxOperator("Constant")]
internal sealed class Constant : OpKernel
{
    private static readonly string[] ValueAttributes =
        { "value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings" };

    private readonly Tensor _value;

    public Constant(NodeContext ctx) : base(ctx)
    {
        var given = ValueAttributes.Where(ctx.Has).ToList();
        if (given.Count != 1)
            throw ctx.Invalid($"a Constant needs exactly one of {string.Join(", ", ValueAttributes)}; it has {(given.Count == 0 ? "none" : string.Join(", ", given))}. Re-export the model.");
        string name = given[0];
        if (name == "sparse_value") throw ctx.Invalid("sparse_value constants are not supported by CompressBuild. Re-export the model with dense constants.");
        if (name != "value" && ctx.Opset < 12) throw ctx.Invalid($"attribute '{name}' needs opset 12 or later; the model has opset {ctx.Opset}");
        _value = name switch
        {
            "value" => ctx.TensorAttr(name)!,
            "value_float" => Tensor.Scalar(ctx.Float(name, 0f)),
            "value_floats" => Vector(ctx.Floats(name)!),
            "value_int" => Tensor.Scalar(ctx.Int(name, 0)),
            "value_ints" => Vector(ctx.Ints(name)!),
            "value_string" => Tensor.Scalar(ctx.String(name, "")),
            _ => Vector(ctx.Strings(name)!),
        };
    }

    private static Tensor Vector<T>(T[] values) => Tensor.FromArray(values, values.Length);

    public override void InferShapes(ShapeContext ctx) => ctx.SetOutputValue(0, _value);

    public override void Forward(ForwardContext ctx) => ctx.SetOutput(0, _value);
}
