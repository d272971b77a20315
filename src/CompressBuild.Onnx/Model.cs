namespace CompressBuild.Onnx;

/// <summary>An ONNX model: metadata, operator set imports and the main graph.</summary>
public sealed class Model
{
    /// <summary>The default ONNX operator domain, as written in models (empty string).</summary>
    public const string DefaultDomain = "";

    /// <summary>Creates a model around a graph.</summary>
    public Model(Graph graph) => Graph = graph;

    /// <summary>The ONNX IR version the file declares.</summary>
    public long IrVersion { get; set; } = 8;

    /// <summary>Imported operator sets: domain to version. The default domain is "".</summary>
    public OrderedDictionary<string, long> OpsetImports { get; } = new(StringComparer.Ordinal);

    /// <summary>Tool that produced the model.</summary>
    public string? ProducerName { get; set; }

    /// <summary>Version of that tool.</summary>
    public string? ProducerVersion { get; set; }

    /// <summary>Model domain (reverse-DNS naming).</summary>
    public string? Domain { get; set; }

    /// <summary>The model's version number.</summary>
    public long ModelVersion { get; set; }

    /// <summary>Documentation.</summary>
    public string? DocString { get; set; }

    /// <summary>Metadata key/value pairs in file order.</summary>
    public List<KeyValuePair<string, string>> Metadata { get; } = new();

    /// <summary>The main graph.</summary>
    public Graph Graph { get; set; }

    /// <summary>Serialized FunctionProto and TrainingInfoProto entries, kept for round trips.</summary>
    public List<byte[]> OpaqueFunctions { get; } = new();

    /// <summary>Serialized TrainingInfoProto entries, kept for round trips.</summary>
    public List<byte[]> OpaqueTrainingInfo { get; } = new();

    /// <summary>The opset version of the default ONNX domain (0 if not imported).</summary>
    public int Opset => OpsetImports.TryGetValue(DefaultDomain, out long v) ? (int)v
        : OpsetImports.TryGetValue("ai.onnx", out v) ? (int)v : 0;

    /// <summary>The file this model was read from, if any (for messages and external data).</summary>
    public string? SourcePath { get; set; }

    /// <summary>A name for messages: the file name, else "the model".</summary>
    public string DisplayName => SourcePath is null ? "the model" : Path.GetFileName(SourcePath);
}
