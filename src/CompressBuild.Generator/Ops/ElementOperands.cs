using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// Typed operands for the element-wise family: span expressions of any plan element type (arena
    /// buffers, or weight-blob constants stored in their own type), and the C# names kernels take.
    /// </summary>
    internal static class ElementOperands
    {
        private const string MemoryMarshal = "global::System.Runtime.InteropServices.MemoryMarshal";

        /// <summary>The C# type of a plan element type, as a type argument (<c>float</c>, <c>global::System.Half</c>, ...).</summary>
        public static string CSharp(string planType) => PlanTypes.CSharp(planType);

        /// <summary>Element type of output <paramref name="o"/>.</summary>
        public static string OutputType(StepInfo s, int o)
        {
            string id = s.Step.Outputs[o];
            var b = s.Plan.Buffers.FirstOrDefault(x => x.Id == id) ?? throw s.Unsupported($"'{id}' is not a buffer of the plan");
            return b.ElementType;
        }

        /// <summary>True for the numeric types (everything but bool).</summary>
        public static bool IsNumeric(string planType) => planType != PlanTypes.Bool;

        /// <summary>True for float, double and float16.</summary>
        public static bool IsFloat(string planType) => planType is PlanTypes.Float or PlanTypes.Double or PlanTypes.Float16;

        /// <summary>True for the unsigned integer types.</summary>
        public static bool IsUnsigned(string planType) => planType is PlanTypes.UInt8 or PlanTypes.UInt16 or PlanTypes.UInt32 or PlanTypes.UInt64;

        /// <summary>A <c>ReadOnlySpan&lt;T&gt;</c> expression (T = the input's element type) for input <paramref name="i"/> with <paramref name="elements"/> elements.</summary>
        public static string Input(StepInfo s, int i, long elements)
        {
            string id = s.Step.Inputs[i];
            var b = s.Plan.Buffers.FirstOrDefault(x => x.Id == id);
            if (b is not null)
            {
                if (b.Length < elements) throw s.Unsupported($"buffer {id} holds {b.Length} elements, the step reads {elements}");
                return StepInfo.BufferVar(id) + ".Slice(0, " + Lit.Int(elements) + ")";
            }
            var c = s.Plan.Constants.FirstOrDefault(x => x.Id == id) ?? throw s.Unsupported($"input '{id}' is neither a buffer nor a constant of the plan");
            if (c.Storage != c.ElementType)
                throw s.Unsupported($"constant input {i} ({c.ElementType}) is stored as {c.Storage}; element-wise kernels read constants in their own type only");
            long bytes = elements * PlanTypes.Size(c.ElementType);
            if (c.Bytes < bytes) throw s.Unsupported($"constant {id} holds {c.Bytes} bytes, the step reads {elements} elements");
            return MemoryMarshal + ".Cast<byte, " + CSharp(c.ElementType) + ">(__w.Slice(" + Lit.Int(c.Offset) + ", " + Lit.Int(bytes) + "))";
        }

        /// <summary>A <c>Span&lt;T&gt;</c> expression for output <paramref name="o"/> with <paramref name="elements"/> elements.</summary>
        public static string Output(StepInfo s, int o, long elements)
        {
            string id = s.Step.Outputs[o];
            var b = s.Plan.Buffers.FirstOrDefault(x => x.Id == id) ?? throw s.Unsupported($"'{id}' is not a buffer of the plan");
            if (b.Length < elements) throw s.Unsupported($"buffer {id} holds {b.Length} elements, the step writes {elements}");
            return StepInfo.BufferVar(id) + ".Slice(0, " + Lit.Int(elements) + ")";
        }

        /// <summary>Input <paramref name="i"/> is the same arena buffer as output <paramref name="o"/> (an in-place step).</summary>
        public static bool SameBuffer(StepInfo s, int i, int o) => s.Step.Inputs[i] == s.Step.Outputs[o];

        /// <summary>Requires every present input and output to have element type <paramref name="type"/>.</summary>
        public static void RequireSameType(StepInfo s, string type, params int[] inputs)
        {
            foreach (int i in inputs)
                if (s.HasInput(i) && s.InputType(i) != type)
                    throw s.Unsupported($"input {i} is {s.InputType(i)}, input 0 is {type}; the op needs one element type");
        }
    }
}
