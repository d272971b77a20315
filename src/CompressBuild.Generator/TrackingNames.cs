namespace CompressBuild.Generator
{
    /// <summary>Names of the incremental pipeline steps, for caching tests (<c>WithTrackingName</c>).</summary>
    internal static class TrackingNames
    {
        /// <summary>AdditionalFiles recognized as plans, with their text.</summary>
        public const string PlanFiles = nameof(PlanFiles);

        /// <summary>Parsed and validated plans (spec or diagnostics).</summary>
        public const string ParsedPlans = nameof(ParsedPlans);

        /// <summary>Valid specs.</summary>
        public const string Specs = nameof(Specs);

        /// <summary>Facts about the compilation (framework, language, unsafe).</summary>
        public const string CompilationFacts = nameof(CompilationFacts);

        /// <summary>Specs paired with their weights AdditionalText.</summary>
        public const string EmitInputs = nameof(EmitInputs);

        /// <summary>Diagnostics about weights files (missing, hash mismatch).</summary>
        public const string WeightsChecks = nameof(WeightsChecks);

        /// <summary>The runtime kernel files the plans need (hint names).</summary>
        public const string RuntimeNeeded = nameof(RuntimeNeeded);

        /// <summary>Duplicate class diagnostics.</summary>
        public const string Duplicates = nameof(Duplicates);
    }
}
