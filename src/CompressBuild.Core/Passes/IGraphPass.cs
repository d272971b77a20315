namespace CompressBuild.Core.Passes;

/// <summary>
/// A graph rewrite that preserves the model's outputs. Passes are small, independent classes;
/// <see cref="PassPipeline"/> groups them and repeats them until nothing changes.
/// </summary>
public interface IGraphPass
{
    /// <summary>Short name for logs and reports, e.g. <c>fold-constants</c>.</summary>
    string Name { get; }

    /// <summary>Applies the pass once; returns how many rewrites it made (0 = nothing changed).</summary>
    int Run(Model model);
}
