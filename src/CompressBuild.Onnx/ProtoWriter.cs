using CompressBuild.Onnx.Protobuf;
using Google.Protobuf;

namespace CompressBuild.Onnx;

/// <summary>Builds protobuf messages from the in-memory <see cref="Model"/>.</summary>
internal static class ProtoWriter
{
    public static ModelProto WriteModel(Model m)
    {
        var p = new ModelProto
        {
            IrVersion = m.IrVersion,
            Graph = WriteGraph(m.Graph),
        };
        if (m.ProducerName is not null) p.ProducerName = m.ProducerName;
        if (m.ProducerVersion is not null) p.ProducerVersion = m.ProducerVersion;
        if (m.Domain is not null) p.Domain = m.Domain;
        if (m.ModelVersion != 0) p.ModelVersion = m.ModelVersion;
        if (m.DocString is not null) p.DocString = m.DocString;
        foreach (var (domain, version) in m.OpsetImports)
            p.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        foreach (var kv in m.Metadata)
            p.MetadataProps.Add(new StringStringEntryProto { Key = kv.Key, Value = kv.Value });
        foreach (var f in m.OpaqueFunctions) p.Functions.Add(FunctionProto.Parser.ParseFrom(f));
        foreach (var t in m.OpaqueTrainingInfo) p.TrainingInfo.Add(TrainingInfoProto.Parser.ParseFrom(t));
        return p;
    }

    public static GraphProto WriteGraph(Graph g)
    {
        var p = new GraphProto { Name = g.Name };
        if (g.DocString is not null) p.DocString = g.DocString;
        foreach (var n in g.Nodes) p.Node.Add(WriteNode(n));
        foreach (var (name, t) in g.Initializers)
        {
            var tp = TensorProtoCodec.Encode(t, name);
            if (g.InitializerDocStrings.TryGetValue(name, out var doc)) tp.DocString = doc;
            p.Initializer.Add(tp);
        }
        foreach (var s in g.OpaqueSparseInitializers) p.SparseInitializer.Add(SparseTensorProto.Parser.ParseFrom(s));
        foreach (var q in g.OpaqueQuantizationAnnotations) p.QuantizationAnnotation.Add(TensorAnnotation.Parser.ParseFrom(q));
        foreach (var v in g.Inputs) p.Input.Add(WriteValueInfo(v));
        foreach (var v in g.Outputs) p.Output.Add(WriteValueInfo(v));
        foreach (var v in g.ValueInfos) p.ValueInfo.Add(WriteValueInfo(v));
        return p;
    }

    private static NodeProto WriteNode(Node n)
    {
        var p = new NodeProto { OpType = n.OpType };
        if (n.Name.Length > 0) p.Name = n.Name;
        if (n.Domain.Length > 0) p.Domain = n.Domain;
        if (n.DocString is not null) p.DocString = n.DocString;
        p.Input.AddRange(n.Inputs);
        p.Output.AddRange(n.Outputs);
        foreach (var a in n.Attributes) p.Attribute.Add(WriteAttribute(a));
        return p;
    }

    private static AttributeProto WriteAttribute(NodeAttribute a)
    {
        var p = new AttributeProto { Name = a.Name, Type = (AttributeProto.Types.AttributeType)(int)a.Kind };
        if (a.DocString is not null) p.DocString = a.DocString;
        if (a.RefAttrName is not null) p.RefAttrName = a.RefAttrName;
        switch (a.Kind)
        {
            case AttributeKind.Float: p.F = (float)a.Value!; break;
            case AttributeKind.Int: p.I = (long)a.Value!; break;
            case AttributeKind.String: p.S = ByteString.CopyFrom((byte[])a.Value!); break;
            case AttributeKind.Tensor: p.T = TensorProtoCodec.Encode((Tensor)a.Value!, null); break;
            case AttributeKind.Graph: p.G = WriteGraph((Graph)a.Value!); break;
            case AttributeKind.Floats: p.Floats.AddRange((float[])a.Value!); break;
            case AttributeKind.Ints: p.Ints.AddRange((long[])a.Value!); break;
            case AttributeKind.Strings: p.Strings.AddRange(((byte[][])a.Value!).Select(ByteString.CopyFrom)); break;
            case AttributeKind.Tensors: p.Tensors.AddRange(((Tensor[])a.Value!).Select(t => TensorProtoCodec.Encode(t, null))); break;
            case AttributeKind.Graphs: p.Graphs.AddRange(((Graph[])a.Value!).Select(WriteGraph)); break;
            case AttributeKind.SparseTensor: p.SparseTensor = SparseTensorProto.Parser.ParseFrom(((byte[][])a.Value!)[0]); break;
            case AttributeKind.SparseTensors: p.SparseTensors.AddRange(((byte[][])a.Value!).Select(SparseTensorProto.Parser.ParseFrom)); break;
            case AttributeKind.TypeProto: p.Tp = TypeProto.Parser.ParseFrom(((byte[][])a.Value!)[0]); break;
            case AttributeKind.TypeProtos: p.TypeProtos.AddRange(((byte[][])a.Value!).Select(TypeProto.Parser.ParseFrom)); break;
        }
        return p;
    }

    private static ValueInfoProto WriteValueInfo(ValueInfo v)
    {
        var p = new ValueInfoProto { Name = v.Name };
        if (v.DocString is not null) p.DocString = v.DocString;
        if (v.NonTensorType is not null)
        {
            p.Type = TypeProto.Parser.ParseFrom(v.NonTensorType);
            return p;
        }
        if (v.ElementType == DataType.Undefined && v.Shape is null) return p;
        var tt = new TypeProto.Types.Tensor();
        if (v.ElementType != DataType.Undefined) tt.ElemType = (int)v.ElementType;
        if (v.Shape is not null)
        {
            tt.Shape = new TensorShapeProto();
            foreach (var d in v.Shape)
            {
                var dp = new TensorShapeProto.Types.Dimension();
                if (d.IsKnown) dp.DimValue = d.Value;
                else if (d.Symbol != ProtoReader.UnknownDimSymbol) dp.DimParam = d.Value == 1 ? d.Symbol! : d.ToString();
                tt.Shape.Dim.Add(dp);
            }
        }
        p.Type = new TypeProto { TensorType = tt };
        return p;
    }
}
