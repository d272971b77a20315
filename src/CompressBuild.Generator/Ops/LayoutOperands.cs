using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// Typed operands for the data-movement and reduction lowerings (any element type: spans of the
    /// plan type over arena buffers or weight-blob constants), strided-copy geometry, and literals of
    /// any element type.
    /// </summary>
    internal static class LayoutOperands
    {
        private const string MemoryMarshal = "global::System.Runtime.InteropServices.MemoryMarshal";

        /// <summary>The C# type of input <paramref name="i"/>'s elements.</summary>
        public static string InType(StepInfo s, int i) => PlanTypes.CSharp(s.InputType(i));

        /// <summary>The plan element type of output <paramref name="o"/>.</summary>
        public static string OutputType(StepInfo s, int o) => BufferOf(s, s.Step.Outputs[o], $"output {o}").ElementType;

        private static PlanBuffer BufferOf(StepInfo s, string id, string what)
        {
            foreach (var b in s.Plan.Buffers)
                if (b.Id == id) return b;
            throw s.Unsupported($"{what} ('{id}') is not a buffer of the plan");
        }

        /// <summary>A span expression (<c>Span&lt;T&gt;</c> for a buffer, <c>ReadOnlySpan&lt;T&gt;</c> for a constant) of input <paramref name="i"/>'s first <paramref name="elements"/> elements.</summary>
        public static string In(StepInfo s, int i, long elements)
        {
            if (!s.HasInput(i)) throw s.Unsupported($"input {i} is omitted");
            string id = s.Step.Inputs[i];
            var c = s.ConstantInput(i);
            if (c is null)
            {
                var b = BufferOf(s, id, $"input {i}");
                if (b.Length < elements) throw s.Unsupported($"buffer {id} holds {b.Length} elements, the step reads {elements}");
                return StepInfo.BufferVar(id) + ".Slice(0, " + Lit.Int(elements) + ")";
            }
            if (c.Storage != c.ElementType)
                throw s.Unsupported($"constant input {i} ({c.ElementType}) is stored as {c.Storage}; this op reads constants in their own type only");
            long bytes = elements * PlanTypes.Size(c.ElementType);
            if (c.Bytes < bytes) throw s.Unsupported($"constant {id} holds {c.Bytes} bytes, the step reads {bytes}");
            string slice = $"__w.Slice({Lit.Int(c.Offset)}, {Lit.Int(bytes)})";
            return c.ElementType == PlanTypes.UInt8 ? slice : $"{MemoryMarshal}.Cast<byte, {PlanTypes.CSharp(c.ElementType)}>({slice})";
        }

        /// <summary>A <c>Span&lt;T&gt;</c> expression of output <paramref name="o"/>'s first <paramref name="elements"/> elements.</summary>
        public static string Out(StepInfo s, int o, long elements)
        {
            string id = s.Step.Outputs[o];
            var b = BufferOf(s, id, $"output {o}");
            if (b.Length < elements) throw s.Unsupported($"buffer {id} holds {b.Length} elements, the step writes {elements}");
            return StepInfo.BufferVar(id) + ".Slice(0, " + Lit.Int(elements) + ")";
        }

        /// <summary>Fails unless output <paramref name="o"/> has input <paramref name="i"/>'s element type.</summary>
        public static string SameType(StepInfo s, int i, int o)
        {
            string t = s.InputType(i);
            string u = OutputType(s, o);
            if (t != u) throw s.Unsupported($"input {i} is {t} but output {o} is {u}");
            return t;
        }

        /// <summary>True when the class gets PredictBatch, which runs the steps once per sample: a step must then not combine elements along a batch axis.</summary>
        public static bool RunsPerSample(StepInfo s) =>
            s.Plan.Inputs.Count > 0 && s.Plan.Inputs.All(v => v.Batched) && s.Plan.Outputs.All(v => v.Batched);

        /// <summary>Fails when the step combines elements along axis 0 of a tensor whose per-sample axis 0 is 1 (possibly the batch) in a batched plan.</summary>
        public static void RefuseBatchAxis(StepInfo s, int[] shape, bool touchesAxis0, string what)
        {
            if (touchesAxis0 && shape.Length > 0 && shape[0] == 1 && RunsPerSample(s))
                throw s.Unsupported($"{what} along axis 0, which may be the batch axis (PredictBatch runs one sample at a time)");
        }

        /// <summary>The <c>_value{i}</c> ints the planner inlined for constant input <paramref name="i"/>, or null when the input is omitted.</summary>
        public static long[]? ConstantInts(StepInfo s, int i, string what)
        {
            if (!s.HasInput(i)) return null;
            var a = s.Step.Attribute("_value" + i.ToString(CultureInfo.InvariantCulture));
            if (a is null || a.Kind != PlanAttributeKind.Ints)
                throw s.Unsupported($"{what} (input {i}) must be a constant integer vector of at most 64 elements");
            return a.Ints.ToArray();
        }

        /// <summary>Normalizes an axis against <paramref name="rank"/>.</summary>
        public static int Axis(StepInfo s, long axis, int rank)
        {
            long a = axis < 0 ? axis + rank : axis;
            if (a < 0 || a >= rank) throw s.Unsupported($"axis {axis} is out of range for rank {rank}");
            return (int)a;
        }

        /// <summary>Row-major strides.</summary>
        public static long[] Strides(int[] shape)
        {
            var r = new long[shape.Length];
            long stride = 1;
            for (int i = shape.Length - 1; i >= 0; i--)
            {
                r[i] = stride;
                stride *= shape[i];
            }
            return r;
        }

        /// <summary>Fails unless <paramref name="actual"/> equals <paramref name="expected"/>.</summary>
        public static void CheckShape(StepInfo s, int[] expected, int[] actual, string what)
        {
            if (!expected.SequenceEqual(actual))
                throw s.Unsupported($"{what}: the op gives {Lit.Shape(expected)} but the plan says {Lit.Shape(actual)}");
        }

        /// <summary>A <c>ReadOnlySpan&lt;int&gt;</c> member of the step struct.</summary>
        public static StepLowering IntsMember(this StepLowering lowering, string name, IEnumerable<long> values)
        {
            var list = values.ToList();
            foreach (long v in list)
                if (v < int.MinValue || v > int.MaxValue) throw new OverflowException($"{name} value {v} does not fit an int");
            string value = list.Count == 0 ? "default" : "new int[] { " + string.Join(", ", list.Select(Lit.Int)) + " }";
            lowering.Members.Add(new ShapeMember("global::System.ReadOnlySpan<int>", name, value));
            return lowering;
        }

        /// <summary>A literal of plan type <paramref name="type"/> for an integer value.</summary>
        public static string Literal(StepInfo s, string type, long v)
        {
            switch (type)
            {
                case PlanTypes.Bool: return v != 0 ? "true" : "false";
                case PlanTypes.Float: return Lit.Float(v);
                case PlanTypes.Double: return "(double)" + Lit.Int(v) + "L";
                case PlanTypes.Float16: return "(global::System.Half)" + Lit.Float(v);
            }
            var (min, max) = Range(type);
            string text = Lit.Int(v) + (type is PlanTypes.Int64 or PlanTypes.UInt64 ? "L" : "");
            if (v < 0) text = "(" + text + ")";
            return v >= min && (max < 0 || (ulong)v <= (ulong)max) ? $"({PlanTypes.CSharp(type)}){text}" : $"unchecked(({PlanTypes.CSharp(type)}){text})";
        }

        /// <summary>A literal of plan type <paramref name="type"/> for a float value (as the engine converts it).</summary>
        public static string Literal(StepInfo s, string type, float v) => type switch
        {
            PlanTypes.Float => Lit.Float(v),
            PlanTypes.Double => "(double)" + Lit.Float(v),
            PlanTypes.Float16 => "(global::System.Half)" + Lit.Float(v),
            PlanTypes.Bool => v != 0 ? "true" : "false",
            _ => v == Math.Floor(v) && Math.Abs(v) < 9.2e18 ? Literal(s, type, (long)v) : throw s.Unsupported($"value {v} for a {type} tensor"),
        };

        private static (long Min, long Max) Range(string type) => type switch
        {
            PlanTypes.Int8 => (sbyte.MinValue, sbyte.MaxValue),
            PlanTypes.UInt8 => (0, byte.MaxValue),
            PlanTypes.Int16 => (short.MinValue, short.MaxValue),
            PlanTypes.UInt16 => (0, ushort.MaxValue),
            PlanTypes.Int32 => (int.MinValue, int.MaxValue),
            PlanTypes.UInt32 => (0, uint.MaxValue),
            PlanTypes.Int64 => (long.MinValue, long.MaxValue),
            PlanTypes.UInt64 => (0, -1), // every non-negative long fits
            _ => throw new ArgumentException($"'{type}' is not an integer type"),
        };

        /// <summary>The values of a planned attribute (ints or floats) as literals of <paramref name="type"/>.</summary>
        public static List<string> Literals(StepInfo s, string type, PlanAttribute a) => a.Kind switch
        {
            PlanAttributeKind.Int or PlanAttributeKind.Ints => a.Ints.Select(v => Literal(s, type, v)).ToList(),
            PlanAttributeKind.Float or PlanAttributeKind.Floats => a.Floats.Select(v => Literal(s, type, v)).ToList(),
            _ => throw s.Unsupported($"attribute {a.Name} holds {a.Kind}, not numbers"),
        };
    }

    /// <summary>
    /// A strided copy's axes (dim, x stride, y stride), outermost first, and offsets: simplified
    /// (unit axes dropped, contiguous neighbours merged, a transpose's last two axes tiled) into the
    /// geometry <c>CompressBuild.Runtime.Layout.Copy</c> reads.
    /// </summary>
    internal sealed class CopyGeometry
    {
        private readonly List<(long Dim, long X, long Y)> _axes = new();

        public long XOffset { get; set; }

        public long YOffset { get; set; }

        public CopyGeometry Axis(long dim, long x, long y)
        {
            _axes.Add((dim, x, y));
            return this;
        }

        /// <summary>True when the copy moves no element.</summary>
        public bool Empty => _axes.Any(a => a.Dim == 0);

        /// <summary>Elements copied.</summary>
        public long Elements => _axes.Aggregate(1L, (p, a) => p * a.Dim);

        /// <summary>The simplified geometry: [xOffset, yOffset, tiled, (dim, xStride, yStride)...].</summary>
        public List<long> Build()
        {
            var axes = new List<(long Dim, long X, long Y)>();
            foreach (var a in _axes)
            {
                if (a.Dim == 1) continue;
                if (axes.Count > 0)
                {
                    var last = axes[axes.Count - 1];
                    if (last.X == a.X * a.Dim && last.Y == a.Y * a.Dim)
                    {
                        axes[axes.Count - 1] = (last.Dim * a.Dim, a.X, a.Y);
                        continue;
                    }
                }
                axes.Add(a);
            }
            bool tiled = false;
            int n = axes.Count;
            if (n >= 2 && axes[n - 1].Y == 1 && axes[n - 1].X != 0 && axes[n - 1].X != 1 && axes[n - 1].Dim >= 4)
            {
                int j = axes.FindLastIndex(n - 2, a => a.X == 1 && a.Y != 0 && a.Dim >= 4);
                if (j >= 0)
                {
                    var a = axes[j];
                    axes.RemoveAt(j);
                    axes.Insert(n - 2, a);
                    tiled = true;
                }
            }
            var g = new List<long> { XOffset, YOffset, tiled ? 1 : 0 };
            foreach (var a in axes)
            {
                g.Add(a.Dim);
                g.Add(a.X);
                g.Add(a.Y);
            }
            return g;
        }

        /// <summary>A plain row-major copy of <paramref name="shape"/>.</summary>
        public static CopyGeometry Contiguous(int[] shape)
        {
            var g = new CopyGeometry();
            var strides = LayoutOperands.Strides(shape);
            for (int i = 0; i < shape.Length; i++) g.Axis(shape[i], strides[i], strides[i]);
            return g;
        }
    }
}
