using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using CompressBuild.Generator.Diagnostics;
using CompressBuild.Generator.Models;
using CompressBuild.Generator.Ops;
using CompressBuild.Plan;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CompressBuild.Generator
{
    public sealed partial class PredictorGenerator
    {
        /// <summary>
        /// Plan text → <see cref="PredictorSpec"/> or diagnostics. Validates everything the emitter
        /// relies on (format, names, buffers, constants, and every step's lowering), so the emitter
        /// never meets a plan it cannot turn into compiling code.
        /// </summary>
        internal static class Parser
        {
            /// <summary>AdditionalFiles metadata that marks a plan (set by the CompressBuild targets).</summary>
            public const string PlanMetadata = "build_metadata.AdditionalFiles.CompressBuildPlan";

            private const string Magic = "compressbuild-plan";

            /// <summary>Kernel targets a plan may name.</summary>
            public static readonly string[] Targets = { "generic", "x64-avx2", "x64-avx512", "arm64", "scalar" };

            /// <summary>
            /// The plan behind an AdditionalFile, or null when the file is not a plan: files marked
            /// <c>CompressBuildPlan=true</c> are always plans; unmarked <c>*.plan</c> files only when
            /// they start with the plan header; <c>CompressBuildPlan=false</c> opts out.
            /// </summary>
            public static PlanFile? ReadPlanFile(AdditionalText file, AnalyzerConfigOptions options, CancellationToken cancellationToken)
            {
                options.TryGetValue(PlanMetadata, out var marker);
                bool marked = string.Equals(marker, "true", StringComparison.OrdinalIgnoreCase);
                if (!marked && marker is { Length: > 0 }) return null;
                string text = file.GetText(cancellationToken)?.ToString() ?? "";
                if (!marked && !text.TrimStart().StartsWith(Magic, StringComparison.Ordinal)) return null;
                return new PlanFile(file.Path, text);
            }

            /// <summary>Parses and validates a plan; never throws (a generator bug becomes a CB7001 naming the plan, not a failed build step).</summary>
            public static Result<PredictorSpec> Parse(PlanFile file, CancellationToken cancellationToken)
            {
                try
                {
                    return ParseCore(file, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.MalformedPlan, file.Path, 0, Path.GetFileName(file.Path),
                        $"the generator could not process it ({e.GetType().Name}: {e.Message})"));
                }
            }

            private static Result<PredictorSpec> ParseCore(PlanFile file, CancellationToken cancellationToken)
            {
                string name = Path.GetFileName(file.Path);
                var lines = new RecordLines(file.Text);
                if (ReadVersion(file.Text) is (int version, int line) && version != ModelPlan.FormatVersion)
                    return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedPlanVersion, file.Path, line, name,
                        version.ToString(CultureInfo.InvariantCulture), ModelPlan.FormatVersion.ToString(CultureInfo.InvariantCulture)));
                ModelPlan plan;
                try
                {
                    plan = PlanText.Parse(file.Text);
                }
                catch (PlanFormatException e)
                {
                    return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.MalformedPlan, file.Path, e.Line, name, e.Message));
                }
                catch (Exception e) when (e is OverflowException or FormatException or ArgumentException)
                {
                    return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.MalformedPlan, file.Path, 0, name, e.Message));
                }

                var errors = new List<DiagnosticInfo>();
                void Malformed(string record, string message) =>
                    errors.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MalformedPlan, file.Path, lines.First(record), name, message));

                if (!IsTypeName(plan.ClassName))
                    errors.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, file.Path, lines.First("class"), name, plan.ClassName, "class name"));
                if (plan.Namespace.Length > 0 && !plan.Namespace.Split('.').All(IsIdentifier))
                    errors.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, file.Path, lines.First("namespace"), name, plan.Namespace, "namespace"));
                if (Array.IndexOf(Targets, plan.Target) < 0)
                    Malformed("target", $"target '{plan.Target}' is not one of {string.Join(", ", Targets)}");
                if (plan.Weights.Storage == WeightStorage.Literal && (plan.Weights.File.Length == 0 || plan.Weights.File.IndexOfAny(new[] { '/', '\\' }) >= 0))
                    Malformed("weights", $"literal weights need a file name beside the plan, not '{plan.Weights.File}'");
                if (plan.Weights.Storage == WeightStorage.Resource && plan.Weights.ResourceName.Length == 0)
                    Malformed("weights", "resource weights need a resource name");
                if (plan.Weights.Bytes < 0 || plan.Weights.Bytes > int.MaxValue) Malformed("weights", $"{plan.Weights.Bytes} weight bytes");
                if (plan.ArenaBytes < 0 || plan.ArenaBytes > int.MaxValue / 2) Malformed("arena", $"{plan.ArenaBytes} arena bytes");

                var buffers = new HashSet<string>(StringComparer.Ordinal);
                foreach (var b in plan.Buffers)
                {
                    if (!buffers.Add(b.Id)) Malformed("buffer", $"buffer '{b.Id}' is declared twice");
                    if (!IsKnownType(b.ElementType)) Malformed("buffer", $"buffer '{b.Id}' has unknown element type '{b.ElementType}'");
                    else if (b.Offset < 0 || b.Length < 0 || b.Offset + (long)b.Length * PlanTypes.Size(b.ElementType) > plan.ArenaBytes)
                        Malformed("buffer", $"buffer '{b.Id}' ({b.Length} x {b.ElementType} at {b.Offset}) does not fit the {plan.ArenaBytes}-byte arena");
                }
                foreach (var c in plan.Constants)
                    if (c.Offset < 0 || c.Bytes < 0 || c.Offset + c.Bytes > plan.Weights.Bytes)
                        Malformed("const", $"constant '{c.Id}' ({c.Bytes} bytes at {c.Offset}) lies outside the {plan.Weights.Bytes}-byte weight blob");
                if (plan.Inputs.Count == 0 || plan.Outputs.Count == 0) Malformed("input", "a plan needs at least one input and one output");
                var identifiers = new HashSet<string>(StringComparer.Ordinal);
                foreach (var v in plan.Inputs.Concat(plan.Outputs))
                {
                    string record = plan.Inputs.Contains(v) ? "input" : "output";
                    if (!IsIdentifier(v.Identifier) || v.Identifier.StartsWith("__", StringComparison.Ordinal))
                        Malformed(record, $"'{v.Identifier}' (for '{v.Name}') is not a valid C# parameter name");
                    else if (!identifiers.Add(v.Identifier)) Malformed(record, $"parameter name '{v.Identifier}' is used twice");
                    if (!buffers.Contains(v.Buffer)) Malformed(record, $"'{v.Name}' refers to unknown buffer '{v.Buffer}'");
                    else if (plan.Buffers.First(b => b.Id == v.Buffer) is var vb && (vb.ElementType != v.ElementType || vb.Length < Lit.Product(v.Shape)))
                        Malformed(record, $"'{v.Name}' ({v.ElementType} {Lit.Shape(v.Shape)}) does not fit buffer '{v.Buffer}'");
                }
                if (errors.Count > 0) return Fail(errors.ToArray());

                for (int k = 0; k < plan.Steps.Count; k++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var step = plan.Steps[k];
                    try
                    {
                        OpTable.Lower(new StepInfo(plan, step, k));
                    }
                    catch (UnsupportedStepException e)
                    {
                        errors.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedStep, file.Path, lines.Step(k), name,
                            k.ToString(CultureInfo.InvariantCulture), step.Op, step.Name, e.Message));
                    }
                }
                if (errors.Count > 0) return Fail(errors.ToArray());

                string weightsPath = plan.Weights.Storage == WeightStorage.Literal
                    ? Path.Combine(Path.GetDirectoryName(file.Path) ?? "", plan.Weights.File)
                    : "";
                string hint = (plan.Namespace.Length > 0 ? plan.Namespace + "." : "") + plan.ClassName + ".g.cs";
                return new Result<PredictorSpec>(new PredictorSpec(plan, file.Path, weightsPath, hint), EquatableArray<DiagnosticInfo>.Empty);
            }

            private static Result<PredictorSpec> Fail(params DiagnosticInfo[] diagnostics) => new(null, diagnostics.ToEquatableArray());

            /// <summary>The version on the header line and the line's number, when the header is readable.</summary>
            private static (int Version, int Line)? ReadVersion(string text)
            {
                var lines = text.Split('\n');
                for (int i = 0; i < lines.Length; i++)
                {
                    string line = lines[i].Trim();
                    if (line.Length == 0) continue;
                    var parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length == 2 && parts[0] == Magic && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                        return (v, i + 1);
                    return null;
                }
                return null;
            }

            private static bool IsKnownType(string type)
            {
                try
                {
                    PlanTypes.Size(type);
                    return true;
                }
                catch (ArgumentException)
                {
                    return false;
                }
            }

            /// <summary>A C# identifier that is not a keyword.</summary>
            public static bool IsIdentifier(string s) =>
                s.Length > 0 && SyntaxFacts.IsValidIdentifier(s) && SyntaxFacts.GetKeywordKind(s) == SyntaxKind.None && s.IndexOf('@') < 0;

            /// <summary>An identifier usable as a type name without warnings (not all lower-case ASCII, CS8981; not 'record' or 'var').</summary>
            private static bool IsTypeName(string s) =>
                IsIdentifier(s) && s.Any(ch => ch is < 'a' or > 'z') && SyntaxFacts.GetContextualKeywordKind(s) == SyntaxKind.None;

            /// <summary>1-based line numbers of the plan's records, for diagnostic locations.</summary>
            private sealed class RecordLines
            {
                private readonly Dictionary<string, int> _first = new(StringComparer.Ordinal);
                private readonly List<int> _steps = new();

                public RecordLines(string text)
                {
                    var lines = text.Split('\n');
                    for (int i = 0; i < lines.Length; i++)
                    {
                        string line = lines[i].TrimStart();
                        int space = line.IndexOf(' ');
                        string kind = space < 0 ? line.Trim() : line.Substring(0, space);
                        if (kind.Length == 0) continue;
                        if (!_first.ContainsKey(kind)) _first[kind] = i + 1;
                        if (kind == "step") _steps.Add(i + 1);
                    }
                }

                public int First(string kind) => _first.TryGetValue(kind, out int line) ? line : 1;

                public int Step(int index) => index < _steps.Count ? _steps[index] : 1;
            }
        }
    }
}
