using System;

namespace CompressBuild.Plan
{
    /// <summary>
    /// Everything the source generator needs to emit a predictor class: names, inputs and outputs,
    /// the activation arena, the constants in the weight blob, and the steps to run. Weights are
    /// referred to by file and hash, never held.
    /// </summary>
    public sealed record ModelPlan
    {
        /// <summary>The text format version this library reads and writes.</summary>
        public const int FormatVersion = 1;

        /// <summary>Generated class name (a C# identifier).</summary>
        public string ClassName { get; init; } = "";

        /// <summary>Namespace of the generated class (may be empty).</summary>
        public string Namespace { get; init; } = "";

        /// <summary>File name of the original model.</summary>
        public string SourceModel { get; init; } = "";

        /// <summary>SHA-256 (hex) of the original model file.</summary>
        public string SourceSha256 { get; init; } = "";

        /// <summary>One-line human summary of what was applied.</summary>
        public string Compression { get; init; } = "";

        /// <summary>The default-domain ONNX opset whose semantics the steps follow.</summary>
        public int Opset { get; init; }

        /// <summary>Kernel target: generic, x64-avx2, x64-avx512, arm64, scalar.</summary>
        public string Target { get; init; } = "generic";

        /// <summary>The weight blob.</summary>
        public WeightsPlan Weights { get; init; } = new();

        /// <summary>Bytes of the activation arena.</summary>
        public long ArenaBytes { get; init; }

        /// <summary>Graph inputs in order.</summary>
        public EquatableArray<PlanValue> Inputs { get; init; } = EquatableArray<PlanValue>.Empty;

        /// <summary>Graph outputs in order.</summary>
        public EquatableArray<PlanValue> Outputs { get; init; } = EquatableArray<PlanValue>.Empty;

        /// <summary>Arena buffers.</summary>
        public EquatableArray<PlanBuffer> Buffers { get; init; } = EquatableArray<PlanBuffer>.Empty;

        /// <summary>Constants stored in the weight blob.</summary>
        public EquatableArray<PlanConstant> Constants { get; init; } = EquatableArray<PlanConstant>.Empty;

        /// <summary>Steps in execution order.</summary>
        public EquatableArray<PlanStep> Steps { get; init; } = EquatableArray<PlanStep>.Empty;

        /// <summary>Free-form documentation lines for the generated XML docs (what the model is, what was applied).</summary>
        public EquatableArray<string> Notes { get; init; } = EquatableArray<string>.Empty;
    }

    /// <summary>How the weight blob reaches the assembly.</summary>
    public enum WeightStorage
    {
        /// <summary>As a <c>static ReadOnlySpan&lt;byte&gt;</c> literal (small models): the blob is base64 in a text file beside the plan.</summary>
        Literal,

        /// <summary>As an embedded resource read zero-copy (large models).</summary>
        Resource,
    }

    /// <summary>The weight blob: size, hash, and where the generator or the build finds it.</summary>
    public sealed record WeightsPlan
    {
        /// <summary>Total bytes.</summary>
        public long Bytes { get; init; }

        /// <summary>SHA-256 (hex) of the blob.</summary>
        public string Sha256 { get; init; } = "";

        /// <summary>Literal or resource.</summary>
        public WeightStorage Storage { get; init; }

        /// <summary>
        /// For <see cref="WeightStorage.Literal"/>: file name (beside the plan) of the base64 text the
        /// generator reads as an AdditionalFile. For <see cref="WeightStorage.Resource"/>: file name of
        /// the binary blob the build embeds.
        /// </summary>
        public string File { get; init; } = "";

        /// <summary>Manifest resource name for <see cref="WeightStorage.Resource"/>.</summary>
        public string ResourceName { get; init; } = "";
    }

    /// <summary>A graph input or output of the generated class.</summary>
    /// <param name="Name">ONNX name.</param>
    /// <param name="Identifier">C# parameter name derived from it.</param>
    /// <param name="ElementType">Element type (see <see cref="PlanTypes"/>).</param>
    /// <param name="Shape">Shape of one sample (batch dimension 1 when the model has one).</param>
    /// <param name="Buffer">Arena buffer holding it.</param>
    /// <param name="Batched">True when axis 0 is the model's symbolic batch dimension.</param>
    public sealed record PlanValue(string Name, string Identifier, string ElementType, EquatableArray<int> Shape, string Buffer, bool Batched);

