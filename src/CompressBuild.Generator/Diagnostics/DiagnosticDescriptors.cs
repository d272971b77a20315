using Microsoft.CodeAnalysis;

namespace CompressBuild.Generator.Diagnostics
{
    /// <summary>
    /// Every diagnostic the predictor generator reports, with its stable id (CB7001…). Messages name
    /// the plan file and say what to do.
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "CompressBuild";

        /// <summary>The plan text does not parse; the message carries the line.</summary>
        public static readonly DiagnosticDescriptor MalformedPlan = new(
            "CB7001", "Malformed CompressBuild plan",
            "CompressBuild plan '{0}' is malformed: {1}. Rebuild so the engine rewrites it.",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>The plan's format version is not the one this generator reads.</summary>
        public static readonly DiagnosticDescriptor UnsupportedPlanVersion = new(
            "CB7002", "Unsupported CompressBuild plan format version",
            "CompressBuild plan '{0}' has format version {1}, but this generator reads format {2}: the engine and the generator come from different CompressBuild versions. Use one CompressBuild package version and rebuild.",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>The literal weights file named by the plan is not an AdditionalFile.</summary>
        public static readonly DiagnosticDescriptor WeightsFileMissing = new(
            "CB7003", "CompressBuild weights file missing",
            "CompressBuild plan '{0}' needs its weights file '{1}' as an AdditionalFile in the same folder, but it is not there. Add it (the CompressBuild targets do this for CompressModel items) or rebuild.",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>The weights file's SHA-256 differs from the plan's.</summary>
        public static readonly DiagnosticDescriptor WeightsHashMismatch = new(
            "CB7004", "CompressBuild weights do not match the plan",
            "CompressBuild weights file '{1}' does not match plan '{0}': {2}. The two come from different compressions; rebuild so the engine rewrites both.",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>A step uses an op, or an attribute value, the emitter does not support yet.</summary>
        public static readonly DiagnosticDescriptor UnsupportedStep = new(
            "CB7005", "Operator not supported by generated predictors",
            "CompressBuild plan '{0}', step {1} ({2} '{3}'): {4}. Generated predictors do not support this yet; the model can still be run with the engine.",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>The class name or namespace is not valid C#.</summary>
        public static readonly DiagnosticDescriptor InvalidName = new(
            "CB7006", "Invalid generated class name or namespace",
            "CompressBuild plan '{0}': '{1}' is not a valid C# {2}. Set the ClassName/Namespace metadata of the CompressModel item to a valid {2}.",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>Two plans generate the same class.</summary>
        public static readonly DiagnosticDescriptor DuplicateClass = new(
            "CB7007", "Two CompressBuild plans generate the same class",
            "CompressBuild plans '{0}' and '{1}' both generate class '{2}'; only the first is generated. Give the CompressModel items different ClassName or Namespace metadata.",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>Resource weights are copied because the project does not allow unsafe code.</summary>
        public static readonly DiagnosticDescriptor WeightsCopied = new(
            "CB7008", "CompressBuild weights are copied into memory",
            "CompressBuild plan '{0}': the project does not allow unsafe code, so the predictor copies its {1} bytes of embedded weights into memory once instead of reading them in place. Set AllowUnsafeBlocks to true for zero-copy weights.",
            Category, DiagnosticSeverity.Info, isEnabledByDefault: true);

        /// <summary>The compilation cannot host generated predictors (framework or language version).</summary>
        public static readonly DiagnosticDescriptor UnsupportedCompilation = new(
            "CB7009", "Generated predictors need .NET 8 and C# 11",
            "CompressBuild plan '{0}' cannot be generated here: {1}. Generated predictors need a target framework of net8.0 or later and C# 11 or later.",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
    }
}
