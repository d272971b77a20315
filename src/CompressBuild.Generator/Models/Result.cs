using CompressBuild.Plan;

namespace CompressBuild.Generator.Models
{
    /// <summary>A value or the diagnostics explaining why there is none (errors as data).</summary>
    /// <typeparam name="T">An equatable value type.</typeparam>
    /// <param name="Value">The value, or null when <paramref name="Diagnostics"/> has an error.</param>
    /// <param name="Diagnostics">Diagnostics (errors, or information that does not prevent the value).</param>
    internal sealed record Result<T>(T? Value, EquatableArray<DiagnosticInfo> Diagnostics) where T : class;
}