    /// <summary>An arena buffer: a typed window of the arena.</summary>
    /// <param name="Id">Identifier used by steps.</param>
    /// <param name="ElementType">Element type.</param>
    /// <param name="Length">Elements.</param>
    /// <param name="Offset">Byte offset in the arena (64-byte aligned).</param>
    public sealed record PlanBuffer(string Id, string ElementType, int Length, long Offset);

    /// <summary>A constant in the weight blob.</summary>
    /// <param name="Id">Identifier used by steps.</param>
    /// <param name="ElementType">Logical element type (what kernels compute with).</param>
    /// <param name="Shape">Shape.</param>
    /// <param name="Storage">How it is stored: the element type itself, or <c>float16</c>/<c>q8</c>/<c>q4</c>/<c>q2</c> for compressed floats.</param>
    /// <param name="Offset">Byte offset in the blob.</param>
    /// <param name="Bytes">Stored bytes.</param>
    /// <param name="Scale">For <c>q8</c>: the id of the float constant of scales (stored fp32); for <c>q4</c>/<c>q2</c>: of the fp16-stored scales.</param>
    /// <param name="Axis">For <c>q8</c>: the axis the scales run along (-1 = one scale); for <c>q4</c>/<c>q2</c>: the output-channel axis (0, or 1 of a 2-D <c>[K, N]</c> weight).</param>
    public sealed record PlanConstant(string Id, string ElementType, EquatableArray<int> Shape, string Storage, long Offset, long Bytes, string Scale, int Axis)
    {
        /// <summary>
        /// For <c>q4</c>/<c>q2</c>: reduction indices per scale (the last block of a channel may be
        /// shorter); 0 for every other storage. Packed values keep the tensor's element order, from the
        /// low bits of each byte up; scales are indexed <c>(outer · blocks + r / Block) · inner + inner index</c>
        /// for the weight viewed as <c>[outer, reduction, inner]</c> around its channel axis.
        /// </summary>
        public int Block { get; init; }
    }

    /// <summary>Storage names of packed sub-byte weights.</summary>
    public static class PlanStorages
    {
        /// <summary>Symmetric int8 with fp32 scales.</summary>
        public const string Q8 = "q8";
        /// <summary>Int4 in [-8, 7], two per byte, fp16 block scales.</summary>
        public const string Q4 = "q4";
        /// <summary>Int2 in [-2, 1], four per byte, fp16 block scales.</summary>
        public const string Q2 = "q2";

        /// <summary>Bits per value of a packed storage (4 or 2), or 0.</summary>
        public static int PackedBits(string storage) => storage == Q4 ? 4 : storage == Q2 ? 2 : 0;
    }

    /// <summary>One operator application.</summary>
    /// <param name="Op">ONNX op type.</param>
    /// <param name="Name">Node name (for messages and comments).</param>
    /// <param name="Inputs">Buffer or constant ids; empty string for an omitted optional input.</param>
    /// <param name="Outputs">Buffer ids; empty string for an omitted optional output.</param>
    /// <param name="Attributes">Resolved attributes, sorted by name.</param>
    public sealed record PlanStep(string Op, string Name, EquatableArray<string> Inputs, EquatableArray<string> Outputs, EquatableArray<PlanAttribute> Attributes)
    {
        /// <summary>The attribute with this name, or null.</summary>
        public PlanAttribute? Attribute(string name)
        {
            foreach (var a in Attributes)
                if (a.Name == name) return a;
            return null;
        }
    }

    /// <summary>Kinds of attribute value in a plan.</summary>
    public enum PlanAttributeKind
    {
        /// <summary>One int64.</summary>
        Int,
        /// <summary>A list of int64.</summary>
        Ints,
        /// <summary>One float.</summary>
        Float,
        /// <summary>A list of floats.</summary>
        Floats,
        /// <summary>A string.</summary>
        String,
        /// <summary>A list of strings.</summary>
        Strings,
    }

