using CompressBuild.Onnx;

namespace CompressBuild.Core.Operators;

/// <summary>
/// One ONNX operator bound to one node. Every operator file follows the same template:
/// <list type="number">
/// <item>the constructor reads and validates attributes for the node's opset (errors via <see cref="NodeContext.Invalid"/>);</item>
/// <item><see cref="InferShapes"/> gives output types and shapes from input types, shapes and
/// (when known) values — used both for static shapes (symbolic batch) and at run time;</item>
/// <item><see cref="Forward"/> computes the outputs;</item>
/// <item><see cref="Backward"/> (differentiable ops) computes input gradients from output gradients.</item>
/// </list>
/// </summary>
internal abstract class OpKernel
{
    protected OpKernel(NodeContext context)
    {
        Node = context.Node;
        Opset = context.Opset;
        Where = context.Where;
    }

    /// <summary>The node this kernel runs.</summary>
    public Node Node { get; }

    /// <summary>The default-domain opset the node is interpreted under.</summary>
    public int Opset { get; }

    /// <summary>Model name for messages.</summary>
    protected string Where { get; }

    /// <summary>Sets every output's type and shape (see <see cref="ShapeContext"/>).</summary>
    public abstract void InferShapes(ShapeContext ctx);

    /// <summary>Computes the outputs from the inputs.</summary>
    public abstract void Forward(ForwardContext ctx);

    /// <summary>True when <see cref="Backward"/> is implemented.</summary>
    public virtual bool IsDifferentiable => false;

    /// <summary>
    /// Indices of inputs a gradient flows to (others, like shapes and indices, get none).
    /// Default: every input of a differentiable op.
    /// </summary>
    public virtual bool IsDifferentiableInput(int index) => IsDifferentiable;

    /// <summary>Accumulates input gradients from output gradients.</summary>
    public virtual void Backward(BackwardContext ctx) =>
        throw new CompressBuildException(ErrorCodes.NotDifferentiable,
            $"{Where}: node {Node.DisplayName}: {Node.OpType} has no gradient, so training cannot pass through it.");

    /// <summary>A shape or type error about this node (CB2006).</summary>
    public CompressBuildException ShapeError(string message) =>
        new(ErrorCodes.ShapeMismatch, $"{Where}: node {Node.DisplayName}: {message}");

    /// <summary>An unsupported element type error (CB3003).</summary>
    public CompressBuildException TypeError(DataType type, string? role = null) =>
        new(ErrorCodes.UnsupportedOperatorType,
            $"{Where}: node {Node.DisplayName}: {Node.OpType} does not support {role ?? "element type"} {DataTypes.OnnxName(type)} in CompressBuild.");
}
