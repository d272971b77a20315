using System;
using System.Collections.Generic;

namespace CompressBuild.Tasks
{
    /// <summary>The settings of contract section 2, as CompressModel metadata names.</summary>
    internal static class Settings
    {
        /// <summary>
        /// Every setting name, in contract order. Each is a metadata name of CompressModel, a
        /// <c>CompressBuild&lt;Name&gt;</c> property, and a <c>--&lt;Name&gt;</c> option of the engine.
        /// </summary>
        public static readonly IReadOnlyList<string> Names = new[]
        {
            "ClassName", "Namespace", "Quantize", "Activations", "Granularity", "Calibration", "Prune", "PruneStructure",
            "LowRank", "Student", "CalibrationData", "TrainingData", "EvaluationData", "TrainingLabels", "EvaluationLabels",
            "DataScale", "MaxAccuracyDrop", "Target", "Seed",
        };

        /// <summary>Settings whose values name files, folders or globs the compression reads.</summary>
        public static readonly IReadOnlyList<string> FileSettings = new[]
        {
            "Student", "CalibrationData", "TrainingData", "EvaluationData", "TrainingLabels", "EvaluationLabels",
        };

        /// <summary>
        /// The CompressModel metadata name of a setting: the setting's name, except <c>Target</c>, which
        /// MSBuild reserves (no item may have a "Target" metadata in XML): it is <c>KernelTarget</c>.
        /// The project-wide property keeps the contract's name, <c>CompressBuildTarget</c>.
        /// </summary>
        public static string MetadataName(string setting) => setting == "Target" ? "KernelTarget" : setting;

        /// <summary>Compares setting names as the engine does (case-insensitive).</summary>
        public static readonly StringComparer NameComparer = StringComparer.OrdinalIgnoreCase;
    }
}
