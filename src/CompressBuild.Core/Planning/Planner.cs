using System.Globalization;
using System.Security.Cryptography;
using CompressBuild.Core.Shapes;
using CompressBuild.Plan;

namespace CompressBuild.Core.Planning;

/// <summary>What the planner needs besides the model.</summary>
public sealed record PlanOptions
{
    /// <summary>Generated class name.</summary>
    public required string ClassName { get; init; }

    /// <summary>Generated namespace.</summary>
    public string Namespace { get; init; } = "";

    /// <summary>Original model file name.</summary>
    public string SourceModel { get; init; } = "";

    /// <summary>SHA-256 of the original model file.</summary>
    public string SourceSha256 { get; init; } = "";

    /// <summary>One-line summary of what was applied.</summary>
    public string Compression { get; init; } = "none";

    /// <summary>Kernel target.</summary>
    public string Target { get; init; } = "generic";

    /// <summary>Storage of each float initializer by name (absent: <see cref="ConstantEncoding.Native"/>).</summary>
    public IReadOnlyDictionary<string, ConstantEncoding> Encodings { get; init; } = new Dictionary<string, ConstantEncoding>();

    /// <summary>Blobs up to this size become a literal; larger ones an embedded resource.</summary>
    public long LiteralThresholdBytes { get; init; } = 64 * 1024;

    /// <summary>Forces the storage (null: by <see cref="LiteralThresholdBytes"/>).</summary>
    public WeightStorage? Storage { get; init; }

    /// <summary>Documentation lines for the generated class.</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
}

/// <summary>The plan and the weight blob it refers to.</summary>
public sealed record PlanResult(ModelPlan Plan, byte[] Weights);

/// <summary>
/// Turns an optimized model with static shapes into a <see cref="ModelPlan"/>: fuses activations
/// into the layer before them, turns view operators into buffer aliases, runs element-wise ops in
/// place, places every activation buffer in one arena by liveness, and lays the constants out in a
/// weight blob (fp32, fp16 or int8 with per-channel scales).
/// </summary>
public static class Planner
{
    /// <summary>Largest integer constant (elements) also written into a step as an attribute: shapes, axes, pads.</summary>
    public const int InlineConstantElements = 64;

    /// <summary>Largest float constant also written as an attribute: Clip bounds, Pad values, Resize scales.</summary>
    public const int InlineFloatElements = 8;

    // Their constant inputs are weights, not parameters that shape the computation.
    private static readonly HashSet<string> WeightOps = new(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "LayerNormalization", "LSTM", "GRU", "PRelu",
    };

    private static readonly HashSet<string> ViewOps = new(StringComparer.Ordinal) { "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity" };

