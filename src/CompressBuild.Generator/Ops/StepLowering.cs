using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// What one step becomes in the generated class: a shape struct (members that are compile-time
    /// constants for the kernel), the statements that call the kernel, and the scratch it needs.
    /// </summary>
    internal sealed partial class StepLowering
    {
        /// <summary>Namespace prefix of the runtime kernels.</summary>
        public const string Runtime = "global::CompressBuild.Runtime.";

        /// <summary>Type arguments naming the SIMD width inside the generated Execute method.</summary>
        public const string Simd = "TSimd, TVec";

        public StepLowering(string description) => Description = description;

        /// <summary>One line for the comment above the call.</summary>
        public string Description { get; }

        /// <summary>Runtime interface the shape struct implements (without namespace), or empty for none.</summary>
        public string Interface { get; private set; } = "";

        /// <summary>Members of the shape struct.</summary>
        public List<ShapeMember> Members { get; } = new();

        /// <summary>Statements (no indentation).</summary>
        public List<string> Code { get; } = new();

        /// <summary>Floats of arena scratch the step needs (shared by all steps).</summary>
        public long ScratchFloats { get; set; }

        public StepLowering Shape(string runtimeInterface)
        {
            Interface = runtimeInterface;
            return this;
        }

        public StepLowering Int(string name, long value)
        {
            Members.Add(new ShapeMember("int", name, Lit.Int(value)));
            return this;
        }

        public StepLowering Bool(string name, bool value)
        {
            Members.Add(new ShapeMember("bool", name, value ? "true" : "false"));
            return this;
        }

        public StepLowering Float(string name, float value)
        {
            Members.Add(new ShapeMember("float", name, Lit.Float(value)));
            return this;
        }

        public StepLowering Call(string statement)
        {
            Code.Add(statement);
            return this;
        }
    }

    /// <summary>A <c>public static T Name =&gt; value;</c> member of a shape struct.</summary>
    internal sealed record ShapeMember(string Type, string Name, string Value);

    /// <summary>C# literals, always invariant culture.</summary>
    internal static class Lit
    {
        public static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);

        /// <summary>A float literal that round-trips: <c>1.5E-05f</c>, <c>float.NaN</c>, ...</summary>
        public static string Float(float f)
        {
            if (float.IsNaN(f)) return "float.NaN";
            if (float.IsPositiveInfinity(f)) return "float.PositiveInfinity";
            if (float.IsNegativeInfinity(f)) return "float.NegativeInfinity";
            string s = f.ToString("R", CultureInfo.InvariantCulture);
            return s + "f";
        }

        /// <summary>A C# string literal.</summary>
        public static string String(string s)
        {
            var sb = new System.Text.StringBuilder(s.Length + 2).Append('"');
            foreach (char ch in s)
            {
                switch (ch)
                {
                    case '\\': sb.Append("\\\\"); break;
                    case '"': sb.Append("\\\""); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (ch < 0x20 || ch == '\u2028' || ch == '\u2029' || ch == '\u0085') sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(ch);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }

        /// <summary><c>[1,2,3]</c> for messages and comments.</summary>
        public static string Shape(IEnumerable<int> shape) => "[" + string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

        /// <summary>Product of the dimensions (1 for a scalar).</summary>
        public static long Product(IEnumerable<int> shape) => shape.Aggregate(1L, (a, d) => a * d);
    }
}
