using System;
using System.Globalization;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>Typed operands, scratch and constant values for the neural-network lowerings (Conv, pooling, normalization, RNN, Resize).</summary>
    internal sealed partial class StepInfo
    {
        /// <summary>Element type of output <paramref name="o"/>.</summary>
        public string NnOutputType(int o) => Buffer(Step.Outputs[o]).ElementType;

        /// <summary>
        /// A <c>ReadOnlySpan&lt;T&gt;</c> expression (T the C# type of <paramref name="type"/>) for input
        /// <paramref name="i"/> with <paramref name="elements"/> elements: an arena window, or a constant
        /// stored as its own element type.
        /// </summary>
        public string NnInput(int i, long elements, string type)
        {
            string id = Step.Inputs[i];
            string cs = PlanTypes.CSharp(type);
            if (_buffers.TryGetValue(id, out var b))
            {
                if (b.ElementType != type) throw Unsupported($"input {i} has element type {b.ElementType}, expected {type}");
                if (b.Length < elements) throw Unsupported($"buffer {id} holds {b.Length} elements, the step reads {elements}");
                return BufferVar(id) + ".Slice(0, " + Lit.Int(elements) + ")";
            }
            var c = _constants.TryGetValue(id, out var cc) ? cc : throw Unsupported($"input '{id}' is neither a buffer nor a constant of the plan");
            if (c.ElementType != type || c.Storage != type)
                throw Unsupported($"constant input {i} is {c.ElementType} stored as {c.Storage}; this op reads it as {type}");
            long bytes = elements * PlanTypes.Size(type);
            if (c.Bytes < bytes) throw Unsupported($"constant {id} holds {c.Bytes} bytes, the step reads {bytes}");
            string slice = "__w.Slice(" + Lit.Int(c.Offset) + ", " + Lit.Int(bytes) + ")";
            return type == PlanTypes.UInt8 ? slice : "global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, " + cs + ">(" + slice + ")";
        }

        /// <summary>A <c>Span&lt;T&gt;</c> expression for output <paramref name="o"/> of element type <paramref name="type"/>.</summary>
        public string NnOutput(int o, long elements, string type)
        {
            string id = Step.Outputs[o];
            var b = Buffer(id);
            if (b.ElementType != type) throw Unsupported($"output {o} has element type {b.ElementType}, expected {type}");
            if (b.Length < elements) throw Unsupported($"buffer {id} holds {b.Length} elements, the step writes {elements}");
            return BufferVar(id) + ".Slice(0, " + Lit.Int(elements) + ")";
        }

        /// <summary>
        /// A <c>Span&lt;float&gt;</c> of <paramref name="floats"/> scratch floats: the arena buffer the
        /// planner reserved for the step (<c>_scratch</c>), else the emitter's scratch after the arena
        /// (hand-written plans), which <paramref name="lowering"/> then requests. Call it after the
        /// lowering's other members are set (it may set <see cref="StepLowering.ScratchFloats"/>).
        /// </summary>
        public string NnScratch(StepLowering lowering, long floats)
        {
            if (floats <= 0) return "default";
            string? planned = Step.Attribute(KernelScratch.Attribute)?.AsString;
            // A planned buffer too small for the kernel (a plan whose formula bounds a case the
            // kernel needs more for) falls back to the scratch after the arena, as without one.
            if (planned is not null && _buffers.TryGetValue(planned, out var b) && b.ElementType == PlanTypes.Float && b.Length >= floats)
                return BufferVar(planned) + ".Slice(0, " + Lit.Int(floats) + ")";
            lowering.ScratchFloats = Math.Max(lowering.ScratchFloats, floats);
            return "__scratch.Slice(0, " + Lit.Int(floats) + ")";
        }

        /// <summary>The inlined value of constant input <paramref name="i"/> (<c>_value{i}</c>) as ints, or null.</summary>
        public long[]? NnIntValue(int i)
        {
            var a = Step.Attribute("_value" + i.ToString(CultureInfo.InvariantCulture));
            if (a is null || a.Kind != PlanAttributeKind.Ints) return null;
            return a.Ints.ToArray();
        }

        /// <summary>The inlined value of constant input <paramref name="i"/> (<c>_value{i}</c>) as floats, or null.</summary>
        public float[]? NnFloatValue(int i)
        {
            var a = Step.Attribute("_value" + i.ToString(CultureInfo.InvariantCulture));
            if (a is null) return null;
            if (a.Kind == PlanAttributeKind.Floats) return a.Floats.ToArray();
            if (a.Kind == PlanAttributeKind.Ints) return a.Ints.Select(v => (float)v).ToArray();
            return null;
        }

        /// <summary>A float list attribute, or null.</summary>
        public float[]? NnFloats(string name)
        {
            var a = Step.Attribute(name);
            if (a is null) return null;
            if (a.Kind != PlanAttributeKind.Floats) throw Unsupported($"attribute {name} is not a list of floats");
            return a.Floats.ToArray();
        }

        /// <summary>A string list attribute, or null.</summary>
        public string[]? NnStrings(string name)
        {
            var a = Step.Attribute(name);
            if (a is null) return null;
            if (a.Kind != PlanAttributeKind.Strings) throw Unsupported($"attribute {name} is not a list of strings");
            return a.Strings.ToArray();
        }

        /// <summary>True when a graph input of the plan has the symbolic batch axis (predictors then run one sample at a time).</summary>
        public bool NnBatched => Plan.Inputs.Any(v => v.Batched);
    }
}
