using CompressBuild.Onnx.Protobuf;
using Google.Protobuf;

namespace CompressBuild.Onnx;

/// <summary>Builds the in-memory <see cref="Model"/> from protobuf messages, checking as it goes.</summary>
internal sealed class ProtoReader
{
    private readonly string? _baseDirectory;
    private readonly string _file;

    public ProtoReader(string? baseDirectory, string file)
    {
        _baseDirectory = baseDirectory;
        _file = file;
    }

    public Model ReadModel(ModelProto p)
    {
        var graph = ReadGraph(p.Graph, outerScope: null);
        var model = new Model(graph)
        {
            IrVersion = p.IrVersion,
            ProducerName = p.HasProducerName ? p.ProducerName : null,
            ProducerVersion = p.HasProducerVersion ? p.ProducerVersion : null,
            Domain = p.HasDomain ? p.Domain : null,
            ModelVersion = p.ModelVersion,
            DocString = p.HasDocString ? p.DocString : null,
        };
        foreach (var o in p.OpsetImport)
        {
            string domain = o.Domain ?? "";
            model.OpsetImports[domain] = o.Version;
        }
        foreach (var m in p.MetadataProps) model.Metadata.Add(new(m.Key, m.Value));
        foreach (var f in p.Functions) model.OpaqueFunctions.Add(f.ToByteArray());
        foreach (var t in p.TrainingInfo) model.OpaqueTrainingInfo.Add(t.ToByteArray());

        CheckDomainsAndOpset(model);
        graph.Validate(_file);
        return model;
    }

    private void CheckDomainsAndOpset(Model model)
    {
        // Unused imports of other domains are harmless (exporters add them); nodes using them are not.
        var foreign = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var n in AllNodes(model.Graph))
        {
            if (n.Domain is "" or "ai.onnx") continue;
            if (!foreign.TryGetValue(n.Domain, out var list)) foreign[n.Domain] = list = new List<string>();
            if (list.Count < 5) list.Add(n.DisplayName);
        }
        if (foreign.Count > 0)
            throw new CompressBuildException(ErrorCodes.UnknownDomain,
                $"{_file} uses operators from domain(s) {string.Join(", ", foreign.Select(f => $"'{f.Key}' (nodes {string.Join(", ", f.Value)})"))}; CompressBuild supports only the default ONNX domain (ai.onnx). Export the model without custom or contrib operators.");

