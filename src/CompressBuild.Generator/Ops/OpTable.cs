using System;
using System.Collections.Generic;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// The ops generated predictors support, each mapped to its lowering (one method per op, one file
    /// per op family). To add an op: write its kernel in src/CompressBuild.Runtime (one file per
    /// family, a shape interface with static abstract constants), a lowering method here that reads
    /// the step's shapes/attributes and throws <see cref="StepInfo.Unsupported"/> for anything it does
    /// not handle, register it below, and add a baseline test and an end-to-end test.
    /// </summary>
    internal static class OpTable
    {
        private static readonly Dictionary<string, Func<StepInfo, StepLowering>> Lowerings = new(StringComparer.Ordinal)
        {
            ["Gemm"] = GemmOps.Gemm,
            ["MatMul"] = GemmOps.MatMul,
            ["Conv"] = ConvOps.Conv,
            ["MaxPool"] = PoolOps.MaxPool,
            ["AveragePool"] = PoolOps.AveragePool,
            ["GlobalAveragePool"] = PoolOps.GlobalAveragePool,
            ["Relu"] = ActivationOps.Relu,
            ["Softmax"] = ActivationOps.Softmax,
            ["Add"] = ElementwiseOps.Add,
            ["Sub"] = ElementwiseOps.Sub,
            ["Mul"] = ElementwiseOps.Mul,
            ["Div"] = ElementwiseOps.Div,
        };

        /// <summary>The ops with a lowering.</summary>
        public static IEnumerable<string> SupportedOps => Lowerings.Keys;

        /// <summary>Lowers a step; throws <see cref="UnsupportedStepException"/> when it cannot.</summary>
        public static StepLowering Lower(StepInfo step)
        {
            if (!Lowerings.TryGetValue(step.Step.Op, out var lower))
                throw step.Unsupported($"op '{step.Step.Op}' has no generated kernel");
            try
            {
                return lower(step);
            }
            catch (UnsupportedStepException)
            {
                throw;
            }
            catch (Exception e) when (e is FormatException or OverflowException or IndexOutOfRangeException or ArgumentException)
            {
                throw step.Unsupported($"the step's shapes or attributes are inconsistent ({e.Message})");
            }
        }
    }
}
