using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace CompressBuild.Tasks
{
    /// <summary>One line the engine printed, as the build reads it.</summary>
    internal sealed class EngineLine
    {
        public EngineLine(Diagnostic? diagnostic, string text)
        {
            Diagnostic = diagnostic;
            Text = text;
        }

        /// <summary>The error or warning, when the line is <c>error|warning CBxxxx: message</c>.</summary>
        public Diagnostic? Diagnostic { get; }

        /// <summary>The line as printed.</summary>
        public string Text { get; }
    }

    /// <summary>
    /// What the build and <c>compressbuild compress</c> say to each other: the command line of one
    /// model, and the engine's output lines turned into build diagnostics (contract section 6).
    /// </summary>
    internal static class EngineProtocol
    {
        private static readonly Regex DiagnosticLine = new Regex(@"^\s*(error|warning) (CB\d{4}): (.*)$", RegexOptions.CultureInvariant);

        /// <summary>
        /// The arguments after the dotnet host: <c>"engine.dll" compress "model" --out "dir" --ClassName X ...</c>,
        /// with every non-empty setting as <c>--Name value</c> in contract order.
        /// </summary>
        public static string Arguments(string enginePath, string modelPath, string outputDirectory, string className, IReadOnlyDictionary<string, string> settings)
        {
            var args = new List<string> { enginePath, "compress", modelPath, "--out", TrimSeparator(outputDirectory) };
            foreach (var name in Settings.Names)
            {
                string value = name == "ClassName" ? className : settings.TryGetValue(name, out var v) && v != null ? v.Trim() : "";
                if (value.Length == 0) continue;
                args.Add("--" + name);
                args.Add(value);
            }
            return string.Join(" ", args.Select(Quote));
        }

        /// <summary>Reads one line of the engine's stdout or stderr.</summary>
        public static EngineLine Parse(string line, string itemSpec, string modelPath)
        {
            var m = DiagnosticLine.Match(line);
            if (!m.Success) return new EngineLine(null, line);
            return new EngineLine(new Diagnostic(m.Groups[1].Value == "error", m.Groups[2].Value, ItemMessage(itemSpec, modelPath, m.Groups[3].Value.Trim())), line);
        }

        /// <summary>
        /// An engine message as a build message: prefixed with the item, without the engine's own
        /// "file.onnx: " prefix (the item already names the file).
        /// </summary>
        public static string ItemMessage(string itemSpec, string modelPath, string engineMessage)
        {
            string prefix = Path.GetFileName(modelPath) + ": ";
            if (engineMessage.StartsWith(prefix, StringComparison.Ordinal)) engineMessage = engineMessage.Substring(prefix.Length);
            return $"{ModelResolver.Item(itemSpec)}: {engineMessage}";
        }

        /// <summary>The error for an engine that failed without saying why.</summary>
        public static Diagnostic Failed(string itemSpec, int exitCode) =>
            new Diagnostic(true, DiagnosticCodes.EngineFailed,
                $"{ModelResolver.Item(itemSpec)}: the CompressBuild engine exited with code {exitCode} without reporting an error. "
                + "Build with -v:detailed to see its output, and please report it with the model and the settings.");

        /// <summary>The error for an engine that reported success but wrote no plan.</summary>
        public static Diagnostic NoPlan(string itemSpec, string planFile) =>
            new Diagnostic(true, DiagnosticCodes.EngineFailed,
                $"{ModelResolver.Item(itemSpec)}: the CompressBuild engine reported success but wrote no '{planFile}'. Please report it with the model and the settings.");

        /// <summary>Quotes an argument for the Windows-style command line Process uses on every OS.</summary>
        internal static string Quote(string arg)
        {
            if (arg.Length > 0 && arg.IndexOfAny(new[] { ' ', '\t', '"' }) < 0) return arg;
            var sb = new StringBuilder("\"");
            int backslashes = 0;
            foreach (char c in arg)
            {
                if (c == '\\')
                {
                    backslashes++;
                    continue;
                }
                // Backslashes before a quote are doubled, and the quote escaped.
                sb.Append('\\', c == '"' ? backslashes * 2 + 1 : backslashes);
                backslashes = 0;
                sb.Append(c);
            }
            // Backslashes before the closing quote are doubled.
            sb.Append('\\', backslashes * 2).Append('"');
            return sb.ToString();
        }

        private static string TrimSeparator(string dir) =>
            dir.Length > 1 ? dir.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) : dir;
    }
}
