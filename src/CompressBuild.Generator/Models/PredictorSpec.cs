using CompressBuild.Plan;

namespace CompressBuild.Generator.Models
{
    /// <summary>
    /// Everything the emitter needs for one predictor class: the plan itself (an equatable record)
    /// plus generator facts. Weights are referred to by path and hash (in the plan), never held, so
    /// the incremental cache compares small values. Holds no Compilation or ISymbol.
    /// </summary>
    /// <param name="Plan">The parsed, validated plan.</param>
    /// <param name="PlanPath">Full path of the plan file (for diagnostics and comments).</param>
    /// <param name="WeightsPath">Full path of the literal weights file (<c>.b64</c>) expected beside the plan; empty for resource storage.</param>
    /// <param name="HintName">Hint name of the generated file.</param>
    internal sealed record PredictorSpec(ModelPlan Plan, string PlanPath, string WeightsPath, string HintName)
    {
        /// <summary>Fully qualified class name (for messages and duplicate detection).</summary>
        public string FullName => Plan.Namespace.Length == 0 ? Plan.ClassName : Plan.Namespace + "." + Plan.ClassName;
    }
}
