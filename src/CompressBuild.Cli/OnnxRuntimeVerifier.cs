using System.Globalization;
using CompressBuild.Core.Compression;
using CompressBuild.Core.Data;
using CompressBuild.Core.Execution;
using CompressBuild.Plan;
using CompressBuild.Verification;
using Microsoft.ML.OnnxRuntime;

namespace CompressBuild.Cli;

/// <summary>
/// The build's verification step: the compressed .onnx must run in ONNX Runtime and agree with the
/// engine (which computes what the generated predictor computes). A disagreement is a warning
/// (CB6004), reported in the report's <c>verification</c> lines.
/// </summary>
internal static class OnnxRuntimeVerifier
{
    public const double RelativeTolerance = 1e-3;
    public const double AbsoluteTolerance = 1e-4;

    public static (IReadOnlyList<string> Lines, IReadOnlyList<string> Warnings) Verify(CompressionOutput output, CompressionSettings settings, string file)
    {
        var lines = new List<string>();
        var warnings = new List<string>();
        var model = output.CompressedModel;
        var executor = new Executor(model);
        var inputs = Inputs(output.Plan.Plan, executor, settings);
        var ours = executor.Run(inputs, new Core.Operators.RunOptions());
        Tensor[] theirs;
        try
        {
            theirs = OnnxRuntimeRunner.Run(OnnxModel.ToBytes(model), inputs);
        }
        catch (OnnxRuntimeException e)
        {
            string w = $"warning {ErrorCodes.VerificationMismatch}: {file}: ONNX Runtime cannot run the compressed model ({e.Message.Split('\n')[0]}); the predictor was generated but not cross-checked.";
            warnings.Add(w);
            lines.Add(w["warning ".Length..]);
            return (lines, warnings);
        }
        for (int i = 0; i < ours.Length; i++)
        {
            double max = 0;
            bool ok = true;
            for (int k = 0; k < ours[i].Length; k++)
            {
                double a = ours[i].GetDouble(k), b = theirs[i].GetDouble(k);
                double d = Math.Abs(a - b);
                max = Math.Max(max, d);
                if (d > AbsoluteTolerance + RelativeTolerance * Math.Abs(b)) ok = false;
            }
            string name = executor.Outputs[i].Name;
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"ONNX Runtime vs CompressBuild on the compressed model, output '{name}', {inputs[0].Shape[0]} samples: max abs difference {max:G3} ({(ok ? "agrees" : "DISAGREES")})"));
            if (!ok)
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"warning {ErrorCodes.VerificationMismatch}: {file}: output '{name}' of the compressed model differs between ONNX Runtime and CompressBuild by up to {max:G3}; please report it with the model."));
        }
        return (lines, warnings);
    }

    private static Tensor[] Inputs(ModelPlan plan, Executor executor, CompressionSettings settings)
    {
        if (settings.EvaluationData.Length > 0 && executor.Inputs.Count == 1)
        {
            var data = DataSet.Load(settings.EvaluationData, null, settings.DataScale);
            var info = executor.Inputs[0];
            if (info.Shape is not null) data = data.ReshapedTo(info.Shape, info.Name);
            return new[] { data.Batch(0, Math.Min(Compressor.VerificationSamples, data.Count)) };
        }
        var rng = new Random(settings.Seed);
        return plan.Inputs.Select(v =>
        {
            int n = v.Batched ? Compressor.VerificationSamples : 1;
            var shape = v.Shape.ToArray();
            if (v.Batched) shape[0] = n;
            var t = Tensor.Zeros(DataTypes.FromClr(ClrType(v.ElementType)), shape);
            if (t.Data is float[] f)
                for (int i = 0; i < f.Length; i++) f[i] = (float)rng.NextDouble();
            return t;
        }).ToArray();
    }

    private static Type ClrType(string planType) => planType switch
    {
        PlanTypes.Float => typeof(float),
        PlanTypes.Double => typeof(double),
        PlanTypes.Int64 => typeof(long),
        PlanTypes.Int32 => typeof(int),
        PlanTypes.Int8 => typeof(sbyte),
        PlanTypes.UInt8 => typeof(byte),
        PlanTypes.Bool => typeof(bool),
        PlanTypes.Float16 => typeof(Half),
        PlanTypes.Int16 => typeof(short),
        PlanTypes.UInt16 => typeof(ushort),
        PlanTypes.UInt32 => typeof(uint),
        _ => typeof(ulong),
    };
}
