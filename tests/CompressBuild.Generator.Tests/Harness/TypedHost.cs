using System.Text;
using CompressBuild.Onnx;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Tests.Harness;

/// <summary>
/// A small host class per generated predictor that calls its typed span API with arrays
/// (reflection cannot pass spans), and the mapping between plan element types and CLR/ONNX types.
/// </summary>
internal static class TypedHost
{
    /// <summary>
    /// Source of <c>{hostNamespace}.Host_{Class}</c>: <c>Create()</c>, <c>Predict(p, Array[] i, Array[] o)</c>,
    /// <c>PredictBatch(p, i, o, n)</c> when every input and output is batched, and
    /// <c>Allocated(p, i, o, calls)</c> (bytes allocated by <c>calls</c> Predict calls after a warm-up).
    /// </summary>
    public static string Source(ModelPlan plan, string hostNamespace, string classNamespace)
    {
        string c = $"global::{classNamespace}.{plan.ClassName}";
        string Arg(string array, int k, string type) => $"({PlanTypes.CSharp(type)}[]){array}[{k}]";
        string args = string.Join(", ", plan.Inputs.Select((v, k) => Arg("i", k, v.ElementType)).Concat(plan.Outputs.Select((v, k) => Arg("o", k, v.ElementType))));
        bool batched = plan.Inputs.All(v => v.Batched) && plan.Outputs.All(v => v.Batched);
        var sb = new StringBuilder();
        sb.AppendLine($"namespace {hostNamespace}");
        sb.AppendLine("{");
        sb.AppendLine($"    public static class Host_{plan.ClassName}");
        sb.AppendLine("    {");
        sb.AppendLine($"        public static object Create() => new {c}();");
        sb.AppendLine($"        public static void Predict(object p, global::System.Array[] i, global::System.Array[] o) => (({c})p).Predict({args});");
        if (batched) sb.AppendLine($"        public static void PredictBatch(object p, global::System.Array[] i, global::System.Array[] o, int n) => (({c})p).PredictBatch({args}, n);");
        sb.AppendLine("        public static long Allocated(object p, global::System.Array[] i, global::System.Array[] o, int calls)");
        sb.AppendLine("        {");
        sb.AppendLine($"            var m = ({c})p;");
        sb.AppendLine($"            m.Predict({args});");
        sb.AppendLine("            long before = global::System.GC.GetAllocatedBytesForCurrentThread();");
        sb.AppendLine($"            for (int k = 0; k < calls; k++) m.Predict({args});");
        sb.AppendLine("            return global::System.GC.GetAllocatedBytesForCurrentThread() - before;");
        sb.AppendLine("        }");
        sb.AppendLine("    }");
        sb.AppendLine("}");
        return sb.ToString();
    }

    /// <summary>The CLR element type of a plan element type.</summary>
    public static Type ClrType(string planType) => planType switch
    {
        PlanTypes.Float => typeof(float),
        PlanTypes.Double => typeof(double),
        PlanTypes.Float16 => typeof(Half),
        PlanTypes.Int8 => typeof(sbyte),
        PlanTypes.UInt8 => typeof(byte),
        PlanTypes.Int16 => typeof(short),
        PlanTypes.UInt16 => typeof(ushort),
        PlanTypes.Int32 => typeof(int),
        PlanTypes.UInt32 => typeof(uint),
        PlanTypes.Int64 => typeof(long),
        PlanTypes.UInt64 => typeof(ulong),
        PlanTypes.Bool => typeof(bool),
        _ => throw new ArgumentException(planType),
    };

    /// <summary>The ONNX element type of a plan element type.</summary>
    public static DataType OnnxType(string planType) => planType switch
    {
        PlanTypes.Float => DataType.Float,
        PlanTypes.Double => DataType.Double,
        PlanTypes.Float16 => DataType.Float16,
        PlanTypes.Int8 => DataType.Int8,
        PlanTypes.UInt8 => DataType.UInt8,
        PlanTypes.Int16 => DataType.Int16,
        PlanTypes.UInt16 => DataType.UInt16,
        PlanTypes.Int32 => DataType.Int32,
        PlanTypes.UInt32 => DataType.UInt32,
        PlanTypes.Int64 => DataType.Int64,
        PlanTypes.UInt64 => DataType.UInt64,
        PlanTypes.Bool => DataType.Bool,
        _ => throw new ArgumentException(planType),
    };
}