    /// <summary>A step attribute; exactly one of the value properties is meaningful, per <see cref="Kind"/>.</summary>
    public sealed record PlanAttribute(string Name, PlanAttributeKind Kind, EquatableArray<long> Ints, EquatableArray<float> Floats, EquatableArray<string> Strings)
    {
        /// <summary>An int attribute.</summary>
        public static PlanAttribute Int(string name, long value) => new(name, PlanAttributeKind.Int, EquatableArray.Create(value), EquatableArray<float>.Empty, EquatableArray<string>.Empty);
        /// <summary>An ints attribute.</summary>
        public static PlanAttribute IntList(string name, params long[] values) => new(name, PlanAttributeKind.Ints, values.ToEquatableArray(), EquatableArray<float>.Empty, EquatableArray<string>.Empty);
        /// <summary>A float attribute.</summary>
        public static PlanAttribute Float(string name, float value) => new(name, PlanAttributeKind.Float, EquatableArray<long>.Empty, EquatableArray.Create(value), EquatableArray<string>.Empty);
        /// <summary>A floats attribute.</summary>
        public static PlanAttribute FloatList(string name, params float[] values) => new(name, PlanAttributeKind.Floats, EquatableArray<long>.Empty, values.ToEquatableArray(), EquatableArray<string>.Empty);
        /// <summary>A string attribute.</summary>
        public static PlanAttribute String(string name, string value) => new(name, PlanAttributeKind.String, EquatableArray<long>.Empty, EquatableArray<float>.Empty, EquatableArray.Create(value));
        /// <summary>A strings attribute.</summary>
        public static PlanAttribute StringList(string name, params string[] values) => new(name, PlanAttributeKind.Strings, EquatableArray<long>.Empty, EquatableArray<float>.Empty, values.ToEquatableArray());

        /// <summary>The single int value.</summary>
        public long AsInt => Ints[0];
        /// <summary>The single float value.</summary>
        public float AsFloat => Floats[0];
        /// <summary>The single string value.</summary>
        public string AsString => Strings[0];
    }

    /// <summary>Element type names used in plans (ONNX names, lower case).</summary>
    public static class PlanTypes
    {
        /// <summary>float32.</summary>
        public const string Float = "float";
        /// <summary>float64.</summary>
        public const string Double = "double";
        /// <summary>IEEE half.</summary>
        public const string Float16 = "float16";
        /// <summary>int8.</summary>
        public const string Int8 = "int8";
        /// <summary>uint8.</summary>
        public const string UInt8 = "uint8";
        /// <summary>int16.</summary>
        public const string Int16 = "int16";
        /// <summary>uint16.</summary>
        public const string UInt16 = "uint16";
        /// <summary>int32.</summary>
        public const string Int32 = "int32";
        /// <summary>uint32.</summary>
        public const string UInt32 = "uint32";
        /// <summary>int64.</summary>
        public const string Int64 = "int64";
        /// <summary>uint64.</summary>
        public const string UInt64 = "uint64";
        /// <summary>bool.</summary>
        public const string Bool = "bool";

        /// <summary>Bytes per element.</summary>
        public static int Size(string type) => type switch
        {
            Float or Int32 or UInt32 => 4,
            Double or Int64 or UInt64 => 8,
            Float16 or Int16 or UInt16 => 2,
            Int8 or UInt8 or Bool => 1,
            _ => throw new ArgumentException($"unknown plan element type '{type}'"),
        };

        /// <summary>The C# keyword or global type for an element type.</summary>
        public static string CSharp(string type) => type switch
        {
            Float => "float",
            Double => "double",
            Float16 => "global::System.Half",
            Int8 => "sbyte",
            UInt8 => "byte",
            Int16 => "short",
            UInt16 => "ushort",
            Int32 => "int",
            UInt32 => "uint",
            Int64 => "long",
            UInt64 => "ulong",
            Bool => "bool",
            _ => throw new ArgumentException($"unknown plan element type '{type}'"),
        };
    }
}
