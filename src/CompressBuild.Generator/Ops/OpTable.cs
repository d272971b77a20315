using System;
using System.Collections.Generic;
using System.Reflection;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// The ops generated predictors support, each mapped to its lowering (one method per op, one file
    /// per op family). To add an op: write its kernel in src/CompressBuild.Runtime (one file per
    /// family, a shape interface with static abstract constants), a lowering method here that reads
    /// the step's shapes/attributes and throws <see cref="StepInfo.Unsupported"/> for anything it does
    /// not handle, marked <c>[Lowers("Op")]</c>, and add a baseline test and an end-to-end test.
    /// </summary>
    internal static class OpTable
    {
        private static readonly Dictionary<string, Func<StepInfo, StepLowering>> Lowerings = Discover();

        // Every static method marked [Lowers("Op")] in this assembly.
        private static Dictionary<string, Func<StepInfo, StepLowering>> Discover()
        {
            var result = new Dictionary<string, Func<StepInfo, StepLowering>>(StringComparer.Ordinal);
            foreach (var type in typeof(OpTable).Assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                {
                    foreach (var attribute in method.GetCustomAttributes<LowersAttribute>())
                    {
                        if (result.ContainsKey(attribute.Op))
                            throw new InvalidOperationException($"two lowerings claim {attribute.Op}");
                        result[attribute.Op] = (Func<StepInfo, StepLowering>)method.CreateDelegate(typeof(Func<StepInfo, StepLowering>));
                    }
                }
            }
            return result;
        }

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
