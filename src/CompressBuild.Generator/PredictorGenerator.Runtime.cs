using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using CompressBuild.Plan;

namespace CompressBuild.Generator
{
    public sealed partial class PredictorGenerator
    {
        /// <summary>
        /// The runtime kernel files (src/CompressBuild.Runtime, embedded in this assembly) and which of
        /// them a predictor needs: only the files whose types the emitted classes name, plus the
        /// files those depend on, are compiled into the consumer (the whole runtime is ~270 KB of source).
        /// </summary>
        /// <remarks>
        /// Dependencies are found from the sources themselves (a file depends on every file declaring a
        /// type whose name it mentions), so a new runtime file or a new cross-file call needs no table.
        /// Mentions in comments over-approximate, which only costs compile time.
        /// </remarks>
        internal static class RuntimeKernels
        {
            /// <summary>Hint-name prefix of the runtime kernel files.</summary>
            public const string ResourcePrefix = "CompressBuild.Runtime.";

            // Top-level declarations only (file-scoped namespace: no indentation); nested types are reached through their outer type.
            private static readonly Regex Declaration = new(
                @"^(?:(?:internal|public|private|protected|file|static|sealed|abstract|readonly|unsafe|ref|partial)\s+)*(?:class|struct|interface|enum|record(?:\s+struct)?)\s+(\w+)",
                RegexOptions.Multiline | RegexOptions.CultureInvariant);

            private static readonly Regex Word = new(@"\b[A-Za-z_]\w*\b", RegexOptions.CultureInvariant);

            // Prose in comments names types it does not use; crefs do bind (documentation warnings), so they count.
            private static readonly Regex Comment = new(@"//[^\n]*", RegexOptions.CultureInvariant);

            private static readonly Regex Cref = new(@"cref=""([\w.]+)", RegexOptions.CultureInvariant);

            private static readonly Regex RuntimeReference = new(@"global::CompressBuild\.Runtime\.(\w+)", RegexOptions.CultureInvariant);

            private static readonly Lazy<Table> Files = new(Load);

            /// <summary>Every runtime file: (hint name, source), ordered by hint name.</summary>
            public static IReadOnlyList<(string HintName, string Source)> All => Files.Value.Sources;

            /// <summary>The source of the runtime file with hint name <paramref name="hint"/>.</summary>
            public static string Source(string hint) => Files.Value.Sources.First(f => f.HintName == hint).Source;

            /// <summary>
            /// Hint names of the runtime files <paramref name="classSource"/> (an emitted predictor class)
            /// needs, dependencies included, ordered.
            /// </summary>
            public static EquatableArray<string> Needed(string classSource)
            {
                var table = Files.Value;
                var needed = new SortedSet<string>(StringComparer.Ordinal);
                foreach (Match m in RuntimeReference.Matches(classSource))
                    if (table.DeclaredIn.TryGetValue(m.Groups[1].Value, out var hint)) needed.UnionWith(table.Closure[hint]);
                return needed.ToEquatableArray();
            }

            private sealed class Table
            {
                public Table(List<(string, string)> sources, Dictionary<string, string> declaredIn, Dictionary<string, HashSet<string>> closure)
                {
                    Sources = sources;
                    DeclaredIn = declaredIn;
                    Closure = closure;
                }

                public List<(string HintName, string Source)> Sources { get; }

                /// <summary>Type name → hint name of the file declaring it.</summary>
                public Dictionary<string, string> DeclaredIn { get; }

                /// <summary>Hint name → the hint names it needs, itself included.</summary>
                public Dictionary<string, HashSet<string>> Closure { get; }
            }

            private static Table Load()
            {
                var assembly = typeof(PredictorGenerator).Assembly;
                var sources = new List<(string, string)>();
                var declaredIn = new Dictionary<string, string>(StringComparer.Ordinal);
                var texts = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".cs", StringComparison.Ordinal)).OrderBy(n => n, StringComparer.Ordinal))
                {
                    using var stream = assembly.GetManifestResourceStream(resource)!;
                    using var reader = new StreamReader(stream, Encoding.UTF8);
                    string text = reader.ReadToEnd().Replace("\r\n", "\n");
                    string hint = resource.Substring(0, resource.Length - ".cs".Length) + ".g.cs";
                    sources.Add((hint, Emitter.Header + "\n// CompressBuild runtime kernels (src/CompressBuild.Runtime), emitted once per compilation.\n#nullable enable\n\n" + text));
                    texts[hint] = text;
                    foreach (Match m in Declaration.Matches(text)) declaredIn[m.Groups[1].Value] = hint;
                }

                var direct = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
                foreach (var t in texts)
                {
                    var words = Word.Matches(Comment.Replace(t.Value, "")).Cast<Match>().Select(m => m.Value)
                        .Concat(Cref.Matches(t.Value).Cast<Match>().Select(m => m.Groups[1].Value.Split('.')[0]));
                    var deps = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var w in words)
                        if (declaredIn.TryGetValue(w, out var h) && h != t.Key) deps.Add(h);
                    direct[t.Key] = deps;
                }
                var closure = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
                foreach (var hint in texts.Keys)
                {
                    var all = new HashSet<string>(StringComparer.Ordinal) { hint };
                    var pending = new Stack<string>(direct[hint]);
                    while (pending.Count > 0)
                    {
                        string next = pending.Pop();
                        if (all.Add(next)) foreach (var d in direct[next]) pending.Push(d);
                    }
                    closure[hint] = all;
                }
                return new Table(sources, declaredIn, closure);
            }
        }
    }
}
