using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CompressBuild.Core.Compression;

/// <summary>The report of contract section 5, written as <c>.report.json</c> and <c>.report.md</c>.</summary>
public sealed record CompressionReport
{
    /// <summary>Original model file name.</summary>
    [JsonPropertyName("model")] public string Model { get; init; } = "";

    /// <summary>Generated class.</summary>
    [JsonPropertyName("class_name")] public string ClassName { get; init; } = "";

    /// <summary>One-line summary of what was applied.</summary>
    [JsonPropertyName("compression")] public string Compression { get; init; } = "";

    /// <summary>Bytes of the original model's weights (initializers as stored).</summary>
    [JsonPropertyName("original_bytes")] public long OriginalBytes { get; init; }

    /// <summary>Bytes of the compressed weights as embedded in the assembly.</summary>
    [JsonPropertyName("compressed_bytes")] public long CompressedBytes { get; init; }

    /// <summary>Size of the original .onnx file.</summary>
    [JsonPropertyName("original_file_bytes")] public long OriginalFileBytes { get; init; }

    /// <summary>Size of the compressed .onnx file.</summary>
    [JsonPropertyName("compressed_file_bytes")] public long CompressedFileBytes { get; init; }

    /// <summary>Weight and bias elements.</summary>
    [JsonPropertyName("parameters")] public long Parameters { get; init; }

    /// <summary>Nonzero weight and bias elements.</summary>
    [JsonPropertyName("nonzero_parameters")] public long NonzeroParameters { get; init; }

    /// <summary>Activation memory the generated class reserves.</summary>
    [JsonPropertyName("arena_bytes")] public long ArenaBytes { get; init; }

    /// <summary>Multiply-accumulates per sample.</summary>
    [JsonPropertyName("macs")] public long Macs { get; init; }

    /// <summary>Where the weights live in the assembly: literal or resource.</summary>
    [JsonPropertyName("weight_storage")] public string WeightStorage { get; init; } = "";

    /// <summary>Kernel target.</summary>
    [JsonPropertyName("target")] public string Target { get; init; } = "";

    /// <summary>One entry per layer with weights.</summary>
    [JsonPropertyName("layers")] public IReadOnlyList<LayerReport> Layers { get; init; } = Array.Empty<LayerReport>();

    /// <summary>What was applied, in order.</summary>
    [JsonPropertyName("steps")] public IReadOnlyList<string> Steps { get; init; } = Array.Empty<string>();

    /// <summary>Original vs compressed quality, when evaluation data was given (else null).</summary>
    [JsonPropertyName("metrics")] public ReportMetrics? Metrics { get; init; }

    /// <summary>Checks of the compressed model against ONNX Runtime and the original.</summary>
    [JsonPropertyName("verification")] public IReadOnlyList<string> Verification { get; init; } = Array.Empty<string>();

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The JSON text (\n line endings, stable property order).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json).Replace("\r\n", "\n") + "\n";

    /// <summary>The Markdown text for people.</summary>
    public string ToMarkdown()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"# {ClassName}: compression report\n\n");
        sb.Append(inv, $"Model `{Model}` → class `{ClassName}`: {Compression}.\n\n");
        sb.Append("| | original | compressed |\n|---|---:|---:|\n");
        sb.Append(inv, $"| weight bytes | {OriginalBytes:N0} | {CompressedBytes:N0} ({(OriginalBytes == 0 ? 0 : 100.0 * CompressedBytes / OriginalBytes):F1}%) |\n");
        sb.Append(inv, $"| .onnx file bytes | {OriginalFileBytes:N0} | {CompressedFileBytes:N0} |\n");
        sb.Append(inv, $"| parameters (nonzero) | {Parameters:N0} | {NonzeroParameters:N0} |\n");
        if (Metrics is { } m)
            foreach (var (name, original) in m.Original)
                sb.Append(inv, $"| {name} | {original:F4} | {(m.Compressed.TryGetValue(name, out var c) ? c.ToString("F4", inv) : "")} |\n");
        sb.Append(inv, $"\nArena {ArenaBytes:N0} bytes, {Macs:N0} MACs per sample, weights as {WeightStorage}, target {Target}.\n\n");
        bool quant = Layers.Any(l => l.ScaleMin is not null || l.SqnrDb is not null || l.Sensitivity is not null);
        sb.Append("## Layers\n\n| layer | op | weight shape | bits | sparsity | bytes |");
        sb.Append(quant ? " scales | SQNR dB | sensitivity (pt) |\n|---|---|---|---:|---:|---:|---|---:|---:|\n" : "\n|---|---|---|---:|---:|---:|\n");
        foreach (var l in Layers)
        {
            sb.Append(inv, $"| {l.Name} | {l.Op} | [{string.Join(",", l.Shape)}] | {l.Bits} | {l.Sparsity:P1} | {l.Bytes:N0} |");
            if (quant)
                sb.Append(inv, $" {(l.ScaleMin is { } a ? $"{a:G3} .. {l.ScaleMax:G3}" : "")} | {(l.SqnrDb is { } q ? q.ToString("F1", inv) : "")} | {(l.Sensitivity is { } d ? d.ToString("F2", inv) : "")} |");
            sb.Append('\n');
        }
        sb.Append("\n## Steps\n\n");
        foreach (var s in Steps) sb.Append("- ").Append(s).Append('\n');
        if (Verification.Count > 0)
        {
            sb.Append("\n## Verification\n\n");
            foreach (var v in Verification) sb.Append("- ").Append(v).Append('\n');
        }
        return sb.ToString();
    }
}

/// <summary>One layer with weights.</summary>
public sealed record LayerReport(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("shape")] IReadOnlyList<int> Shape,
    [property: JsonPropertyName("bits")] int Bits,
    [property: JsonPropertyName("sparsity")] double Sparsity,
    [property: JsonPropertyName("bytes")] long Bytes)
{
    /// <summary>Smallest and largest weight scale of a quantized layer (null when not quantized).</summary>
    [JsonPropertyName("scale_min")] public double? ScaleMin { get; init; }

    /// <summary>Largest weight scale of a quantized layer.</summary>
    [JsonPropertyName("scale_max")] public double? ScaleMax { get; init; }

    /// <summary>Signal-to-quantization-noise ratio of the layer's output vs float, in dB, on calibration data.</summary>
    [JsonPropertyName("sqnr_db")] public double? SqnrDb { get; init; }

    /// <summary>Metric drop in points when this layer alone is quantized (mixed precision), else null.</summary>
    [JsonPropertyName("sensitivity")] public double? Sensitivity { get; init; }
}

/// <summary>Metrics of the original and the compressed model by name (top1, agreement, max_abs_error, ...).</summary>
public sealed record ReportMetrics(
    [property: JsonPropertyName("original")] IReadOnlyDictionary<string, double> Original,
    [property: JsonPropertyName("compressed")] IReadOnlyDictionary<string, double> Compressed);
