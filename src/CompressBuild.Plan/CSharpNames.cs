using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace CompressBuild.Plan
{

    /// <summary>
    /// Turns ONNX and file names into C# identifiers (contract section 3: parameters named after the
    /// ONNX inputs/outputs, the default class name from the model's file name). One implementation for
    /// the engine, the MSBuild tasks (which name the outputs before the engine runs) and the generator.
    /// </summary>
    public static class CSharpNames
    {
        private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
        {
            "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
            "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
            "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
            "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
            "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
            "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
            "using", "virtual", "void", "volatile", "while",
        };

        /// <summary>camelCase identifier: "input.1" → "input1", "pixel_values" → "pixelValues", "1x" → "_1x".</summary>
        public static string Parameter(string onnxName)
        {
            var words = Words(onnxName);
            var sb = new StringBuilder();
            for (int i = 0; i < words.Count; i++)
            {
                string w = words[i];
                sb.Append(i == 0 ? char.ToLowerInvariant(w[0]) : char.ToUpperInvariant(w[0])).Append(w, 1, w.Length - 1);
            }
            string id = sb.Length == 0 ? "value" : sb.ToString();
            if (char.IsDigit(id[0])) id = "_" + id;
            return Keywords.Contains(id) ? id + "Value" : id;
        }

        /// <summary>PascalCase identifier: "lenet5" → "Lenet5", "my-model" → "MyModel".</summary>
        public static string Type(string name)
        {
            string p = Parameter(name);
            p = p.TrimStart('_');
            if (p.Length == 0 || char.IsDigit(p[0])) p = "Model" + p;
            return char.ToUpperInvariant(p[0]) + p.Substring(1);
        }

        /// <summary>True for a valid (non-keyword) C# identifier of letters, digits and underscores.</summary>
        public static bool IsIdentifier(string s) =>
            s.Length > 0 && (char.IsLetter(s[0]) || s[0] == '_') && s.All(c => char.IsLetterOrDigit(c) || c == '_') && !Keywords.Contains(s);

        /// <summary>True for a dotted namespace of identifiers (or empty).</summary>
        public static bool IsNamespace(string s) => s.Length == 0 || s.Split('.').All(IsIdentifier);

        private static List<string> Words(string s)
        {
            var words = new List<string>();
            var sb = new StringBuilder();
            foreach (char c in s)
            {
                if (char.IsLetterOrDigit(c) && c < 128) sb.Append(c);
                else if (sb.Length > 0)
                {
                    words.Add(sb.ToString());
                    sb.Clear();
                }
            }
            if (sb.Length > 0) words.Add(sb.ToString());
            return words;
        }
    }
}
