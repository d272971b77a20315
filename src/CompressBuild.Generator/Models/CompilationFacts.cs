namespace CompressBuild.Generator.Models
{
    /// <summary>What the generator needs to know about the consuming compilation (equatable, no Compilation kept).</summary>
    /// <param name="Problem">Why predictors cannot be generated here (framework or language too old), or empty.</param>
    /// <param name="AllowUnsafe">True when unsafe code is allowed (resource weights are then read in place).</param>
    internal sealed record CompilationFacts(string Problem, bool AllowUnsafe);
}
