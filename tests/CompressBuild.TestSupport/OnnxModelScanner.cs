using Google.Protobuf;

namespace CompressBuild.TestSupport;

/// <summary>
/// Reads just the node op types and domains of a model with a raw protobuf walk, independent of the
/// engine's loader (so a model the loader refuses is still classified).
/// </summary>
public static class OnnxModelScanner
{
    /// <summary>Distinct op types and domains of the main graph's nodes, or null when the bytes are not a model.</summary>
    public static (IReadOnlyList<string> Ops, IReadOnlyList<string> Domains)? Scan(byte[] model)
    {
        try
        {
            var ops = new SortedSet<string>(StringComparer.Ordinal);
            var domains = new SortedSet<string>(StringComparer.Ordinal);
            var input = new CodedInputStream(model);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) == 7 && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                    ScanGraph(input.ReadBytes(), ops, domains);
                else input.SkipLastField();
            }
            return (ops.ToList(), domains.ToList());
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static void ScanGraph(ByteString graph, ISet<string> ops, ISet<string> domains)
    {
        var input = new CodedInputStream(graph.ToByteArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1 && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                var node = new CodedInputStream(input.ReadBytes().ToByteArray());
                string op = "", domain = "";
                uint t;
                while ((t = node.ReadTag()) != 0)
                {
                    int field = WireFormat.GetTagFieldNumber(t);
                    if (field == 4) op = node.ReadString();
                    else if (field == 7) domain = node.ReadString();
                    else node.SkipLastField();
                }
                ops.Add(op);
                domains.Add(domain);
            }
            else input.SkipLastField();
        }
    }
}
