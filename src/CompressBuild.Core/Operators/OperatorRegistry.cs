using System.Reflection;
using CompressBuild.Onnx;

namespace CompressBuild.Core.Operators;

/// <summary>
/// The operators the engine implements, found by <see cref="OnnxOperatorAttribute"/> on kernel
/// classes in this assembly (one class per file, so adding an operator touches one file).
/// </summary>
internal static class OperatorRegistry
{
    private sealed record Entry(OnnxOperatorAttribute Info, Func<NodeContext, OpKernel> Factory);

    private static readonly Lazy<Dictionary<string, Entry>> Entries = new(Discover);

    /// <summary>Supported op types of the ONNX domain, sorted.</summary>
    public static IReadOnlyList<string> SupportedOps =>
        Entries.Value.Where(e => e.Value.Info.Domain.Length == 0).Select(e => e.Key).OrderBy(k => k, StringComparer.Ordinal).ToList();

    /// <summary>True when <paramref name="node"/> can run under <paramref name="opset"/>.</summary>
    public static bool IsSupported(Node node, int opset) =>
        Entries.Value.TryGetValue(Key(node.Domain, node.OpType), out var e)
        && opset >= e.Info.MinOpset && opset <= e.Info.MaxOpset;

    /// <summary>The opset range of an operator, or null if it is not supported.</summary>
    public static (int Min, int Max)? OpsetRange(string opType) =>
        Entries.Value.TryGetValue(opType, out var e) ? (e.Info.MinOpset, e.Info.MaxOpset) : null;

    /// <summary>
    /// Binds a kernel to every node. Throws one CB3001 error listing every unsupported node (name,
    /// op, opset) and the supported operators.
    /// </summary>
    public static OpKernel[] Bind(IReadOnlyList<Node> nodes, int opset, string where)
    {
        var unsupported = nodes.Where(n => !IsSupported(n, opset)).ToList();
        if (unsupported.Count > 0)
            throw new CompressBuildException(ErrorCodes.UnsupportedOperator, UnsupportedMessage(unsupported, opset, where));
        var kernels = new OpKernel[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
            kernels[i] = Create(nodes[i], opset, where);
        return kernels;
    }

    /// <summary>Creates the kernel for one supported node.</summary>
    public static OpKernel Create(Node node, int opset, string where) =>
        Entries.Value[Key(node.Domain, node.OpType)].Factory(new NodeContext(node, opset, where));

    // ONNX-domain operators are keyed by op type alone; others as "domain:op".
    private static string Key(string domain, string opType) => domain is "" or "ai.onnx" ? opType : domain + ":" + opType;

    /// <summary>The text of the unsupported-operator error.</summary>
    public static string UnsupportedMessage(IReadOnlyList<Node> unsupported, int opset, string where)
    {
        var items = unsupported.Select(n =>
        {
            string why = OpsetRange(n.OpType) is { } r ? $"supported for opsets {r.Min}-{r.Max}" : "not implemented";
            return $"{(n.Name.Length > 0 ? n.Name : "(unnamed)")} {n.OpType} opset {opset} ({why})";
        });
        return $"{where} has {unsupported.Count} node(s) CompressBuild cannot run: {string.Join("; ", items)}. Supported operators: {string.Join(" ", SupportedOps)}. Re-export the model with supported operators, or open an issue naming the operator.";
    }

    private static Dictionary<string, Entry> Discover()
    {
        var result = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var type in typeof(OperatorRegistry).Assembly.GetTypes())
        {
            var info = type.GetCustomAttribute<OnnxOperatorAttribute>();
            if (info is null) continue;
            if (!typeof(OpKernel).IsAssignableFrom(type) || type.IsAbstract)
                throw new InvalidOperationException($"{type} has [OnnxOperator] but is not a concrete OpKernel");
            var ctor = type.GetConstructor(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, new[] { typeof(NodeContext) })
                ?? throw new InvalidOperationException($"{type} needs a constructor taking NodeContext");
            string key = Key(info.Domain, info.OpType);
            if (result.ContainsKey(key))
                throw new InvalidOperationException($"two kernels claim {key}: {result[key].Factory.Method.DeclaringType} and {type}");
            result[key] = new Entry(info, ctx =>
            {
                try
                {
                    return (OpKernel)ctor.Invoke(new object[] { ctx });
                }
                catch (TargetInvocationException e) when (e.InnerException is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                    throw;
                }
            });
        }
        return result;
    }
}
