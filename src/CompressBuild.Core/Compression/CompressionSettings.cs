using CompressBuild.Plan;
using System.Globalization;

namespace CompressBuild.Core.Compression;

/// <summary>
/// The settings of contract section 2, parsed and validated. Every unknown name or malformed
/// value is a CB6001 error naming the model, the setting and the value, with the accepted values.
/// </summary>
public sealed record CompressionSettings
{
    /// <summary>Every setting name of the contract, in contract order.</summary>
    public static readonly IReadOnlyList<string> Names = new[]
    {
        "ClassName", "Namespace", "Quantize", "Activations", "Granularity", "Calibration", "Prune", "PruneStructure",
        "LowRank", "Student", "CalibrationData", "TrainingData", "EvaluationData", "TrainingLabels", "EvaluationLabels",
        "DataScale", "MaxAccuracyDrop", "Target", "Seed",
    };

    /// <summary>Generated class name (default: the model file name in PascalCase).</summary>
    public string ClassName { get; init; } = "";

    /// <summary>Generated namespace.</summary>
    public string Namespace { get; init; } = "";

    /// <summary>none, fp16, int8, int4, int2.</summary>
    public string Quantize { get; init; } = "none";

    /// <summary>float or int8.</summary>
    public string Activations { get; init; } = "float";

    /// <summary>per-channel or per-tensor.</summary>
    public string Granularity { get; init; } = "per-channel";

    /// <summary>minmax, percentile, entropy, mse.</summary>
    public string Calibration { get; init; } = "minmax";

    /// <summary>Percentile of |activation| kept by <c>percentile</c> calibration (<c>percentile:99.9</c>; default 99.99).</summary>
    public double CalibrationPercentile { get; init; } = 99.99;

    /// <summary>Fraction of weights removed, 0 .. 0.99.</summary>
    public double Prune { get; init; }

    /// <summary>unstructured, 2:4, channel, layer.</summary>
    public string PruneStructure { get; init; } = "unstructured";

    /// <summary>Kept fraction of parameters in factorized layers (0 = off), or null for auto.</summary>
    public double? LowRank { get; init; }

    /// <summary>True when LowRank is <c>auto</c>.</summary>
    public bool LowRankAuto { get; init; }

    /// <summary>Student model path or width factor (empty = no distillation).</summary>
    public string Student { get; init; } = "";

    /// <summary>Calibration inputs (file, folder or glob).</summary>
    public string CalibrationData { get; init; } = "";

    /// <summary>Training inputs.</summary>
    public string TrainingData { get; init; } = "";

    /// <summary>Evaluation inputs.</summary>
    public string EvaluationData { get; init; } = "";

    /// <summary>Training labels.</summary>
    public string TrainingLabels { get; init; } = "";

    /// <summary>Evaluation labels.</summary>
    public string EvaluationLabels { get; init; } = "";

    /// <summary>Multiplier of raw inputs; null = 1/255 for uint8 data, 1 for float data.</summary>
    public double? DataScale { get; init; }

    /// <summary>Accuracy-aware tuning bound in percentage points, or null.</summary>
    public double? MaxAccuracyDrop { get; init; }

    /// <summary>generic, x64-avx2, x64-avx512, arm64, scalar.</summary>
    public string Target { get; init; } = "generic";

    /// <summary>Seed of every random choice.</summary>
    public int Seed { get; init; }

    private static readonly string[] QuantizeValues = { "none", "fp16", "int8", "int4", "int2" };
    private static readonly string[] ActivationValues = { "float", "int8" };
    private static readonly string[] GranularityValues = { "per-channel", "per-tensor" };
    private static readonly string[] CalibrationValues = { "minmax", "percentile", "entropy", "mse" };
    private static readonly string[] PruneStructureValues = { "unstructured", "2:4", "channel", "layer" };
    private static readonly string[] TargetValues = { "generic", "x64-avx2", "x64-avx512", "arm64", "scalar" };

