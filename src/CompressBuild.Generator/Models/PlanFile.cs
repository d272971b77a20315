namespace CompressBuild.Generator.Models
{
    /// <summary>An AdditionalFile that is a CompressBuild plan: its path and text (plans are small; weights never travel here).</summary>
    /// <param name="Path">Full path.</param>
    /// <param name="Text">Content.</param>
    internal sealed record PlanFile(string Path, string Text);
}