        int opset = model.Opset;
        if (opset == 0 && model.Graph.Nodes.Count > 0)
            throw new CompressBuildException(ErrorCodes.UnsupportedOpset, $"{_file} does not import the default ONNX opset; a model must declare one. Re-export the model.");
        if (opset > OnnxModel.MaxSupportedOpset)
            throw new CompressBuildException(ErrorCodes.UnsupportedOpset,
                $"{_file} uses ONNX opset {opset}, newer than the newest CompressBuild supports ({OnnxModel.MaxSupportedOpset}). Export with opset_version <= {OnnxModel.MaxSupportedOpset} (e.g. torch.onnx.export(..., opset_version=17)).");
    }

    private static IEnumerable<Node> AllNodes(Graph g)
    {
        foreach (var n in g.Nodes)
        {
            yield return n;
            foreach (var a in n.Attributes)
            {
                if (a.Kind == AttributeKind.Graph)
                    foreach (var s in AllNodes(a.AsGraph())) yield return s;
                else if (a.Kind == AttributeKind.Graphs)
                    foreach (var sg in (Graph[])a.Value!)
                        foreach (var s in AllNodes(sg)) yield return s;
            }
        }
    }

    private Graph ReadGraph(GraphProto p, ISet<string>? outerScope)
    {
        var g = new Graph
        {
            Name = p.Name ?? "",
            DocString = p.HasDocString ? p.DocString : null,
            OuterScope = outerScope,
        };
        foreach (var t in p.Initializer)
        {
            string name = t.Name ?? "";
            string where = $"{_file}: initializer '{name}'";
            if (g.Initializers.ContainsKey(name))
                throw new CompressBuildException(ErrorCodes.DuplicateValue, $"{_file}: two initializers are named '{name}'. Re-export the model.");
            g.Initializers[name] = TensorProtoCodec.Decode(t, _baseDirectory, where);
            if (t.HasDocString) g.InitializerDocStrings[name] = t.DocString;
        }
        foreach (var s in p.SparseInitializer) g.OpaqueSparseInitializers.Add(s.ToByteArray());
        foreach (var q in p.QuantizationAnnotation) g.OpaqueQuantizationAnnotations.Add(q.ToByteArray());
        foreach (var v in p.Input) g.Inputs.Add(ReadValueInfo(v, "graph input"));
        foreach (var v in p.Output) g.Outputs.Add(ReadValueInfo(v, "graph output"));
        foreach (var v in p.ValueInfo) g.ValueInfos.Add(ReadValueInfo(v, "value"));

        HashSet<string>? scope = null;
        foreach (var np in p.Node)
        {
            var node = new Node(np.OpType ?? "", np.Input, np.Output, np.Name ?? "")
            {
                Domain = np.Domain ?? "",
                DocString = np.HasDocString ? np.DocString : null,
            };
            foreach (var a in np.Attribute)
            {
                if (a.Type is AttributeProto.Types.AttributeType.Graph or AttributeProto.Types.AttributeType.Graphs && scope is null)
                {
                    // Subgraphs may read any value of the enclosing graphs.
                    scope = new HashSet<string>(outerScope ?? Enumerable.Empty<string>(), StringComparer.Ordinal);
                    foreach (var v in p.Input) scope.Add(v.Name);
                    foreach (var t in p.Initializer) scope.Add(t.Name);
                    foreach (var n2 in p.Node) foreach (var o in n2.Output) scope.Add(o);
                }
                node.Attributes.Add(ReadAttribute(a, node, scope));
            }
            g.Nodes.Add(node);
        }
        return g;
    }

    private NodeAttribute ReadAttribute(AttributeProto a, Node node, ISet<string>? scope)
    {
        string where = $"{_file}: attribute '{a.Name}' of node {node.DisplayName}";
        var kind = (AttributeKind)(int)a.Type;
        if (!a.HasType)
        {
            // IR version 1 files have no type discriminator: infer it from the field in use.
            kind = a.HasF ? AttributeKind.Float : a.HasI ? AttributeKind.Int : a.HasS ? AttributeKind.String
                : a.T is not null ? AttributeKind.Tensor : a.G is not null ? AttributeKind.Graph
                : a.Floats.Count > 0 ? AttributeKind.Floats : a.Ints.Count > 0 ? AttributeKind.Ints
                : a.Strings.Count > 0 ? AttributeKind.Strings : a.Tensors.Count > 0 ? AttributeKind.Tensors
                : a.Graphs.Count > 0 ? AttributeKind.Graphs : AttributeKind.Undefined;
        }
        object? value = kind switch
        {
            AttributeKind.Float => a.F,
            AttributeKind.Int => a.I,
            AttributeKind.String => a.S.ToByteArray(),
            AttributeKind.Tensor => TensorProtoCodec.Decode(a.T ?? new TensorProto(), _baseDirectory, where),
            AttributeKind.Graph => ReadGraph(a.G ?? new GraphProto(), scope),
            AttributeKind.Floats => a.Floats.ToArray(),
            AttributeKind.Ints => a.Ints.ToArray(),
            AttributeKind.Strings => a.Strings.Select(s => s.ToByteArray()).ToArray(),
            AttributeKind.Tensors => a.Tensors.Select(t => TensorProtoCodec.Decode(t, _baseDirectory, where)).ToArray(),
            AttributeKind.Graphs => a.Graphs.Select(sg => ReadGraph(sg, scope)).ToArray(),
            AttributeKind.SparseTensor => new[] { a.SparseTensor?.ToByteArray() ?? Array.Empty<byte>() },
            AttributeKind.SparseTensors => a.SparseTensors.Select(s => s.ToByteArray()).ToArray(),
            AttributeKind.TypeProto => new[] { a.Tp?.ToByteArray() ?? Array.Empty<byte>() },
            AttributeKind.TypeProtos => a.TypeProtos.Select(s => s.ToByteArray()).ToArray(),
            _ => throw new CompressBuildException(ErrorCodes.MalformedModel, $"{where} has no value or an unknown type ({(int)a.Type}). Re-export the model."),
        };
        return NodeAttribute.Create(a.Name ?? "", kind, value, a.HasDocString ? a.DocString : null, a.HasRefAttrName ? a.RefAttrName : null);
    }

    private ValueInfo ReadValueInfo(ValueInfoProto v, string role)
    {
        string name = v.Name ?? "";
        var type = v.Type;
        if (type is not null && type.ValueCase != TypeProto.ValueOneofCase.TensorType && type.ValueCase != TypeProto.ValueOneofCase.None)
        {
            return new ValueInfo(name, DataType.Undefined, null)
            {
                NonTensorType = type.ToByteArray(),
                DocString = v.HasDocString ? v.DocString : null,
            };
        }
        var tt = type?.TensorType;
        var elem = tt is not null && tt.HasElemType ? (DataType)tt.ElemType : DataType.Undefined;
        Dim[]? shape = null;
        if (tt?.Shape is not null)
        {
            shape = new Dim[tt.Shape.Dim.Count];
            for (int i = 0; i < shape.Length; i++)
            {
                var d = tt.Shape.Dim[i];
                if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
                {
                    if (d.DimValue < 0)
                        throw new CompressBuildException(ErrorCodes.NegativeDim,
                            $"{_file}: {role} '{name}' has negative dimension {d.DimValue} at axis {i}; dims must be >= 0 (use a named dim_param for a variable size). Re-export the model.");
                    shape[i] = Dim.Of(d.DimValue);
                }
                else if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam && d.DimParam.Length > 0)
                {
                    shape[i] = Dim.Symbolic(d.DimParam);
                }
                else
                {
                    shape[i] = Dim.Symbolic(UnknownDimSymbol);
                }
            }
        }
        return new ValueInfo(name, elem, shape) { DocString = v.HasDocString ? v.DocString : null };
    }

    /// <summary>The symbol used for a dimension with neither a value nor a name.</summary>
    public const string UnknownDimSymbol = "?";
}
