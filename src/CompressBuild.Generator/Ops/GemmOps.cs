using System.Collections.Generic;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>Gemm and MatMul → <c>CompressBuild.Runtime.Gemm</c>.</summary>
    internal static class GemmOps
    {
        private const string R = StepLowering.Runtime;

        /// <summary>Gemm: transA/transB, alpha/beta, C broadcast, fused Relu, B in fp32/fp16/int8/int4/int2.</summary>
        [Lowers("Gemm")]
        public static StepLowering Gemm(StepInfo s)
        {
            s.AllowOnly("alpha", "beta", "transA", "transB", "broadcast");
            s.RequireFloat(0, 2);
            var a = s.InShape(0);
            var b = s.InShape(1);
            var y = s.OutShape(0);
            if (a.Length != 2 || b.Length != 2) throw s.Unsupported($"A {Lit.Shape(a)} and B {Lit.Shape(b)} must be 2-D");
            bool ta = s.Int("transA", 0) != 0, tb = s.Int("transB", 0) != 0;
            int m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
            int n = tb ? b[0] : b[1], kb = tb ? b[1] : b[0];
            if (k != kb || y.Length != 2 || y[0] != m || y[1] != n)
                throw s.Unsupported($"shapes A {Lit.Shape(a)}, B {Lit.Shape(b)}, Y {Lit.Shape(y)} do not agree");
            float alpha = s.Float("alpha", 1f), beta = s.Float("beta", 1f);
            bool hasC = s.HasInput(2) && beta != 0f;
            int cRow = 0, cCol = 0;
            string c = "default";
            if (hasC)
            {
                var cs = s.InShape(2);
                (cRow, cCol) = CStrides(s, cs, m, n);
                c = s.FloatInput(2, Lit.Product(cs));
            }
            var w = s.WeightInput(1, (long)k * n);
            bool perColumn = ScalePerColumn(s, w, tb ? 0 : 1);
            RequirePackedChannels(s, w, tb ? 0 : 1);
            bool relu = s.FusedRelu;
            var lowering = new StepLowering($"Gemm {Lit.Shape(a)} x {Lit.Shape(b)}{(ta ? "ᵀA" : "")}{(tb ? " (B transposed)" : "")} -> {Lit.Shape(y)}, weights {Weights(w)}{(relu ? ", Relu" : "")}")
                .Shape(w.IsPacked ? "IPackedGemmShape" : "IGemmShape")
                .Int("M", m).Int("N", n).Int("K", k)
                .Bool("TransA", ta).Bool("TransB", tb)
                .Float("Alpha", alpha).Float("Beta", beta)
                .Bool("HasC", hasC).Int("CRowStride", cRow).Int("CColStride", cCol)
                .Bool("ScalePerColumn", perColumn).Bool("Relu", relu);
            if (w.IsPacked) lowering.Int("Block", w.Block);
            return lowering.Call($"{R}Gemm.{(w.IsPacked ? "RunPacked" : "Run")}<{s.StructName}, {w.FormatType}, {StepLowering.Simd}>({s.FloatInput(0, (long)m * k)}, {w.Bytes}, {w.Scales}, {c}, {s.FloatOutput(0, (long)m * n)});");
        }

        /// <summary>MatMul: 2-D, 1-D promotion, batched with one shared side; fused Relu; B in fp32/fp16/int8 (int4/int2 when 2-D).</summary>
        [Lowers("MatMul")]
        public static StepLowering MatMul(StepInfo s)
        {
            s.AllowOnly();
            if (s.InputType(0) != PlanTypes.Float) return MatMulNd(s, s.InputType(0));
            s.RequireFloat(0);
            var mm = MatMulOperands.Of(s, 0, 1);
            if (!mm.OneSideShared) return MatMulNd(s, PlanTypes.Float);
            mm.RequireOutput(s);
            int m = mm.M, n = mm.N, k = mm.K;
            long pa = mm.Pa, pb = mm.Pb, batch = mm.Batch;
            int[] a = mm.A, b = mm.B, y = s.OutShape(0);
            var w = s.WeightInput(1, pb * k * n);
            bool perColumn = w.Format == "Q8" && b.Length == 2 && ScalePerColumn(s, w, 1);
            if (w.Format == "Q8" && !perColumn && w.Axis >= 0) throw s.Unsupported($"int8 scales along axis {w.Axis} of B {Lit.Shape(b)}");
            if (w.IsPacked && b.Length != 2) throw s.Unsupported($"{w.Format} weights of rank {b.Length} (only 2-D B)");
            RequirePackedChannels(s, w, 1);
            bool relu = s.FusedRelu;
            var lowering = new StepLowering($"MatMul {Lit.Shape(a)} x {Lit.Shape(b)} -> {Lit.Shape(y)}, weights {Weights(w)}{(relu ? ", Relu" : "")}")
                .Shape(w.IsPacked ? "IPackedMatMulShape" : "IMatMulShape")
                .Int("M", m).Int("N", n).Int("K", k)
                .Bool("TransA", false).Bool("TransB", false)
                .Float("Alpha", 1f).Float("Beta", 0f)
                .Bool("HasC", false).Int("CRowStride", 0).Int("CColStride", 0)
                .Bool("ScalePerColumn", perColumn).Bool("Relu", relu)
                .Int("Batch", batch).Int("AStride", pa == 1 ? 0 : (long)m * k).Int("BStride", pb == 1 ? 0 : (long)k * n);
            if (w.IsPacked) lowering.Int("Block", w.Block);
            return lowering.Call($"{R}Gemm.{(w.IsPacked ? "MatMulPacked" : "MatMul")}<{s.StructName}, {w.FormatType}, {StepLowering.Simd}>({s.FloatInput(0, pa * m * k)}, {w.Bytes}, {w.Scales}, {s.FloatOutput(0, batch * m * n)});");
        }

        /// <summary>
        /// MatMul with batch dims that broadcast in general (float: each product runs the Gemm
        /// kernel, B in fp32/fp16/int8) or of double / int32 / int64 / uint32 / uint64 (plain loops;
        /// integers wrap as in the engine).
        /// </summary>
        private static StepLowering MatMulNd(StepInfo s, string type)
        {
            if (type is not (PlanTypes.Float or PlanTypes.Double or PlanTypes.Int32 or PlanTypes.Int64 or PlanTypes.UInt32 or PlanTypes.UInt64))
                throw s.Unsupported($"MatMul on {type}");
            if (s.InputType(1) != type || s.NnOutputType(0) != type) throw s.Unsupported($"A, B and Y must all be {type}");
            var mm = MatMulOperands.Of(s, 0, 1);
            int m = mm.M, n = mm.N, k = mm.K;
            int[] a = mm.A, b = mm.B, y = s.OutShape(0), padA = mm.BatchA, padB = mm.BatchB;
            int rank = padA.Length;
            var dims = new int[rank];
            var sa = new long[rank];
            var sb = new long[rank];
            long strideA = (long)m * k, strideB = (long)k * n;
            for (int i = rank - 1; i >= 0; i--)
            {
                if (padA[i] != padB[i] && padA[i] != 1 && padB[i] != 1)
                    throw s.Unsupported($"batch dims of A {Lit.Shape(a)} and B {Lit.Shape(b)} do not broadcast");
                dims[i] = System.Math.Max(padA[i], padB[i]);
                sa[i] = padA[i] == 1 ? 0 : strideA;
                sb[i] = padB[i] == 1 ? 0 : strideB;
                strideA *= padA[i];
                strideB *= padB[i];
            }
            var axes = new List<(int Dim, long A, long B)>();
            for (int i = 0; i < rank; i++)
            {
                if (dims[i] == 1) continue;
                if (axes.Count > 0)
                {
                    var last = axes[axes.Count - 1];
                    if (last.A == sa[i] * dims[i] && last.B == sb[i] * dims[i])
                    {
                        axes[axes.Count - 1] = (last.Dim * dims[i], sa[i], sb[i]);
                        continue;
                    }
                }
                axes.Add((dims[i], sa[i], sb[i]));
            }
            if (axes.Count > 4) throw s.Unsupported($"broadcasting the batch dims of A {Lit.Shape(a)} and B {Lit.Shape(b)} needs {axes.Count} loop axes; at most 4 are supported");
            while (axes.Count < 4) axes.Insert(0, (1, 0L, 0L));
            long batch = Lit.Product(dims);
            if (Lit.Product(y) != batch * m * n) throw s.Unsupported($"output {Lit.Shape(y)} does not match A {Lit.Shape(a)} x B {Lit.Shape(b)}");
            bool relu = s.FusedRelu;
            var lowering = new StepLowering($"MatMul {type} {Lit.Shape(a)} x {Lit.Shape(b)} -> {Lit.Shape(y)} (broadcast batch){(relu ? ", Relu" : "")}").Shape("IMatMulNdShape")
                .Int("M", m).Int("N", n).Int("K", k)
                .Bool("TransA", false).Bool("TransB", false)
                .Float("Alpha", 1f).Float("Beta", 0f)
                .Bool("HasC", false).Int("CRowStride", 0).Int("CColStride", 0);
            long aCount = Lit.Product(padA) * m * k, bCount = Lit.Product(padB) * k * n;
            if (type != PlanTypes.Float)
            {
                if (relu) throw s.Unsupported($"a fused Relu on a {type} MatMul");
                lowering.Bool("ScalePerColumn", false).Bool("Relu", false).Int("Batch", batch);
                for (int i = 0; i < 4; i++) lowering.Int("D" + Lit.Int(i), axes[i].Dim);
                for (int i = 0; i < 4; i++) lowering.Int("A" + Lit.Int(i), axes[i].A);
                for (int i = 0; i < 4; i++) lowering.Int("B" + Lit.Int(i), axes[i].B);
                return lowering.Call($"{R}MatMulNd.Generic<{s.StructName}, {PlanTypes.CSharp(type)}>({s.NnInput(0, aCount, type)}, {s.NnInput(1, bCount, type)}, {s.NnOutput(0, batch * m * n, type)});");
            }
            var w = s.WeightInput(1, bCount);
            if (w.IsPacked) throw s.Unsupported($"{w.Format} weights in a MatMul whose batch dims broadcast");
            bool perColumn = w.Format == "Q8" && b.Length == 2 && ScalePerColumn(s, w, 1);
            if (w.Format == "Q8" && !perColumn && w.Axis >= 0) throw s.Unsupported($"int8 scales along axis {w.Axis} of B {Lit.Shape(b)}");
            lowering.Bool("ScalePerColumn", perColumn).Bool("Relu", relu).Int("Batch", batch);
            for (int i = 0; i < 4; i++) lowering.Int("D" + Lit.Int(i), axes[i].Dim);
            for (int i = 0; i < 4; i++) lowering.Int("A" + Lit.Int(i), axes[i].A);
            for (int i = 0; i < 4; i++) lowering.Int("B" + Lit.Int(i), axes[i].B);
            return lowering.Call($"{R}MatMulNd.Run<{s.StructName}, {w.FormatType}, {StepLowering.Simd}>({s.FloatInput(0, aCount)}, {w.Bytes}, {w.Scales}, {s.FloatOutput(0, batch * m * n)});");
        }

        /// <summary>Element strides of C for Y[i,j] given C's unidirectional broadcast shape.</summary>
        private static (int Row, int Col) CStrides(StepInfo s, int[] c, int m, int n)
        {
            int rows = c.Length >= 2 ? c[c.Length - 2] : 1;
            int cols = c.Length >= 1 ? c[c.Length - 1] : 1;
            if (c.Length > 2 || (rows != 1 && rows != m) || (cols != 1 && cols != n))
                throw s.Unsupported($"C {Lit.Shape(c)} does not broadcast to [{m},{n}]");
            return (rows == 1 ? 0 : cols, cols == 1 ? 0 : 1);
        }

        /// <summary>For packed weights: the channels must be Y's columns (the packed kernels' scale layout).</summary>
        private static void RequirePackedChannels(StepInfo s, WeightOperand w, int columnAxis)
        {
            if (w.IsPacked && w.Axis != columnAxis)
                throw s.Unsupported($"{w.Format} weights with channels on axis {w.Axis} (only on the output columns, axis {columnAxis})");
        }

        /// <summary>The weights' format for the step comment (with the scale block of packed formats).</summary>
        internal static string Weights(WeightOperand w) => w.IsPacked ? $"{w.Format} (block {Lit.Int(w.Block)})" : w.Format;

        /// <summary>For int8 weights: true when the scales run along Y's columns; false for one scale.</summary>
        private static bool ScalePerColumn(StepInfo s, WeightOperand w, int columnAxis)
        {
            if (w.Format != "Q8" || w.Axis < 0) return false;
            if (w.Axis == columnAxis) return true;
            throw s.Unsupported($"int8 weights with scales along axis {w.Axis} (only along the output channels, axis {columnAxis}, or one scale)");
        }
    }
}
