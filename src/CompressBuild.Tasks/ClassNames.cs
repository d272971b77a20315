using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace CompressBuild.Tasks
{
    /// <summary>
    /// The default class name of a model (its file name in PascalCase), computed exactly as the engine
    /// does (CompressBuild.Plan.CSharpNames.Type; a parity test keeps the two equal: the tasks stay free of dependencies). The build needs
    /// it before the engine runs: it names the outputs that make compression incremental.
    /// </summary>
    internal static class ClassNames
    {
        private static readonly HashSet<string> Keywords = new HashSet<string>
        {
            "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
            "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
            "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
            "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
            "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
            "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
            "using", "virtual", "void", "volatile", "while",
        };

        /// <summary>"lenet5" → "Lenet5", "my-model" → "MyModel", "1x" → "Model1x".</summary>
        public static string FromFileStem(string stem)
        {
            var words = new List<string>();
            var sb = new StringBuilder();
            foreach (char c in stem)
            {
                if (char.IsLetterOrDigit(c) && c < 128)
                {
                    sb.Append(c);
                }
                else if (sb.Length > 0)
                {
                    words.Add(sb.ToString());
                    sb.Clear();
                }
            }
            if (sb.Length > 0) words.Add(sb.ToString());

            // camelCase first (as the engine's Parameter does), then PascalCase.
            var id = new StringBuilder();
            for (int i = 0; i < words.Count; i++)
            {
                string w = words[i];
                id.Append(i == 0 ? char.ToLowerInvariant(w[0]) : char.ToUpperInvariant(w[0])).Append(w, 1, w.Length - 1);
            }
            string p = id.Length == 0 ? "value" : id.ToString();
            if (char.IsDigit(p[0])) p = "_" + p;
            if (Keywords.Contains(p)) p += "Value";
            p = p.TrimStart('_');
            if (p.Length == 0 || char.IsDigit(p[0])) p = "Model" + p;
            return char.ToUpperInvariant(p[0]) + p.Substring(1);
        }

        /// <summary>
        /// True when <paramref name="name"/> can name files in the output folder as it is (letters,
        /// digits, underscores). Anything else is not a C# identifier, which the engine reports.
        /// </summary>
        public static bool IsSafeFileStem(string name) =>
            name.Length > 0 && name.All(c => c < 128 && (char.IsLetterOrDigit(c) || c == '_'));
    }
}