    /// <summary>
    /// Parses settings given by name (case-insensitive; empty values mean "default").
    /// <paramref name="model"/> names the model in messages.
    /// </summary>
    public static CompressionSettings Parse(IEnumerable<KeyValuePair<string, string>> values, string model)
    {
        var s = new CompressionSettings();
        foreach (var (rawName, rawValue) in values)
        {
            string name = Names.FirstOrDefault(n => string.Equals(n, rawName.Replace("-", ""), StringComparison.OrdinalIgnoreCase))
                ?? throw Invalid(model, $"unknown setting '{rawName}'; settings are {string.Join(", ", Names)}");
            string value = rawValue.Trim();
            if (value.Length == 0) continue;
            s = name switch
            {
                "ClassName" => s with { ClassName = Identifier(model, name, value) },
                "Namespace" => s with { Namespace = NamespaceValue(model, value) },
                "Quantize" => s with { Quantize = OneOf(model, name, value, QuantizeValues) },
                "Activations" => s with { Activations = OneOf(model, name, value, ActivationValues) },
                "Granularity" => s with { Granularity = OneOf(model, name, value, GranularityValues) },
                "Calibration" => CalibrationValue(s, model, value),
                "Prune" => s with { Prune = Number(model, name, value, 0, 0.99) },
                "PruneStructure" => s with { PruneStructure = OneOf(model, name, value, PruneStructureValues) },
                "LowRank" => value.Equals("auto", StringComparison.OrdinalIgnoreCase)
                    ? s with { LowRankAuto = true, LowRank = null }
                    : s with { LowRank = Number(model, name, value, 0, 1), LowRankAuto = false },
                "Student" => s with { Student = value },
                "CalibrationData" => s with { CalibrationData = value },
                "TrainingData" => s with { TrainingData = value },
                "EvaluationData" => s with { EvaluationData = value },
                "TrainingLabels" => s with { TrainingLabels = value },
                "EvaluationLabels" => s with { EvaluationLabels = value },
                "DataScale" => s with { DataScale = Number(model, name, value, double.Epsilon, double.MaxValue) },
                "MaxAccuracyDrop" => s with { MaxAccuracyDrop = Number(model, name, value, 0, 100) },
                "Target" => s with { Target = OneOf(model, name, value, TargetValues) },
                "Seed" => s with { Seed = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed) ? seed : throw Invalid(model, $"Seed='{value}' is not an integer") },
                _ => s,
            };
        }
        return s;
    }

    // "percentile:99.9" configures the percentile; the other methods take no parameter.
    private static CompressionSettings CalibrationValue(CompressionSettings s, string model, string value)
    {
        int colon = value.IndexOf(':');
        string method = OneOf(model, "Calibration", colon < 0 ? value : value[..colon], CalibrationValues);
        if (colon < 0) return s with { Calibration = method };
        if (method != "percentile")
            throw Invalid(model, $"Calibration='{value}': only percentile takes a parameter (e.g. percentile:99.9)");
        return s with { Calibration = method, CalibrationPercentile = Number(model, "Calibration percentile", value[(colon + 1)..], 50, 100) };
    }

    private static CompressBuildException Invalid(string model, string what) =>
        new(ErrorCodes.InvalidSetting, $"{model}: {what}.");

    private static string OneOf(string model, string name, string value, string[] allowed) =>
        allowed.FirstOrDefault(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase))
        ?? throw Invalid(model, $"{name}='{value}' is not valid; use one of {string.Join(", ", allowed)}");

    private static double Number(string model, string name, string value, double min, double max)
    {
        double v;
        int slash = value.IndexOf('/');
        bool ok = slash > 0
            ? double.TryParse(value[..slash], NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
              & double.TryParse(value[(slash + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double b)
              & (v = b == 0 ? double.NaN : a / b) == v
            : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out v);
        if (!ok || !double.IsFinite(v) || v < min || v > max)
            throw Invalid(model, $"{name}='{value}' is not a number in [{min.ToString(CultureInfo.InvariantCulture)}, {(max == double.MaxValue ? "∞" : max.ToString(CultureInfo.InvariantCulture))}]");
        return v;
    }

    private static string Identifier(string model, string name, string value) =>
        CSharpNames.IsIdentifier(value) ? value : throw Invalid(model, $"{name}='{value}' is not a C# identifier (letters, digits and _, not starting with a digit, not a keyword)");

    private static string NamespaceValue(string model, string value) =>
        CSharpNames.IsNamespace(value) ? value : throw Invalid(model, $"Namespace='{value}' is not a C# namespace (identifiers separated by dots)");
}
