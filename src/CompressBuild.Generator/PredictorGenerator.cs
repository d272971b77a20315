using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using CompressBuild.Generator.Diagnostics;
using CompressBuild.Generator.Models;
using CompressBuild.Plan;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace CompressBuild.Generator
{
    /// <summary>
    /// Emits one typed predictor class per CompressBuild plan (an AdditionalFile <c>*.plan</c>,
    /// marked <c>CompressBuildPlan=true</c> by the build targets) and, once per compilation, the
    /// runtime kernel files the classes call.
    /// </summary>
    /// <remarks>
    /// Pipeline: plan files → <see cref="Parser"/> (spec or diagnostics, cached by value) → specs
    /// combined with their literal weights file only at the output step (weights are decoded there,
    /// never held in the pipeline) → <see cref="Emitter"/>. Source and diagnostics leave through
    /// separate outputs.
    /// </remarks>
    [Generator(LanguageNames.CSharp)]
    public sealed partial class PredictorGenerator : IIncrementalGenerator
    {
        /// <summary>Extension of plan files.</summary>
        public const string PlanExtension = ".plan";

        /// <summary>Extension of literal weights files.</summary>
        public const string LiteralWeightsExtension = ".weights.b64";

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var planFiles = context.AdditionalTextsProvider
                .Where(static t => t.Path.EndsWith(PlanExtension, StringComparison.OrdinalIgnoreCase))
                .Combine(context.AnalyzerConfigOptionsProvider)
                .Select(static (pair, ct) => Parser.ReadPlanFile(pair.Left, pair.Right.GetOptions(pair.Left), ct))
                .WithTrackingName(TrackingNames.PlanFiles)
                .Where(static f => f is not null)
                .Select(static (f, _) => f!);

            var parsed = planFiles
                .Select(static (f, ct) => Parser.Parse(f, ct))
                .WithTrackingName(TrackingNames.ParsedPlans);

            var specs = parsed
                .Where(static r => r.Value is not null)
                .Select(static (r, _) => r.Value!)
                .WithTrackingName(TrackingNames.Specs);

            var facts = context.CompilationProvider
                .Combine(context.ParseOptionsProvider)
                .Select(static (pair, _) => CompilationFactsOf(pair.Left, pair.Right))
                .WithTrackingName(TrackingNames.CompilationFacts);

            var weightTexts = context.AdditionalTextsProvider
                .Where(static t => t.Path.EndsWith(LiteralWeightsExtension, StringComparison.OrdinalIgnoreCase))
                .Collect();

            // Each spec with its own weights text (reference-compared), so editing one model's weights re-emits only that model.
            var emitInputs = specs
                .Combine(weightTexts)
                .Select(static (pair, _) => new EmitInput(pair.Left, FindWeights(pair.Left, pair.Right)))
                .WithComparer(EmitInput.Comparer)
                .WithTrackingName(TrackingNames.EmitInputs)
                .Combine(facts);

            var weightsChecks = emitInputs
                .Select(static (pair, ct) => CheckWeights(pair.Left, pair.Right, ct))
                .WithTrackingName(TrackingNames.WeightsChecks);

            var duplicates = specs.Collect()
                .Select(static (all, _) => Duplicates(all))
                .WithTrackingName(TrackingNames.Duplicates);
            var skipped = duplicates.Select(static (d, _) => d.Select(x => x.FilePath).ToEquatableArray());

            // Each spec's runtime needs are cached with the spec (emitted without weights, scanned for runtime types), so
            // editing one plan re-scans only that plan; the union decides which kernel files the compilation gets.
            var runtimeNeeded = specs
                .Select(static (spec, _) => RuntimeKernels.Needed(Emitter.EmitClass(spec, null, allowUnsafe: true)))
                .Collect()
                .Combine(facts)
                .Select(static (pair, _) => pair.Right.Problem.Length > 0
                    ? EquatableArray<string>.Empty
                    : pair.Left.SelectMany(n => n).Distinct().OrderBy(h => h, StringComparer.Ordinal).ToEquatableArray())
                .WithTrackingName(TrackingNames.RuntimeNeeded);

            context.RegisterSourceOutput(emitInputs.Combine(skipped), static (spc, pair) =>
            {
                // The second plan of a class is reported (CB7007) and not emitted.
                if (!pair.Right.Contains(pair.Left.Left.Spec.PlanPath)) EmitPredictor(spc, pair.Left.Left, pair.Left.Right);
            });
            context.RegisterSourceOutput(runtimeNeeded, static (spc, hints) =>
            {
                foreach (var hint in hints) spc.AddSource(hint, SourceText.From(RuntimeKernels.Source(hint), System.Text.Encoding.UTF8));
            });

            context.RegisterSourceOutput(parsed.Select(static (r, _) => r.Diagnostics), ReportDiagnostics);
            context.RegisterSourceOutput(weightsChecks, ReportDiagnostics);
            context.RegisterSourceOutput(duplicates, ReportDiagnostics);
        }

        private static void ReportDiagnostics(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
        {
            foreach (var d in diagnostics) context.ReportDiagnostic(d.ToDiagnostic());
        }

        /// <summary>A spec and the AdditionalText of its literal weights (null when absent or not needed).</summary>
        internal sealed class EmitInput
        {
            public EmitInput(PredictorSpec spec, AdditionalText? weights)
            {
                Spec = spec;
                Weights = weights;
            }

            public PredictorSpec Spec { get; }

            public AdditionalText? Weights { get; }

            /// <summary>Equal when the spec is equal and the weights text is the same object (Roslyn keeps unchanged texts).</summary>
            public static readonly IEqualityComparer<EmitInput> Comparer = new InputComparer();

            private sealed class InputComparer : IEqualityComparer<EmitInput>
            {
                public bool Equals(EmitInput? x, EmitInput? y) =>
                    ReferenceEquals(x, y) || (x is not null && y is not null && x.Spec.Equals(y.Spec) && ReferenceEquals(x.Weights, y.Weights));

                public int GetHashCode(EmitInput obj) => obj.Spec.GetHashCode();
            }
        }

        private static AdditionalText? FindWeights(PredictorSpec spec, ImmutableArray<AdditionalText> texts)
        {
            if (spec.WeightsPath.Length == 0) return null;
            string wanted = Normalize(spec.WeightsPath);
            foreach (var t in texts)
                if (string.Equals(Normalize(t.Path), wanted, StringComparison.OrdinalIgnoreCase)) return t;
            return null;
        }

        private static string Normalize(string path)
        {
            try
            {
                return Path.GetFullPath(path).Replace('\\', '/');
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                return path.Replace('\\', '/');
            }
        }

        private static CompilationFacts CompilationFactsOf(Compilation compilation, ParseOptions parseOptions)
        {
            string problem = "";
            if (compilation.GetTypeByMetadataName("System.Runtime.Intrinsics.Vector512`1") is null)
                problem = "the target framework has no System.Runtime.Intrinsics.Vector512 (it is older than .NET 8)";
            else if (parseOptions is CSharpParseOptions cs && cs.LanguageVersion < LanguageVersion.CSharp11)
                problem = $"the C# language version is {cs.LanguageVersion.ToDisplayString()}";
            bool allowUnsafe = compilation is CSharpCompilation c && c.Options.AllowUnsafe;
            return new CompilationFacts(problem, allowUnsafe);
        }

        /// <summary>Weights file and compilation problems, as diagnostics (the weights are decoded and hashed, not kept).</summary>
        private static EquatableArray<DiagnosticInfo> CheckWeights(EmitInput input, CompilationFacts facts, CancellationToken ct)
        {
            var spec = input.Spec;
            string name = Path.GetFileName(spec.PlanPath);
            if (facts.Problem.Length > 0)
                return EquatableArray.Create(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedCompilation, spec.PlanPath, 1, name, facts.Problem));
            if (spec.Plan.Weights.Storage == WeightStorage.Resource)
            {
                return facts.AllowUnsafe
                    ? EquatableArray<DiagnosticInfo>.Empty
                    : EquatableArray.Create(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsCopied, spec.PlanPath, 1, name,
                        spec.Plan.Weights.Bytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)));
            }
            var (_, error) = DecodeWeights(input, ct);
            return error is null ? EquatableArray<DiagnosticInfo>.Empty : EquatableArray.Create(error);
        }

        /// <summary>Decodes and verifies a literal weights file: the bytes, or the diagnostic explaining why not.</summary>
        internal static (byte[]? Bytes, DiagnosticInfo? Error) DecodeWeights(EmitInput input, CancellationToken ct)
        {
            var spec = input.Spec;
            var w = spec.Plan.Weights;
            string name = Path.GetFileName(spec.PlanPath);
            if (input.Weights is null)
                return (null, DiagnosticInfo.Create(DiagnosticDescriptors.WeightsFileMissing, spec.PlanPath, 1, name, w.File));
            string text = input.Weights.GetText(ct)?.ToString() ?? "";
            byte[] bytes;
            try
            {
                var sb = new System.Text.StringBuilder(text.Length);
                foreach (char ch in text)
                    if (!char.IsWhiteSpace(ch)) sb.Append(ch);
                bytes = Convert.FromBase64String(sb.ToString());
            }
            catch (FormatException)
            {
                return (null, DiagnosticInfo.Create(DiagnosticDescriptors.WeightsHashMismatch, input.Weights.Path, 1, name, w.File, "it is not valid base64"));
            }
            string hash;
            using (var sha = SHA256.Create()) hash = string.Concat(sha.ComputeHash(bytes).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
            if (bytes.LongLength != w.Bytes || !string.Equals(hash, w.Sha256, StringComparison.OrdinalIgnoreCase))
                return (null, DiagnosticInfo.Create(DiagnosticDescriptors.WeightsHashMismatch, input.Weights.Path, 1, name, w.File,
                    $"it holds {bytes.LongLength} bytes with SHA-256 {hash}, the plan expects {w.Bytes} bytes with SHA-256 {w.Sha256}"));
            return (bytes, null);
        }

        private static void EmitPredictor(SourceProductionContext context, EmitInput input, CompilationFacts facts)
        {
            if (facts.Problem.Length > 0) return;
            var spec = input.Spec;
            byte[]? weights = null;
            if (spec.Plan.Weights.Storage == WeightStorage.Literal)
            {
                (weights, var error) = DecodeWeights(input, context.CancellationToken);
                if (error is not null) return; // reported by the WeightsChecks output
            }
            context.AddSource(spec.HintName, SourceText.From(Emitter.EmitClass(spec, weights, facts.AllowUnsafe), System.Text.Encoding.UTF8));
        }

        private static EquatableArray<DiagnosticInfo> Duplicates(ImmutableArray<PredictorSpec> specs)
        {
            var seen = new Dictionary<string, PredictorSpec>(StringComparer.OrdinalIgnoreCase);
            var result = new List<DiagnosticInfo>();
            foreach (var s in specs.OrderBy(s => s.PlanPath, StringComparer.Ordinal))
            {
                if (seen.TryGetValue(s.HintName, out var first))
                    result.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateClass, s.PlanPath, 1, Path.GetFileName(first.PlanPath), Path.GetFileName(s.PlanPath), s.FullName));
                else seen[s.HintName] = s;
            }
            return result.ToEquatableArray();
        }
    }
}
