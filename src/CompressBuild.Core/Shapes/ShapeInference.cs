using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Shapes;

/// <summary>
/// Static shape and type inference over a whole graph, with constant propagation: every value gets
/// an element type and a shape whose dims are numbers or the symbolic batch dimension, and values
/// computable from constants get their contents.
/// </summary>
/// <remarks>
/// Symbolic dims on axis 0 of graph inputs are renamed to <see cref="BatchSymbol"/> so all inputs
/// share one batch. Operators infer through the same <see cref="ShapeContext"/> code the executor
/// uses at run time.
/// </remarks>
public static class ShapeInference
{
    /// <summary>The name of the symbolic batch dimension.</summary>
    public const string BatchSymbol = "batch";

    /// <summary>Largest constant (elements) the pass computes by running a kernel.</summary>
    public const int MaxFoldedElements = 1 << 20;

    /// <summary>
    /// Infers every value of the model. In strict mode, any value whose shape cannot be resolved, or
    /// that has a symbolic dimension other than the batch, is a CB2005 error naming the value and
    /// its producer; otherwise such values are left with an unknown shape.
    /// </summary>
    public static ShapeInferenceResult Run(Model model, bool strict = true)
    {
        var graph = model.Graph;
        string where = model.DisplayName;
        var nodes = graph.TopologicalOrder(where);
        var kernels = OperatorRegistry.Bind(nodes, model.Opset, where);
        var facts = new Dictionary<string, ValueFacts>(StringComparer.Ordinal);
        var producers = new Dictionary<string, Node>(StringComparer.Ordinal);

        foreach (var input in graph.Inputs)
        {
            if (graph.Initializers.ContainsKey(input.Name)) continue;
            if (!input.IsTensor)
            {
                if (strict) throw Unresolved(where, input.Name, null, "it is not a tensor");
                continue;
            }
            var shape = input.Shape is null ? null : NormalizeInputShape(input.Shape);
            if (strict && shape is null)
                throw Unresolved(where, input.Name, null, "the model does not declare its shape; re-export with static input shapes");
            facts[input.Name] = new ValueFacts(input.ElementType, shape);
        }
        foreach (var (name, t) in graph.Initializers) facts[name] = ValueFacts.Of(t);

        for (int n = 0; n < nodes.Count; n++)
        {
            var node = nodes[n];
            var kernel = kernels[n];
            var inputs = new ValueFacts?[node.Inputs.Count];
            for (int i = 0; i < inputs.Length; i++)
                if (node.Inputs[i].Length > 0 && facts.TryGetValue(node.Inputs[i], out var f)) inputs[i] = f;

            var ctx = new ShapeContext(kernel, inputs, node.Outputs.Count);
            try
            {
                kernel.InferShapes(ctx);
            }
            catch (UnresolvedDimException e)
            {
                if (strict) throw Unresolved(where, node.Outputs.FirstOrDefault() ?? "", node, e.Message);
                foreach (var o in node.Outputs)
                    if (o.Length > 0) producers[o] = node;
                continue;
            }

            TryEvaluate(kernel, node, inputs, ctx);
            for (int k = 0; k < node.Outputs.Count; k++)
            {
                string o = node.Outputs[k];
                if (o.Length == 0) continue;
                producers[o] = node;
                if (ctx.Output(k) is { } of) facts[o] = of;
            }
        }

        var result = new ShapeInferenceResult(facts, producers);
        if (strict) result.CheckResolved(graph, where);
        return result;
    }

    private static Dim[] NormalizeInputShape(Dim[] shape)
    {
        var r = (Dim[])shape.Clone();
        if (r.Length > 0 && !r[0].IsKnown) r[0] = Dim.Symbolic(BatchSymbol, r[0].Value);
        return r;
    }

    // Constant propagation: a node whose inputs are all known constants is run once, so shape
    // arithmetic (and exporters' constant subgraphs) resolve.
    private static void TryEvaluate(OpKernel kernel, Node node, ValueFacts?[] inputs, ShapeContext ctx)
    {
        for (int i = 0; i < inputs.Length; i++)
            if (node.Inputs[i].Length > 0 && inputs[i]?.Value is null) return;
        if (node.OpType is "Dropout" or "RandomNormal" or "RandomUniform" or "RandomNormalLike" or "RandomUniformLike") return;
        long total = 0;
        for (int k = 0; k < ctx.OutputCount; k++)
        {
            if (!ctx.HasOutput(k)) continue;
            var of = ctx.Output(k);
            if (of?.Value is not null) continue;
            if (of?.Shape is null || of.Shape.Any(d => !d.IsKnown)) return;
            total += Dim.Product(of.Shape).Value;
        }
        if (total > MaxFoldedElements) return;
        var outFacts = new ValueFacts?[ctx.OutputCount];
        for (int k = 0; k < outFacts.Length; k++)
            if (ctx.HasOutput(k)) outFacts[k] = ctx.Output(k);
        var tensors = inputs.Select(f => f?.Value).ToArray();
        var fctx = new ForwardContext(kernel, tensors, outFacts, new RunOptions { MaxDegreeOfParallelism = 1 }, recording: false);
        kernel.Forward(fctx);
        for (int k = 0; k < outFacts.Length; k++)
            if (ctx.HasOutput(k) && fctx.Outputs[k] is { } t) ctx.SetOutputValue(k, t);
    }

    internal static CompressBuildException Unresolved(string where, string value, Node? producer, string why) =>
        new(ErrorCodes.UnresolvedShape,
            $"{where}: the shape of '{value}'{(producer is null ? "" : $" (output of node {producer.DisplayName})")} cannot be resolved statically: {why}. Only the batch dimension may be symbolic; give the model static input shapes (besides batch) or fold its shape computations.");
}
