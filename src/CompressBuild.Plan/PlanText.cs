using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace CompressBuild.Plan
{
    /// <summary>
    /// The plan's text format: line-oriented, one record per line, tokens separated by spaces,
    /// strings double-quoted with C-style escapes. Stable and diff-friendly; the first line names
    /// the format version.
    /// </summary>
    /// <remarks>
    /// <code>
    /// compressbuild-plan 1
    /// class "LeNet5"
    /// namespace "MyApp.Models"
    /// source "lenet5.onnx" "3f…"
    /// compression "fp32"
    /// target generic
    /// opset 13
    /// weights 246824 "3a…" literal "LeNet5.weights.b64" ""
    /// arena 31488
    /// note "…"
    /// input "image" image float [1,1,28,28] b0 batched
    /// output "logits" logits float [1,10] b5 batched
    /// buffer b0 float 784 0
    /// const c0 float [6,1,5,5] float 0 600 "" -1
    /// const c4 float [120,400] q4 1024 24000 "c5" 0 block=32
    /// step Conv "/c1/Conv" [b0,c0,c1] [b1] group=i:1 kernel_shape=I:[5,5] activation=s:"Relu"
    /// step Dropout "d" [b2] [b3,~] ratio=f:0.5
    /// end
    /// </code>
    /// Attribute values carry their kind: <c>i:</c> int, <c>I:</c> ints, <c>f:</c> float,
    /// <c>F:</c> floats, <c>s:</c> string, <c>S:</c> strings. A <c>const</c> of packed weights
    /// (<c>q4</c>, <c>q2</c>) ends with <c>block=</c> (see <see cref="PlanConstant.Block"/>).
    /// </remarks>
    public static class PlanText
    {
        private const string Magic = "compressbuild-plan";
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        /// <summary>Writes a plan as text (\n line endings).</summary>
        public static string Write(ModelPlan plan)
        {
            var sb = new StringBuilder();
            void Line(params string[] tokens) => sb.Append(string.Join(" ", tokens)).Append('\n');
            Line(Magic, ModelPlan.FormatVersion.ToString(Inv));
            Line("class", Quote(plan.ClassName));
            Line("namespace", Quote(plan.Namespace));
            Line("source", Quote(plan.SourceModel), Quote(plan.SourceSha256));
            Line("compression", Quote(plan.Compression));
            Line("target", Bare(plan.Target));
            Line("opset", plan.Opset.ToString(Inv));
            var w = plan.Weights;
            Line("weights", w.Bytes.ToString(Inv), Quote(w.Sha256), w.Storage == WeightStorage.Literal ? "literal" : "resource", Quote(w.File), Quote(w.ResourceName));
            Line("arena", plan.ArenaBytes.ToString(Inv));
            foreach (var n in plan.Notes) Line("note", Quote(n));
            foreach (var v in plan.Inputs) Line(Value("input", v));
            foreach (var v in plan.Outputs) Line(Value("output", v));
            foreach (var b in plan.Buffers) Line("buffer", Bare(b.Id), Bare(b.ElementType), b.Length.ToString(Inv), b.Offset.ToString(Inv));
            foreach (var c in plan.Constants)
            {
                var tokens = new List<string> { "const", Bare(c.Id), Bare(c.ElementType), Ints(c.Shape.Select(x => (long)x)), Bare(c.Storage), c.Offset.ToString(Inv), c.Bytes.ToString(Inv), Quote(c.Scale), c.Axis.ToString(Inv) };
                // Optional trailing field, so plans without packed weights read as before.
                if (c.Block != 0) tokens.Add("block=" + c.Block.ToString(Inv));
                Line(tokens.ToArray());
            }
            foreach (var s in plan.Steps)
            {
                var tokens = new List<string> { "step", Bare(s.Op), Quote(s.Name), List(s.Inputs), List(s.Outputs) };
                foreach (var a in s.Attributes) tokens.Add(Bare(a.Name) + "=" + AttributeValue(a));
                Line(tokens.ToArray());
            }
            Line("end");
            return sb.ToString();
        }

        private static string Value(string kind, PlanValue v) =>
            string.Join(" ", kind, Quote(v.Name), Bare(v.Identifier), Bare(v.ElementType), Ints(v.Shape.Select(x => (long)x)), Bare(v.Buffer), v.Batched ? "batched" : "fixed");

        private static string AttributeValue(PlanAttribute a) => a.Kind switch
        {
            PlanAttributeKind.Int => "i:" + a.AsInt.ToString(Inv),
            PlanAttributeKind.Ints => "I:" + Ints(a.Ints),
            PlanAttributeKind.Float => "f:" + FloatText(a.AsFloat),
            PlanAttributeKind.Floats => "F:[" + string.Join(",", a.Floats.Select(FloatText)) + "]",
            PlanAttributeKind.String => "s:" + Quote(a.AsString),
            _ => "S:[" + string.Join(",", a.Strings.Select(Quote)) + "]",
        };

        /// <summary>Shortest text that parses back to the same float (invariant culture).</summary>
        public static string FloatText(float f) => f.ToString("R", Inv);

        private static string Ints(IEnumerable<long> values) => "[" + string.Join(",", values.Select(v => v.ToString(Inv))) + "]";

        // An omitted optional input or output is written as "~".
        private const string Omitted = "~";

        private static string List(IEnumerable<string> ids) => "[" + string.Join(",", ids.Select(id => id.Length == 0 ? Omitted : Bare(id))) + "]";

        private static string Bare(string token)
        {
            if (token.Length == 0) throw new ArgumentException("an empty value cannot be written as a bare plan token");
            foreach (char ch in token)
                if (char.IsWhiteSpace(ch) || ch is '"' or ',' or '[' or ']' or '=')
                    throw new ArgumentException($"'{token}' cannot be written as a bare plan token");
            return token;
        }

        /// <summary>A double-quoted string with \\, \", \n, \r, \t and \uXXXX escapes.</summary>
        public static string Quote(string s)
        {
            var sb = new StringBuilder(s.Length + 2).Append('"');
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
                        if (ch < 0x20) sb.Append("\\u").Append(((int)ch).ToString("x4", Inv));
                        else sb.Append(ch);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }

        /// <summary>
        /// Parses plan text. Throws <see cref="PlanFormatException"/> with the line number for
        /// anything malformed, including a format version this library does not read.
        /// </summary>
        public static ModelPlan Parse(string text)
        {
            var lines = text.Replace("\r\n", "\n").Split('\n');
            var plan = new ModelPlan();
            var inputs = new List<PlanValue>();
            var outputs = new List<PlanValue>();
            var buffers = new List<PlanBuffer>();
            var constants = new List<PlanConstant>();
            var steps = new List<PlanStep>();
            var notes = new List<string>();
            bool header = false, ended = false;
            for (int i = 0; i < lines.Length; i++)
            {
                int lineNo = i + 1;
                string line = lines[i];
                if (line.Trim().Length == 0) continue;
                if (ended) throw new PlanFormatException(lineNo, "text after 'end'");
                var t = Tokenize(line, lineNo);
                string kind = t[0];
                if (!header)
                {
                    if (kind != Magic || t.Count != 2) throw new PlanFormatException(lineNo, $"a plan starts with '{Magic} {ModelPlan.FormatVersion}'");
                    int version = ParseInt(t[1], lineNo);
                    if (version != ModelPlan.FormatVersion)
                        throw new PlanFormatException(lineNo, $"plan format {version} is not supported (this generator reads format {ModelPlan.FormatVersion}); the engine and the generator come from different CompressBuild versions");
                    header = true;
                    continue;
                }
                switch (kind)
                {
                    case "class": Expect(t, 2, lineNo); plan = plan with { ClassName = Unquote(t[1], lineNo) }; break;
                    case "namespace": Expect(t, 2, lineNo); plan = plan with { Namespace = Unquote(t[1], lineNo) }; break;
                    case "source": Expect(t, 3, lineNo); plan = plan with { SourceModel = Unquote(t[1], lineNo), SourceSha256 = Unquote(t[2], lineNo) }; break;
                    case "compression": Expect(t, 2, lineNo); plan = plan with { Compression = Unquote(t[1], lineNo) }; break;
                    case "target": Expect(t, 2, lineNo); plan = plan with { Target = t[1] }; break;
                    case "opset": Expect(t, 2, lineNo); plan = plan with { Opset = ParseInt(t[1], lineNo) }; break;
                    case "arena": Expect(t, 2, lineNo); plan = plan with { ArenaBytes = ParseLong(t[1], lineNo) }; break;
                    case "note": Expect(t, 2, lineNo); notes.Add(Unquote(t[1], lineNo)); break;
                    case "weights":
                        Expect(t, 6, lineNo);
                        plan = plan with
                        {
                            Weights = new WeightsPlan
                            {
                                Bytes = ParseLong(t[1], lineNo),
                                Sha256 = Unquote(t[2], lineNo),
                                Storage = t[3] switch
                                {
                                    "literal" => WeightStorage.Literal,
                                    "resource" => WeightStorage.Resource,
                                    _ => throw new PlanFormatException(lineNo, $"weight storage '{t[3]}' is not literal or resource"),
                                },
                                File = Unquote(t[4], lineNo),
                                ResourceName = Unquote(t[5], lineNo),
                            },
                        };
                        break;
                    case "input":
                    case "output":
                        Expect(t, 7, lineNo);
                        var v = new PlanValue(Unquote(t[1], lineNo), t[2], t[3], ParseInts(t[4], lineNo).Select(x => checked((int)x)).ToEquatableArray(), t[5],
                            t[6] switch { "batched" => true, "fixed" => false, _ => throw new PlanFormatException(lineNo, $"'{t[6]}' is not batched or fixed") });
                        (kind == "input" ? inputs : outputs).Add(v);
                        break;
                    case "buffer":
                        Expect(t, 5, lineNo);
                        buffers.Add(new PlanBuffer(t[1], t[2], checked((int)ParseLong(t[3], lineNo)), ParseLong(t[4], lineNo)));
                        break;
                    case "const":
                        if (t.Count != 10 || !t[9].StartsWith("block=", StringComparison.Ordinal)) Expect(t, 9, lineNo);
                        constants.Add(new PlanConstant(t[1], t[2], ParseInts(t[3], lineNo).Select(x => checked((int)x)).ToEquatableArray(), t[4],
                            ParseLong(t[5], lineNo), ParseLong(t[6], lineNo), Unquote(t[7], lineNo), ParseInt(t[8], lineNo))
                        {
                            Block = t.Count == 10 ? ParseInt(t[9].Substring("block=".Length), lineNo) : 0,
                        });
                        break;
                    case "step":
                        if (t.Count < 5) throw new PlanFormatException(lineNo, "a step needs op, name, inputs and outputs");
                        var attrs = new List<PlanAttribute>();
                        for (int k = 5; k < t.Count; k++) attrs.Add(ParseAttribute(t[k], lineNo));
                        steps.Add(new PlanStep(t[1], Unquote(t[2], lineNo), ParseIds(t[3], lineNo), ParseIds(t[4], lineNo), attrs.ToEquatableArray()));
                        break;
                    case "end":
                        Expect(t, 1, lineNo);
                        ended = true;
                        break;
                    default:
                        throw new PlanFormatException(lineNo, $"unknown record '{kind}'");
                }
            }
            if (!header) throw new PlanFormatException(1, "the plan is empty");
            if (!ended) throw new PlanFormatException(lines.Length, "the plan is truncated (no 'end' line)");
            return plan with
            {
                Inputs = inputs.ToEquatableArray(),
                Outputs = outputs.ToEquatableArray(),
                Buffers = buffers.ToEquatableArray(),
                Constants = constants.ToEquatableArray(),
                Steps = steps.ToEquatableArray(),
                Notes = notes.ToEquatableArray(),
            };
        }

        private static void Expect(List<string> t, int count, int line)
        {
            if (t.Count != count) throw new PlanFormatException(line, $"'{t[0]}' has {t.Count - 1} fields, expected {count - 1}");
        }

        private static PlanAttribute ParseAttribute(string token, int line)
        {
            int eq = token.IndexOf('=');
            if (eq <= 0 || token.Length < eq + 3 || token[eq + 2] != ':') throw new PlanFormatException(line, $"attribute '{token}' is not name=k:value");
            string name = token.Substring(0, eq);
            string value = token.Substring(eq + 3);
            return token[eq + 1] switch
            {
                'i' => PlanAttribute.Int(name, ParseLong(value, line)),
                'I' => PlanAttribute.IntList(name, ParseInts(value, line)),
                'f' => PlanAttribute.Float(name, ParseFloat(value, line)),
                'F' => PlanAttribute.FloatList(name, SplitList(value, line).Select(x => ParseFloat(x, line)).ToArray()),
                's' => PlanAttribute.String(name, Unquote(value, line)),
                'S' => PlanAttribute.StringList(name, SplitList(value, line).Select(x => Unquote(x, line)).ToArray()),
                _ => throw new PlanFormatException(line, $"attribute '{name}' has unknown kind '{token[eq + 1]}'"),
            };
        }

        private static EquatableArray<string> ParseIds(string token, int line) =>
            SplitList(token, line).Select(id => id == Omitted ? "" : id).ToEquatableArray();

        private static long[] ParseInts(string token, int line) => SplitList(token, line).Select(x => ParseLong(x, line)).ToArray();

        // "[a,b,"c,d"]" → a | b | "c,d" (quotes kept for Unquote).
        private static List<string> SplitList(string token, int line)
        {
            if (token.Length < 2 || token[0] != '[' || token[token.Length - 1] != ']') throw new PlanFormatException(line, $"'{token}' is not a [list]");
            var items = new List<string>();
            var inner = token.Substring(1, token.Length - 2);
            if (inner.Length == 0) return items;
            var sb = new StringBuilder();
            bool quoted = false;
            for (int i = 0; i < inner.Length; i++)
            {
                char ch = inner[i];
                if (quoted && ch == '\\' && i + 1 < inner.Length)
                {
                    sb.Append(ch).Append(inner[++i]);
                    continue;
                }
                if (ch == '"') quoted = !quoted;
                if (ch == ',' && !quoted)
                {
                    items.Add(sb.ToString());
                    sb.Clear();
                    continue;
                }
                sb.Append(ch);
            }
            items.Add(sb.ToString());
            return items;
        }

        private static List<string> Tokenize(string line, int lineNo)
        {
            var tokens = new List<string>();
            var sb = new StringBuilder();
            bool quoted = false;
            for (int i = 0; i < line.Length; i++)
            {
                char ch = line[i];
                if (quoted && ch == '\\' && i + 1 < line.Length)
                {
                    sb.Append(ch).Append(line[++i]);
                    continue;
                }
                if (ch == '"') quoted = !quoted;
                if (!quoted && char.IsWhiteSpace(ch))
                {
                    if (sb.Length > 0) tokens.Add(sb.ToString());
                    sb.Clear();
                    continue;
                }
                sb.Append(ch);
            }
            if (quoted) throw new PlanFormatException(lineNo, "unterminated string");
            if (sb.Length > 0) tokens.Add(sb.ToString());
            return tokens;
        }

        private static string Unquote(string token, int line)
        {
            if (token.Length < 2 || token[0] != '"' || token[token.Length - 1] != '"') throw new PlanFormatException(line, $"{token} is not a quoted string");
            var sb = new StringBuilder(token.Length);
            for (int i = 1; i < token.Length - 1; i++)
            {
                char ch = token[i];
                if (ch != '\\')
                {
                    sb.Append(ch);
                    continue;
                }
                if (++i >= token.Length - 1) throw new PlanFormatException(line, "dangling escape");
                switch (token[i])
                {
                    case '\\': sb.Append('\\'); break;
                    case '"': sb.Append('"'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (i + 4 > token.Length - 2 || !int.TryParse(token.Substring(i + 1, 4), NumberStyles.HexNumber, Inv, out int code))
                            throw new PlanFormatException(line, "bad \\u escape");
                        sb.Append((char)code);
                        i += 4;
                        break;
                    default: throw new PlanFormatException(line, $"unknown escape \\{token[i]}");
                }
            }
            return sb.ToString();
        }

        private static int ParseInt(string s, int line) => checked((int)ParseLong(s, line));

        private static long ParseLong(string s, int line) =>
            long.TryParse(s, NumberStyles.AllowLeadingSign, Inv, out long v) ? v : throw new PlanFormatException(line, $"'{s}' is not an integer");

        private static float ParseFloat(string s, int line) =>
            float.TryParse(s, NumberStyles.Float, Inv, out float v) ? v : throw new PlanFormatException(line, $"'{s}' is not a number");
    }

    /// <summary>A malformed plan, with the 1-based line where the problem is.</summary>
    public sealed class PlanFormatException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public PlanFormatException(int line, string message) : base($"line {line}: {message}") => Line = line;

        /// <summary>The 1-based line number.</summary>
        public int Line { get; }
    }
}