    private static readonly HashSet<string> InPlaceOps = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Softplus", "Abs", "Neg", "Exp",
        "Log", "Sqrt", "Reciprocal", "Erf", "Clip", "Add", "Sub", "Mul", "Div",
    };

    // Scale and zero-point inputs of the quantized operators: inlined whatever their size, since
    // integer kernels fold them into constants (requantization multipliers) at generation time.
    private static readonly Dictionary<string, int[]> QuantParamInputs = new(StringComparer.Ordinal)
    {
        ["QuantizeLinear"] = [1, 2], ["DequantizeLinear"] = [1, 2], ["QLinearConv"] = [1, 2, 4, 5, 6, 7], ["QLinearMatMul"] = [1, 2, 4, 5, 6, 7],
        ["QGemm"] = [1, 2, 4, 5, 7, 8], ["MatMulInteger"] = [2, 3], ["ConvInteger"] = [2, 3],
    };

    private static readonly HashSet<string> FusesRelu = new(StringComparer.Ordinal) { "Conv", "Gemm", "MatMul", "Add", "ConvTranspose", "BatchNormalization" };

    /// <summary>Builds the plan; throws <see cref="CompressBuildException"/> when the model cannot be planned.</summary>
    public static PlanResult Build(Model model, PlanOptions options)
    {
        var graph = model.Graph;
        string where = model.DisplayName;
        var shapes = ShapeInference.Run(model, strict: true);
        var nodes = graph.TopologicalOrder(where);
        bool IsConstant(string v) => v.Length > 0 && graph.Initializers.ContainsKey(v);
        int Consumers(string v) => nodes.Count(n => n.Inputs.Contains(v)) + (graph.IsOutput(v) ? 1 : 0);

        // 1. Fuse a Relu into the layer before it when the layer's output feeds only the Relu.
        var fused = new Dictionary<Node, Node>();
        foreach (var relu in nodes.Where(n => n.OpType == "Relu"))
        {
            var producer = nodes.FirstOrDefault(n => n.Outputs.Count > 0 && n.Outputs[0] == relu.Inputs[0]);
            if (producer is null || !FusesRelu.Contains(producer.OpType) || fused.ContainsKey(producer) || Consumers(relu.Inputs[0]) != 1) continue;
            if (producer.OpType == "BatchNormalization" && producer.Outputs.Skip(1).Any(o => o.Length > 0)) continue;
            fused[producer] = relu;
        }
        var steps = nodes.Where(n => !fused.ContainsValue(n)).ToList();

        // 2. Buffers: one root per activation; views alias their input, in-place ops their input.
        var root = new Dictionary<string, string>(StringComparer.Ordinal);
        string Root(string v) => root.TryGetValue(v, out var r) && r != v ? root[v] = Root(r) : v;
        string OutputOf(Node n) => fused.TryGetValue(n, out var relu) ? relu.Outputs[0] : n.Outputs[0];
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < steps.Count; s++)
            foreach (var i in steps[s].Inputs)
                if (i.Length > 0) lastUse[i] = s;
        foreach (var o in graph.Outputs) lastUse[o.Name] = steps.Count;
        var aliasSteps = new HashSet<Node>();
        for (int s = 0; s < steps.Count; s++)
        {
            var n = steps[s];
            if (n.Inputs.Count == 0 || IsConstant(n.Inputs[0])) continue;
            string input = n.Inputs[0];
            bool sameSize = shapes.ShapeOf(input) is { } si && shapes.ShapeOf(OutputOf(n)) is { } so && Dim.Product(si) == Dim.Product(so)
                && shapes.TypeOf(input) == shapes.TypeOf(OutputOf(n));
            // Dropout is a view at inference, unless a runtime training_mode input can switch it on.
            bool view = ViewOps.Contains(n.OpType) || (n.OpType == "Dropout" && n.Outputs.Skip(1).All(o => o.Length == 0)
                && (!n.HasInput(2) || IsConstant(n.Inputs[2]) && graph.Initializers[n.Inputs[2]].GetDouble(0) == 0));
            if (view && sameSize)
            {
                root[OutputOf(n)] = Root(input);
                aliasSteps.Add(n);
                continue;
            }
            // In place: the input buffer dies here and is not shared with a value read later.
            if (InPlaceOps.Contains(n.OpType) && sameSize && n.Outputs.Count == 1 && !graph.Inputs.Exists(i => i.Name == input)
                && RootDiesAt(Root(input), s) && !n.Inputs.Skip(1).Any(x => x.Length > 0 && Root(x) == Root(input)))
                root[OutputOf(n)] = Root(input);
        }
        bool RootDiesAt(string r, int s) => lastUse.Where(kv => Root(kv.Key) == r).All(kv => kv.Value <= s);
        steps.RemoveAll(aliasSteps.Contains);

        // 3. Liveness per root, then the arena layout.
        var values = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void AddValue(string v)
        {
            if (v.Length > 0 && !IsConstant(v) && seen.Add(v)) values.Add(v);
        }
        foreach (var i in graph.RuntimeInputs) AddValue(i.Name);
        foreach (var n in steps)
        {
            foreach (var i in n.Inputs) AddValue(i);
            if (fused.ContainsKey(n)) AddValue(OutputOf(n));
            else foreach (var o in n.Outputs) AddValue(o);
        }
        foreach (var o in graph.Outputs) AddValue(o.Name);
        foreach (var v in values.ToList())
        {
            // Values defined only through aliases (views) need their root listed too.
            AddValue(Root(v));
        }

        var roots = values.Select(Root).Distinct().ToList();
        var first = roots.ToDictionary(r => r, _ => int.MaxValue, StringComparer.Ordinal);
        var last = roots.ToDictionary(r => r, _ => -1, StringComparer.Ordinal);
        foreach (var i in graph.RuntimeInputs) first[Root(i.Name)] = -1;
        for (int s = 0; s < steps.Count; s++)
        {
            var n = steps[s];
            foreach (var o in fused.ContainsKey(n) ? new List<string> { OutputOf(n) } : n.Outputs)
                if (o.Length > 0) first[Root(o)] = Math.Min(first[Root(o)], s);
            foreach (var i in n.Inputs)
                if (i.Length > 0 && !IsConstant(i)) last[Root(i)] = Math.Max(last[Root(i)], s);
        }
        foreach (var o in graph.Outputs) last[Root(o.Name)] = steps.Count;
        // Kernel scratch: a buffer live only during its step.
        var scratchFloats = new long[steps.Count];
        for (int s = 0; s < steps.Count; s++)
        {
            var n = steps[s];
            int[] Shape(string v) => v.Length == 0 || shapes.ShapeOf(v) is null ? Array.Empty<int>() : PerSample(shapes.ShapeOf(v)!, v, where);
            if (n.OpType is "LSTM" or "GRU" or "Resize")
            {
                scratchFloats[s] = KernelScratch.NnFloats(n.OpType, n.Inputs.Select(Shape).ToArray(), n.Outputs.Select(Shape).ToArray(),
                    PlanType(shapes.TypeOf(n.Inputs[0]), n.Inputs[0], where), n.Attribute("layout")?.AsInt() == 1, n.Attribute("mode")?.AsString() ?? "nearest");
                continue;
            }
            if (n.OpType is "QLinearConv" or "ConvInteger" or "QGemm" or "QLinearMatMul" or "MatMulInteger")
            {
                scratchFloats[s] = KernelScratch.QuantizedFloats(n.OpType, n.Inputs.Select(Shape).ToArray(), Shape(OutputOf(n)),
                    n.Attribute("strides")?.AsInts(), n.Attribute("dilations")?.AsInts(), n.Attribute("group")?.AsInt() ?? 1, n.Attribute("transB")?.AsInt() == 1);
                continue;
            }
            if (n.OpType != "Conv" || n.Inputs.Count < 2) continue;
            scratchFloats[s] = KernelScratch.Floats(n.OpType, PerSample(shapes.ShapeOf(n.Inputs[0])!, n.Inputs[0], where),
                PerSample(shapes.ShapeOf(n.Inputs[1])!, n.Inputs[1], where), PerSample(shapes.ShapeOf(OutputOf(n))!, OutputOf(n), where),
                n.Attribute("strides")?.AsInts(), n.Attribute("dilations")?.AsInts(), n.Attribute("group")?.AsInt() ?? 1);
        }

        long Bytes(string v) => (long)PerSample(shapes.ShapeOf(v)!, v, where).Aggregate(1L, (a, d) => a * d) * PlanTypes.Size(PlanType(shapes.TypeOf(v), v, where));
        var rootBytes = roots.ToDictionary(r => r, r => values.Where(v => Root(v) == r).Max(Bytes), StringComparer.Ordinal);
        var requests = roots.Select((r, k) => new ArenaAllocator.Request(k, rootBytes[r], first[r] == int.MaxValue ? -1 : first[r], Math.Max(last[r], first[r] == int.MaxValue ? -1 : first[r]))).ToList();
        var scratchSteps = Enumerable.Range(0, steps.Count).Where(s => scratchFloats[s] > 0).ToList();
        foreach (int s in scratchSteps) requests.Add(new ArenaAllocator.Request(requests.Count, scratchFloats[s] * 4, s, s));
        var (offsets, arenaBytes) = ArenaAllocator.Allocate(requests);
        var bufferId = new Dictionary<string, string>(StringComparer.Ordinal);
        var buffers = new List<PlanBuffer>();
        for (int k = 0; k < roots.Count; k++)
        {
            string id = $"b{k}";
            bufferId[roots[k]] = id;
            var type = PlanType(shapes.TypeOf(roots[k]), roots[k], where);
            buffers.Add(new PlanBuffer(id, type, checked((int)(rootBytes[roots[k]] / PlanTypes.Size(type))), offsets[k]));
        }

        var scratchBuffer = new Dictionary<int, string>();
        for (int k = 0; k < scratchSteps.Count; k++)
        {
            int index = roots.Count + k;
            string id = $"b{index}";
            scratchBuffer[scratchSteps[k]] = id;
            buffers.Add(new PlanBuffer(id, PlanTypes.Float, checked((int)scratchFloats[scratchSteps[k]]), offsets[index]));
        }

        // 4. Constants in the weight blob, in order of first use.
        var blob = new WeightBlobBuilder();
        var constantId = new Dictionary<string, string>(StringComparer.Ordinal);
        string ConstantRef(string name)
        {
            if (constantId.TryGetValue(name, out var id)) return id;
            var t = graph.Initializers[name];
            options.Encodings.TryGetValue(name, out var encoding);
            id = blob.Add(t, encoding, PlanType(t.DataType, name, where));
            constantId[name] = id;
            return id;
        }

        // 5. Steps.
        var planSteps = new List<PlanStep>();
        for (int index = 0; index < steps.Count; index++)
        {
            var n = steps[index];
            var inputs = n.Inputs.Select(i => i.Length == 0 ? "" : IsConstant(i) ? ConstantRef(i) : bufferId[Root(i)]).ToList();
            var outputNames = fused.ContainsKey(n) ? new List<string> { OutputOf(n) }.Concat(n.Outputs.Skip(1)).ToList() : n.Outputs.ToList();
            var outputs = outputNames.Select(o => o.Length == 0 ? "" : bufferId[Root(o)]).ToList();
            var attrs = new List<PlanAttribute>();
            foreach (var a in n.Attributes) attrs.AddRange(Attribute(a, n, where));
            if (fused.ContainsKey(n)) attrs.Add(PlanAttribute.String("activation", "Relu"));
            if (scratchBuffer.TryGetValue(index, out var scratch)) attrs.Add(PlanAttribute.String(KernelScratch.Attribute, scratch));
            attrs.Add(PlanAttribute.StringList("_in_shapes", n.Inputs.Select(i => i.Length == 0 ? "" : ShapeText(PerSample(shapes.ShapeOf(i)!, i, where))).ToArray()));
            attrs.Add(PlanAttribute.StringList("_out_shapes", outputNames.Select(o => o.Length == 0 || shapes.ShapeOf(o) is null ? "" : ShapeText(PerSample(shapes.ShapeOf(o)!, o, where))).ToArray()));
            for (int i = 0; i < n.Inputs.Count; i++)
            {
                if (!IsConstant(n.Inputs[i])) continue;
                var t = graph.Initializers[n.Inputs[i]];
                bool quantParam = QuantParamInputs.TryGetValue(n.OpType, out var paramInputs) && paramInputs.Contains(i);
                bool integer = !DataTypes.IsFloatingPoint(t.DataType) && t.DataType is not (DataType.Bool or DataType.String);
                if ((t.DataType is DataType.Int64 or DataType.Int32 && t.Length <= InlineConstantElements) || (quantParam && integer)) attrs.Add(PlanAttribute.IntList($"_value{i}", t.ToInt64Array()));
                else if (t.DataType is DataType.Float or DataType.Double or DataType.Float16 && (quantParam || (t.Length <= InlineFloatElements && !WeightOps.Contains(n.OpType)))) attrs.Add(PlanAttribute.FloatList($"_value{i}", Enumerable.Range(0, t.Length).Select(k => (float)t.GetDouble(k)).ToArray()));
            }
            planSteps.Add(new PlanStep(n.OpType, n.Name, inputs.ToEquatableArray(), outputs.ToEquatableArray(),
                attrs.OrderBy(a => a.Name, StringComparer.Ordinal).ToEquatableArray()));
        }

        // 6. Inputs and outputs of the generated class.
        var usedIds = new HashSet<string>(StringComparer.Ordinal);
        PlanValue Value(ValueInfo info)
        {
            var s = shapes.ShapeOf(info.Name) ?? throw ShapeInference.Unresolved(where, info.Name, null, "its shape is unknown");
            string id = CSharpNames.Parameter(info.Name);
            for (int k = 2; !usedIds.Add(id); k++) id = CSharpNames.Parameter(info.Name) + k.ToString(CultureInfo.InvariantCulture);
            return new PlanValue(info.Name, id, PlanType(shapes.TypeOf(info.Name), info.Name, where),
                PerSample(s, info.Name, where).ToEquatableArray(), bufferId[Root(info.Name)], s.Length > 0 && s[0].Symbol == ShapeInference.BatchSymbol);
        }
        var inputsPlan = graph.RuntimeInputs.Select(Value).ToList();
        var outputsPlan = graph.Outputs.Select(Value).ToList();

        var weights = blob.ToArray();
        var storage = options.Storage ?? (weights.Length <= options.LiteralThresholdBytes ? WeightStorage.Literal : WeightStorage.Resource);
        var plan = new ModelPlan
        {
            ClassName = options.ClassName,
            Namespace = options.Namespace,
            SourceModel = options.SourceModel,
            SourceSha256 = options.SourceSha256,
            Compression = options.Compression,
            Target = options.Target,
            Opset = model.Opset,
            Weights = new WeightsPlan
            {
                Bytes = weights.Length,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(weights)),
                Storage = storage,
                File = storage == WeightStorage.Literal ? $"{options.ClassName}.weights.b64" : $"{options.ClassName}.weights.bin",
                ResourceName = storage == WeightStorage.Resource ? $"CompressBuild.{options.ClassName}.weights" : "",
            },
            ArenaBytes = arenaBytes,
            Inputs = inputsPlan.ToEquatableArray(),
            Outputs = outputsPlan.ToEquatableArray(),
            Buffers = buffers.ToEquatableArray(),
            Constants = blob.Constants.ToEquatableArray(),
            Steps = planSteps.ToEquatableArray(),
            Notes = options.Notes.ToEquatableArray(),
        };
        return new PlanResult(plan, weights);
    }

    private static string ShapeText(int[] shape) => string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The shape of one sample: the symbolic batch dimension becomes 1.</summary>
    private static int[] PerSample(Dim[] shape, string value, string where) => shape.Select(d =>
        d.IsKnown ? checked((int)d.Value)
        : d.Symbol == ShapeInference.BatchSymbol ? checked((int)d.Value)
        : throw ShapeInference.Unresolved(where, value, null, $"dimension '{d}' is symbolic")).ToArray();

    internal static string PlanType(DataType t, string value, string where) => t switch
    {
        DataType.Float => PlanTypes.Float,
        DataType.Double => PlanTypes.Double,
        DataType.Float16 => PlanTypes.Float16,
        DataType.Int8 => PlanTypes.Int8,
        DataType.UInt8 => PlanTypes.UInt8,
        DataType.Int16 => PlanTypes.Int16,
        DataType.UInt16 => PlanTypes.UInt16,
        DataType.Int32 => PlanTypes.Int32,
        DataType.UInt32 => PlanTypes.UInt32,
        DataType.Int64 => PlanTypes.Int64,
        DataType.UInt64 => PlanTypes.UInt64,
        DataType.Bool => PlanTypes.Bool,
        _ => throw new CompressBuildException(ErrorCodes.UnsupportedOperatorType,
            $"{where}: value '{value}' has element type {DataTypes.OnnxName(t)}, which generated predictors do not support (numbers and bool only)."),
    };

    private static IEnumerable<PlanAttribute> Attribute(NodeAttribute a, Node n, string where)
    {
        switch (a.Kind)
        {
            case AttributeKind.Int: yield return PlanAttribute.Int(a.Name, a.AsInt()); break;
            case AttributeKind.Ints: yield return PlanAttribute.IntList(a.Name, a.AsInts()); break;
            case AttributeKind.Float: yield return PlanAttribute.Float(a.Name, a.AsFloat()); break;
            case AttributeKind.Floats: yield return PlanAttribute.FloatList(a.Name, a.AsFloats()); break;
            case AttributeKind.String: yield return PlanAttribute.String(a.Name, a.AsString()); break;
            case AttributeKind.Strings: yield return PlanAttribute.StringList(a.Name, a.AsStrings()); break;
            case AttributeKind.Tensor:
                var t = a.AsTensor();
                if (t.Length > InlineConstantElements)
                    throw new CompressBuildException(ErrorCodes.InvalidAttribute, $"{where}: node {n.DisplayName}: tensor attribute '{a.Name}' with {t.Length} elements cannot be planned; fold it into an initializer.");
                yield return PlanAttribute.String(a.Name + "_type", PlanType(t.DataType, a.Name, where));
                yield return DataTypes.IsFloatingPoint(t.DataType)
                    ? PlanAttribute.FloatList(a.Name, Enumerable.Range(0, t.Length).Select(k => (float)t.GetDouble(k)).ToArray())
                    : PlanAttribute.IntList(a.Name, Enumerable.Range(0, t.Length).Select(k => (long)t.GetDouble(k)).ToArray());
                break;
            default:
                throw new CompressBuildException(ErrorCodes.InvalidAttribute, $"{where}: node {n.DisplayName}: attribute '{a.Name}' of kind {a.Kind} cannot be planned.");
        }
    }
}
