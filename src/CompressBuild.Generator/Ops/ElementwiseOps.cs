using System.Collections.Generic;
using System.Linq;

namespace CompressBuild.Generator.Ops
{
    /// <summary>Add, Sub, Mul, Div (multidirectional broadcasting, fused Relu) → <c>CompressBuild.Runtime.Elementwise</c>.</summary>
    internal static class ElementwiseOps
    {
        private const string R = StepLowering.Runtime;

        [Lowers("Add")]

        public static StepLowering Add(StepInfo s) => Binary(s, "AddOp");

        [Lowers("Sub")]

        public static StepLowering Sub(StepInfo s) => Binary(s, "SubOp");

        [Lowers("Mul")]

        public static StepLowering Mul(StepInfo s) => Binary(s, "MulOp");

        [Lowers("Div")]

        public static StepLowering Div(StepInfo s) => Binary(s, "DivOp");

        private static StepLowering Binary(StepInfo s, string op)
        {
            s.AllowOnly("axis", "broadcast");
            if (s.Has("axis")) throw s.Unsupported("legacy broadcast with 'axis' (opset < 7)");
            s.RequireFloat(0, 1);
            var a = s.InShape(0);
            var b = s.InShape(1);
            var y = s.OutShape(0);
            var axes = Collapse(s, a, b, y);
            if (axes.Count > 4) throw s.Unsupported($"broadcasting {Lit.Shape(a)} with {Lit.Shape(b)} needs {axes.Count} loop axes; at most 4 are supported");
            while (axes.Count < 4) axes.Insert(0, (1, 0L, 0L));
            bool relu = s.FusedRelu;
            var lowering = new StepLowering($"{s.Step.Op} {Lit.Shape(a)}, {Lit.Shape(b)} -> {Lit.Shape(y)}{(relu ? ", Relu" : "")}").Shape("IBinaryShape");
            for (int i = 0; i < 4; i++) lowering.Int("D" + i, axes[i].Dim);
            for (int i = 0; i < 4; i++) lowering.Int("A" + i, axes[i].A);
            for (int i = 0; i < 4; i++) lowering.Int("B" + i, axes[i].B);
            return lowering.Bool("Relu", relu)
                .Call($"{R}Elementwise.Binary<{s.StructName}, {R}{op}, {StepLowering.Simd}>({s.FloatInput(0, Lit.Product(a))}, {s.FloatInput(1, Lit.Product(b))}, {s.FloatOutput(0, Lit.Product(y))});");
        }

        /// <summary>
        /// Output axes with each operand's element stride (0 where it broadcasts), unit axes dropped
        /// and neighbours merged where both operands stay contiguous (or both broadcast).
        /// </summary>
        internal static List<(int Dim, long A, long B)> Collapse(StepInfo s, int[] a, int[] b, int[] y)
        {
            int rank = y.Length;
            if (a.Length > rank || b.Length > rank) throw s.Unsupported($"operands {Lit.Shape(a)}, {Lit.Shape(b)} have more axes than the output {Lit.Shape(y)}");
            var sa = Strides(s, a, y);
            var sb = Strides(s, b, y);
            var axes = new List<(int Dim, long A, long B)>();
            for (int i = 0; i < rank; i++)
            {
                if (y[i] == 1) continue;
                if (axes.Count > 0)
                {
                    var last = axes[axes.Count - 1];
                    bool mergeA = last.A == sa[i] * y[i];
                    bool mergeB = last.B == sb[i] * y[i];
                    if (mergeA && mergeB)
                    {
                        axes[axes.Count - 1] = (last.Dim * y[i], sa[i], sb[i]);
                        continue;
                    }
                }
                axes.Add((y[i], sa[i], sb[i]));
            }
            return axes;
        }

        private static long[] Strides(StepInfo s, int[] x, int[] y)
        {
            int rank = y.Length, lead = rank - x.Length;
            var strides = new long[rank];
            long stride = 1;
            for (int i = rank - 1; i >= 0; i--)
            {
                int d = i < lead ? 1 : x[i - lead];
                if (d != y[i] && d != 1) throw s.Unsupported($"{Lit.Shape(x)} does not broadcast to {Lit.Shape(y)}");
                strides[i] = d == 1 ? 0 : stride;
                stride *= d;
            }
            return strides;
        }
    }
}
