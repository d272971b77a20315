using System.Collections.Generic;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>BatchNormalization and LayerNormalization → <c>CompressBuild.Runtime.Normalization</c>.</summary>
    internal static class NormalizationOps
    {
        private const string R = StepLowering.Runtime;

        /// <summary>
        /// BatchNormalization over inputs of any rank (1-D: N samples of one channel; spatial = 0 of
        /// old opsets: one channel per activation), fused Relu. Training-mode statistics (opsets &lt; 7
        /// is_test = 0, 7–13 with more outputs than Y, 14+ training_mode = 1) with the running-statistics
        /// and (opsets &lt; 14) saved mean / inverse-std outputs, for unbatched models.
        /// </summary>
        [Lowers("BatchNormalization")]
        public static StepLowering BatchNormalization(StepInfo s)
        {
            s.AllowOnly("epsilon", "momentum", "spatial", "is_test", "training_mode", "consumed_inputs");
            s.RequireFloat(0, 1, 2, 3, 4);
            var x = s.InShape(0);
            if (x.Length == 0) throw s.Unsupported("a scalar input");
            bool spatial = s.Opset >= 9 || s.Int("spatial", 1) != 0;
            bool moreOutputs = Enumerable.Range(1, System.Math.Max(0, s.OutputCount - 1)).Any(o => s.HasOutput(o));
            bool training = s.Opset < 7 ? s.Int("is_test", 0) == 0 : s.Opset < 14 ? moreOutputs : s.Int("training_mode", 0) != 0;
            if (s.Opset >= 14 && !training && moreOutputs) throw s.Unsupported("running_mean/running_var outputs without training_mode");
            if (training && s.NnBatched)
                throw s.Unsupported("training-mode statistics of a batched model (they span the batch; predictors run one sample at a time)");
            int n = x[0];
            long c = x.Length == 1 ? 1 : spatial ? x[1] : Lit.Product(x.Skip(1));
            long inner = x.Length == 1 || !spatial ? 1 : Lit.Product(x.Skip(2));
            for (int i = 1; i < 5; i++)
                if (Lit.Product(s.InShape(i)) != c) throw s.Unsupported($"input {i} of shape {Lit.Shape(s.InShape(i))} does not match the {c} channels of X {Lit.Shape(x)}");
            long total = Lit.Product(x);
            string Out(int o, long count) => s.HasOutput(o) && (o < 3 || s.Opset < 14) ? s.FloatOutput(o, count) : "default";
            bool relu = s.FusedRelu;
            return new StepLowering($"BatchNormalization {Lit.Shape(x)} ({n}x{c}x{inner}){(training ? ", batch statistics" : "")}{(relu ? ", Relu" : "")}")
                .Shape("IBatchNormShape")
                .Int("N", n).Int("C", c).Int("Inner", inner)
                .Float("Epsilon", s.Float("epsilon", 1e-5f)).Float("Momentum", s.Float("momentum", 0.9f))
                .Bool("Training", training).Bool("Relu", relu)
                .Call($"{R}Normalization.BatchNorm<{s.StructName}, {StepLowering.Simd}>({s.FloatInput(0, total)}, {s.FloatInput(1, c)}, {s.FloatInput(2, c)}, {s.FloatInput(3, c)}, {s.FloatInput(4, c)}, {s.FloatOutput(0, total)}, {Out(1, c)}, {Out(2, c)}, {Out(3, c)}, {Out(4, c)});");
        }

        /// <summary>LayerNormalization: axis, epsilon, Scale and optional B broadcast to the normalized dims, optional Mean and InvStdDev outputs.</summary>
        [Lowers("LayerNormalization")]
        public static StepLowering LayerNormalization(StepInfo s)
        {
            s.AllowOnly("axis", "epsilon", "stash_type");
            if (s.Int("stash_type", 1) != 1) throw s.Unsupported($"stash_type {s.Int("stash_type", 1)} (float statistics only)");
            s.RequireFloat(0, 1, 2);
            var x = s.InShape(0);
            int rank = x.Length;
            long axis = s.Int("axis", -1);
            if (axis < 0) axis += rank;
            if (axis < 0 || axis >= rank) throw s.Unsupported($"axis {s.Int("axis", -1)} for input {Lit.Shape(x)}");
            if (axis == 0 && s.NnBatched) throw s.Unsupported("normalizing over the batch axis (predictors run one sample at a time)");
            var normalized = x.Skip((int)axis).ToArray();
            long rows = Lit.Product(x.Take((int)axis)), size = Lit.Product(normalized);
            if (size == 0) throw s.Unsupported("an empty normalized extent");
            bool hasBias = s.HasInput(2);
            var scale = s.InShape(1);
            var bias = hasBias ? s.InShape(2) : new int[0];
            var sStrides = Strides(s, scale, normalized, "Scale");
            var bStrides = hasBias ? Strides(s, bias, normalized, "B") : new long[normalized.Length];
            var axes = new List<(long Dim, long S, long B)>();
            for (int i = 0; i < normalized.Length; i++)
            {
                if (normalized[i] == 1) continue;
                if (axes.Count > 0)
                {
                    var last = axes[axes.Count - 1];
                    if (last.S == sStrides[i] * normalized[i] && last.B == bStrides[i] * normalized[i])
                    {
                        axes[axes.Count - 1] = (last.Dim * normalized[i], sStrides[i], bStrides[i]);
                        continue;
                    }
                }
                axes.Add((normalized[i], sStrides[i], bStrides[i]));
            }
            if (axes.Count > 3) throw s.Unsupported($"Scale {Lit.Shape(scale)} / B {Lit.Shape(bias)} broadcast to {Lit.Shape(normalized)} needs {axes.Count} loop axes; at most 3 are supported");
            while (axes.Count < 3) axes.Insert(0, (1, 0, 0));
            bool dense = axes[0].Dim == 1 && axes[1].Dim == 1 && axes[2].S == 1 && (!hasBias || axes[2].B == 1);
            long Extent(System.Func<(long Dim, long S, long B), long> stride) => axes.Sum(a => (a.Dim - 1) * stride(a)) + 1;
            return new StepLowering($"LayerNormalization {Lit.Shape(x)} axis {axis}: {rows} rows of {size}{(dense ? "" : ", broadcast parameters")}")
                .Shape("ILayerNormShape")
                .Int("Rows", rows).Int("Size", size).Float("Epsilon", s.Float("epsilon", 1e-5f))
                .Bool("HasBias", hasBias).Bool("Dense", dense)
                .Int("D0", axes[0].Dim).Int("D1", axes[1].Dim).Int("D2", axes[2].Dim)
                .Int("S0", axes[0].S).Int("S1", axes[1].S).Int("S2", axes[2].S)
                .Int("B0", axes[0].B).Int("B1", axes[1].B).Int("B2", axes[2].B)
                .Call($"{R}Normalization.LayerNorm<{s.StructName}, {StepLowering.Simd}>({s.FloatInput(0, rows * size)}, {s.FloatInput(1, Extent(a => a.S))}, " +
                    $"{(hasBias ? s.FloatInput(2, Extent(a => a.B)) : "default")}, {s.FloatOutput(0, rows * size)}, " +
                    $"{(s.HasOutput(1) ? s.FloatOutput(1, rows) : "default")}, {(s.HasOutput(2) ? s.FloatOutput(2, rows) : "default")});");
        }

        /// <summary>Element strides of <paramref name="p"/> broadcast (right-aligned) to <paramref name="dims"/>; 0 where it repeats.</summary>
        private static long[] Strides(StepInfo s, int[] p, int[] dims, string name)
        {
            if (p.Length > dims.Length) throw s.Unsupported($"{name} {Lit.Shape(p)} has more axes than the normalized dims {Lit.Shape(dims)}");
            var strides = new long[dims.Length];
            long stride = 1;
            int lead = dims.Length - p.Length;
            for (int i = dims.Length - 1; i >= 0; i--)
            {
                int d = i < lead ? 1 : p[i - lead];
                if (d != dims[i] && d != 1) throw s.Unsupported($"{name} {Lit.Shape(p)} does not broadcast to the normalized dims {Lit.Shape(dims)}");
                strides[i] = d == 1 ? 0 : stride;
                stride *= d;
            }
            return strides;
        }
    }
}
