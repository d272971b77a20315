using System;
using System.Linq;
using CompressBuild.Plan;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CompressBuild.Generator.Models
{
    /// <summary>
    /// A diagnostic as data (equatable, no <see cref="Location"/> object), so it can flow through the
    /// incremental pipeline and be cached; <see cref="ToDiagnostic"/> builds the real one at output.
    /// </summary>
    /// <param name="Descriptor">What it is.</param>
    /// <param name="FilePath">File the location points into (a plan or weights file), or empty.</param>
    /// <param name="Line">0-based line in that file, or -1 for no line.</param>
    /// <param name="Arguments">Message arguments.</param>
    internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, string FilePath, int Line, EquatableArray<string> Arguments)
    {
        /// <summary>Creates the info; <paramref name="line"/> is 1-based (0 or less: no line).</summary>
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, string filePath, int line, params string[] arguments) =>
            new(descriptor, filePath, line - 1, arguments.ToEquatableArray());

        /// <summary>The Roslyn diagnostic.</summary>
        public Diagnostic ToDiagnostic()
        {
            var location = FilePath.Length == 0
                ? Location.None
                : Location.Create(FilePath, default, new LinePositionSpan(new LinePosition(Math.Max(Line, 0), 0), new LinePosition(Math.Max(Line, 0), 0)));
            return Diagnostic.Create(Descriptor, location, Arguments.Cast<object>().ToArray());
        }
    }
}
