using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>Thrown by an op's lowering when the step uses something the emitter does not support (becomes CB7005).</summary>
    internal sealed class UnsupportedStepException : Exception
    {
        public UnsupportedStepException(string message) : base(message)
        {
        }
    }

    /// <summary>
    /// One plan step as the op lowerings see it: shapes, attributes, and C# expressions for its
    /// operands (arena windows named <c>__b{id}</c>, weight-blob slices of <c>__w</c>).
    /// </summary>
    internal sealed partial class StepInfo
    {
        private const string Cast = "global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>";
        private const string AsBytes = "global::System.Runtime.InteropServices.MemoryMarshal.AsBytes";

        private readonly Dictionary<string, PlanBuffer> _buffers;
        private readonly Dictionary<string, PlanConstant> _constants;

        public StepInfo(ModelPlan plan, PlanStep step, int index)
        {
            Plan = plan;
            Step = step;
            Index = index;
            _buffers = new Dictionary<string, PlanBuffer>(StringComparer.Ordinal);
            foreach (var b in plan.Buffers) _buffers[b.Id] = b;
            _constants = new Dictionary<string, PlanConstant>(StringComparer.Ordinal);
            foreach (var c in plan.Constants) _constants[c.Id] = c;
        }

        public ModelPlan Plan { get; }

        public PlanStep Step { get; }

        public int Index { get; }

        /// <summary>Name of the step's shape struct.</summary>
        public string StructName => "Step" + Index.ToString(CultureInfo.InvariantCulture);

        /// <summary>The plan's opset.</summary>
        public int Opset => Plan.Opset;

        public UnsupportedStepException Unsupported(string message) => new(message);

        // ---- inputs and outputs ----

        public int InputCount => Step.Inputs.Count;

        public int OutputCount => Step.Outputs.Count;

        public bool HasInput(int i) => i < Step.Inputs.Count && Step.Inputs[i].Length > 0;

        public bool HasOutput(int i) => i < Step.Outputs.Count && Step.Outputs[i].Length > 0;

        /// <summary>Per-sample shape of input <paramref name="i"/> (from <c>_in_shapes</c>).</summary>
        public int[] InShape(int i) => ShapeAt("_in_shapes", i, "input");

        /// <summary>Per-sample shape of output <paramref name="i"/> (from <c>_out_shapes</c>).</summary>
        public int[] OutShape(int i) => ShapeAt("_out_shapes", i, "output");

        private int[] ShapeAt(string attribute, int i, string what)
        {
            var a = Step.Attribute(attribute);
            if (a is null || a.Kind != PlanAttributeKind.Strings || i >= a.Strings.Count)
                throw Unsupported($"the plan has no shape for {what} {i} ({attribute}); re-plan with this CompressBuild version");
            string text = a.Strings[i];
            if (text.Length == 0) return new int[0];
            return text.Split(',').Select(s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray();
        }

        /// <summary>Element type of input <paramref name="i"/>.</summary>
        public string InputType(int i)
        {
            string id = Step.Inputs[i];
            if (_buffers.TryGetValue(id, out var b)) return b.ElementType;
            if (_constants.TryGetValue(id, out var c)) return c.ElementType;
            throw Unsupported($"input '{id}' is neither a buffer nor a constant of the plan");
        }

        /// <summary>The constant behind input <paramref name="i"/>, or null for a buffer.</summary>
        public PlanConstant? ConstantInput(int i) => _constants.TryGetValue(Step.Inputs[i], out var c) ? c : null;

        /// <summary>Requires float inputs/outputs (this round's kernels compute in fp32).</summary>
        public void RequireFloat(params int[] inputs)
        {
            foreach (int i in inputs)
                if (HasInput(i) && InputType(i) != PlanTypes.Float)
                    throw Unsupported($"input {i} has element type {InputType(i)}; only float is supported");
            for (int o = 0; o < OutputCount; o++)
                if (HasOutput(o) && Buffer(Step.Outputs[o]).ElementType != PlanTypes.Float)
                    throw Unsupported($"output {o} has element type {Buffer(Step.Outputs[o]).ElementType}; only float is supported");
        }

        private PlanBuffer Buffer(string id) =>
            _buffers.TryGetValue(id, out var b) ? b : throw Unsupported($"'{id}' is not a buffer of the plan");

        /// <summary>A <c>ReadOnlySpan&lt;float&gt;</c> expression for input <paramref name="i"/> with <paramref name="elements"/> elements.</summary>
        public string FloatInput(int i, long elements)
        {
            string id = Step.Inputs[i];
            if (_buffers.TryGetValue(id, out var b))
            {
                if (b.ElementType != PlanTypes.Float) throw Unsupported($"input {i} has element type {b.ElementType}; only float is supported");
                if (b.Length < elements) throw Unsupported($"buffer {id} holds {b.Length} elements, the step reads {elements}");
                return BufferVar(id) + ".Slice(0, " + Lit.Int(elements) + ")";
            }
            var c = _constants.TryGetValue(id, out var cc) ? cc : throw Unsupported($"input '{id}' is neither a buffer nor a constant of the plan");
            if (c.Storage != PlanTypes.Float)
                throw Unsupported($"constant input {i} is stored as {c.Storage}; this op reads it as fp32 only");
            if (c.Bytes < elements * 4) throw Unsupported($"constant {id} holds {c.Bytes} bytes, the step reads {elements} floats");
            return Cast + "(__w.Slice(" + Lit.Int(c.Offset) + ", " + Lit.Int(elements * 4) + "))";
        }

        /// <summary>A <c>Span&lt;float&gt;</c> expression for output <paramref name="o"/>.</summary>
        public string FloatOutput(int o, long elements)
        {
            string id = Step.Outputs[o];
            var b = Buffer(id);
            if (b.ElementType != PlanTypes.Float) throw Unsupported($"output {o} has element type {b.ElementType}; only float is supported");
            if (b.Length < elements) throw Unsupported($"buffer {id} holds {b.Length} elements, the step writes {elements}");
            return BufferVar(id) + ".Slice(0, " + Lit.Int(elements) + ")";
        }

        /// <summary>Input <paramref name="i"/> as weights: format, bytes, scales, scale axis.</summary>
        public WeightOperand WeightInput(int i, long elements)
        {
            string id = Step.Inputs[i];
            if (_buffers.ContainsKey(id))
                return new WeightOperand("F32", AsBytes + "(" + FloatInput(i, elements) + ")", "default", -1);
            var c = _constants.TryGetValue(id, out var cc) ? cc : throw Unsupported($"input '{id}' is neither a buffer nor a constant of the plan");
            if (c.ElementType != PlanTypes.Float) throw Unsupported($"constant input {i} has element type {c.ElementType}; only float weights are supported");
            switch (c.Storage)
            {
                case PlanTypes.Float:
                    return new WeightOperand("F32", Slice(c, elements * 4), "default", -1);
                case PlanTypes.Float16:
                    return new WeightOperand("F16", Slice(c, elements * 2), "default", -1);
                case "q8":
                    if (!_constants.TryGetValue(c.Scale, out var s) || s.Storage != PlanTypes.Float)
                        throw Unsupported($"int8 constant {id} has no fp32 scales constant ('{c.Scale}')");
                    long scales = c.Axis < 0 ? 1 : c.Shape[c.Axis];
                    return new WeightOperand("Q8", Slice(c, elements), Cast + "(__w.Slice(" + Lit.Int(s.Offset) + ", " + Lit.Int(scales * 4) + "))", c.Axis);
                case PlanStorages.Q4:
                case PlanStorages.Q2:
                    return PackedWeight(id, c, elements);
                default:
                    throw Unsupported($"constant {id} has storage '{c.Storage}', which the kernels cannot read");
            }
        }

        /// <summary>Int4 / int2 weights: packed bytes and fp16 block scales (see <see cref="PlanConstant.Block"/>).</summary>
        private WeightOperand PackedWeight(string id, PlanConstant c, long elements)
        {
            if (!_constants.TryGetValue(c.Scale, out var s) || s.Storage != PlanTypes.Float16)
                throw Unsupported($"{c.Storage} constant {id} has no fp16 scales constant ('{c.Scale}')");
            if (c.Block <= 0) throw Unsupported($"{c.Storage} constant {id} has no scale block size");
            int bits = PlanStorages.PackedBits(c.Storage);
            return new WeightOperand(c.Storage == PlanStorages.Q4 ? "Q4" : "Q2", Slice(c, (elements * bits + 7) / 8), Slice(s, s.Bytes), c.Axis) { Block = c.Block };
        }

        private string Slice(PlanConstant c, long bytes)
        {
            if (c.Bytes < bytes) throw Unsupported($"constant {c.Id} holds {c.Bytes} bytes, the step reads {bytes}");
            return "__w.Slice(" + Lit.Int(c.Offset) + ", " + Lit.Int(bytes) + ")";
        }

        /// <summary>The local variable holding arena buffer <paramref name="id"/>.</summary>
        public static string BufferVar(string id) => "__" + id;

        // ---- attributes ----

        public bool Has(string name) => Step.Attribute(name) is not null;

        public long Int(string name, long fallback)
        {
            var a = Step.Attribute(name);
            if (a is null) return fallback;
            if (a.Kind != PlanAttributeKind.Int) throw Unsupported($"attribute {name} is not an int");
            return a.AsInt;
        }

        public long[]? Ints(string name)
        {
            var a = Step.Attribute(name);
            if (a is null) return null;
            if (a.Kind != PlanAttributeKind.Ints) throw Unsupported($"attribute {name} is not a list of ints");
            return a.Ints.ToArray();
        }

        public float Float(string name, float fallback)
        {
            var a = Step.Attribute(name);
            if (a is null) return fallback;
            if (a.Kind != PlanAttributeKind.Float) throw Unsupported($"attribute {name} is not a float");
            return a.AsFloat;
        }

        public string String(string name, string fallback)
        {
            var a = Step.Attribute(name);
            if (a is null) return fallback;
            if (a.Kind != PlanAttributeKind.String) throw Unsupported($"attribute {name} is not a string");
            return a.AsString;
        }

        /// <summary>True when the planner fused a Relu into this step; any other fused activation is unsupported.</summary>
        public bool FusedRelu
        {
            get
            {
                string act = String("activation", "");
                if (act.Length == 0) return false;
                if (act == "Relu") return true;
                throw Unsupported($"fused activation '{act}' is not supported");
            }
        }

        /// <summary>Fails for attributes the lowering does not understand (other than planner-internal ones).</summary>
        public void AllowOnly(params string[] names)
        {
            foreach (var a in Step.Attributes)
            {
                if (a.Name.StartsWith("_", StringComparison.Ordinal) || a.Name == "activation") continue;
                if (Array.IndexOf(names, a.Name) < 0) throw Unsupported($"attribute '{a.Name}' is not supported");
            }
        }
    }

    /// <summary>Weights operand: runtime format struct name, bytes expression, scales expression, scale axis (-1: one scale).</summary>
    internal sealed class WeightOperand
    {
        public WeightOperand(string format, string bytes, string scales, int axis)
        {
            Format = format;
            Bytes = bytes;
            Scales = scales;
            Axis = axis;
        }

        public string Format { get; }

        public string Bytes { get; }

        public string Scales { get; }

        public int Axis { get; }

        /// <summary>The format as a type argument.</summary>
        public string FormatType => StepLowering.Runtime + Format;

        /// <summary>For packed formats (Q4, Q2): reduction indices per fp16 scale; 0 otherwise.</summary>
        public int Block { get; init; }

        /// <summary>True for the packed sub-byte formats, read by the <c>RunPacked</c> kernels with fp16 scale bytes.</summary>
        public bool IsPacked => Block > 0;
    }
}
