using System.Collections.Generic;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// Broadcasting binary and variadic ops on every numeric type → <c>CompressBuild.Runtime.Elementwise</c>:
    /// Add, Sub, Mul, Div (fused Relu; opset &lt; 7 legacy broadcast/axis), Pow (base and exponent of
    /// any numeric types), PRelu (slope broadcast to X), Max, Min, Sum, Mean (1..N inputs).
    /// </summary>
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
            s.AllowOnly("axis", "broadcast", "consumed_inputs");
            string t = s.InputType(0);
            if (!ElementOperands.IsNumeric(t)) throw s.Unsupported($"{s.Step.Op} on {t}");
            ElementOperands.RequireSameType(s, t, 1);
            if (ElementOperands.OutputType(s, 0) != t) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the inputs' {t}");
            var a = s.InShape(0);
            var b = s.InShape(1);
            var y = s.OutShape(0);
            var bb = s.Opset < 7 ? LegacyShapeOfB(s, a, b) : b;
            bool relu = s.FusedRelu;
            string typeText = t == PlanTypes.Float ? "" : t + " ";
            var lowering = Shape(s, new StepLowering($"{s.Step.Op} {typeText}{Lit.Shape(a)}, {Lit.Shape(b)} -> {Lit.Shape(y)}{(relu ? ", Relu" : "")}"), a, bb, y, relu);
            string types = t == PlanTypes.Float ? "" : ElementOperands.CSharp(t) + ", ";
            return lowering.Call($"{R}Elementwise.Binary<{s.StructName}, {R}{op}, {types}{StepLowering.Simd}>({ElementOperands.Input(s, 0, Lit.Product(a))}, {ElementOperands.Input(s, 1, Lit.Product(b))}, {ElementOperands.Output(s, 0, Lit.Product(y))});");
        }

        /// <summary>Pow: y = a^b broadcast, y of a's type; b may be any numeric type (opset 12+).</summary>
        [Lowers("Pow")]
        public static StepLowering Pow(StepInfo s)
        {
            s.AllowOnly("axis", "broadcast");
            string ta = s.InputType(0), tb = s.InputType(1);
            if (!ElementOperands.IsNumeric(ta) || !ElementOperands.IsNumeric(tb)) throw s.Unsupported($"Pow of {ta} by {tb}");
            if (ElementOperands.OutputType(s, 0) != ta) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the base's {ta}");
            var a = s.InShape(0);
            var b = s.InShape(1);
            var y = s.OutShape(0);
            var bb = s.Opset < 7 ? LegacyShapeOfB(s, a, b) : b;
            string types = ta == tb ? ta : ta + "^" + tb;
            if (s.FusedRelu) throw s.Unsupported("a fused Relu on Pow");
            var lowering = Shape(s, new StepLowering($"Pow {types} {Lit.Shape(a)}, {Lit.Shape(b)} -> {Lit.Shape(y)}"), a, bb, y, false);
            return lowering.Call($"{R}Elementwise.Pow<{s.StructName}, {ElementOperands.CSharp(ta)}, {ElementOperands.CSharp(tb)}>({ElementOperands.Input(s, 0, Lit.Product(a))}, {ElementOperands.Input(s, 1, Lit.Product(b))}, {ElementOperands.Output(s, 0, Lit.Product(y))});");
        }

        /// <summary>PRelu: slope broadcast unidirectionally to X (opset &lt; 7: a channel-length vector applies per channel).</summary>
        [Lowers("PRelu")]
        public static StepLowering PRelu(StepInfo s)
        {
            s.AllowOnly("consumed_inputs");
            string t = s.InputType(0);
            if (!ElementOperands.IsNumeric(t)) throw s.Unsupported($"PRelu on {t}");
            ElementOperands.RequireSameType(s, t, 1);
            if (ElementOperands.OutputType(s, 0) != t) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the input's {t}");
            var x = s.InShape(0);
            var slope = s.InShape(1);
            var y = s.OutShape(0);
            var bs = slope;
            if (s.Opset < 7 && slope.Length == 1 && x.Length >= 2 && slope[0] == x[1] && slope[0] != 1)
            {
                bs = new int[x.Length - 1];
                for (int k = 0; k < bs.Length; k++) bs[k] = 1;
                bs[0] = slope[0];
            }
            if (Lit.Product(y) != Lit.Product(x)) throw s.Unsupported($"slope {Lit.Shape(slope)} does not broadcast to X {Lit.Shape(x)}");
            if (s.FusedRelu) throw s.Unsupported("a fused Relu on PRelu");
            var lowering = Shape(s, new StepLowering($"PRelu {(t == PlanTypes.Float ? "" : t + " ")}{Lit.Shape(x)}, slope {Lit.Shape(slope)}"), x, bs, y, false);
            return lowering.Call($"{R}Elementwise.Binary<{s.StructName}, {R}BinaryPRelu, {ElementOperands.CSharp(t)}, {StepLowering.Simd}>({ElementOperands.Input(s, 0, Lit.Product(x))}, {ElementOperands.Input(s, 1, Lit.Product(slope))}, {ElementOperands.Output(s, 0, Lit.Product(y))});");
        }

        [Lowers("Max")]
        public static StepLowering Max(StepInfo s) => Variadic(s, "BinaryMax", false);

        [Lowers("Min")]
        public static StepLowering Min(StepInfo s) => Variadic(s, "BinaryMin", false);

        [Lowers("Sum")]
        public static StepLowering Sum(StepInfo s) => Variadic(s, "BinarySum", true);

        [Lowers("Mean")]
        public static StepLowering Mean(StepInfo s) => Variadic(s, "BinarySum", true);

        // Folds the inputs left to right: y = op(x0, x1) broadcast to y's shape, then y = op(y, xk).
        private static StepLowering Variadic(StepInfo s, string op, bool floatOnly)
        {
            s.AllowOnly("consumed_inputs");
            var present = Enumerable.Range(0, s.InputCount).Where(s.HasInput).ToList();
            if (present.Count == 0) throw s.Unsupported($"{s.Step.Op} without inputs");
            string t = s.InputType(present[0]);
            if (!ElementOperands.IsNumeric(t) || (floatOnly && !ElementOperands.IsFloat(t))) throw s.Unsupported($"{s.Step.Op} on {t}");
            ElementOperands.RequireSameType(s, t, present.ToArray());
            if (ElementOperands.OutputType(s, 0) != t) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the inputs' {t}");
            if (s.FusedRelu) throw s.Unsupported($"a fused Relu on {s.Step.Op}");
            bool mean = s.Step.Op == "Mean";
            if (floatOnly && t == PlanTypes.Float16 && present.Count > 2)
                throw s.Unsupported($"{s.Step.Op} of {present.Count} float16 inputs (the engine accumulates float16 in float32 and rounds once; the kernel folds pairwise)");
            var y = s.OutShape(0);
            long ny = Lit.Product(y);
            string output = ElementOperands.Output(s, 0, ny);
            string shapes = string.Join(", ", present.Select(i => Lit.Shape(s.InShape(i))));
            string typeText = t == PlanTypes.Float ? "" : t + " ";
            if (present.Count == 1)
            {
                var x = s.InShape(present[0]);
                if (Lit.Product(x) != ny) throw s.Unsupported($"one input {Lit.Shape(x)} and output {Lit.Shape(y)} differ");
                var copy = new StepLowering($"{s.Step.Op} {typeText}of one input {Lit.Shape(x)} (copy)");
                if (!ElementOperands.SameBuffer(s, present[0], 0)) copy.Call($"{ElementOperands.Input(s, present[0], ny)}.CopyTo({output});");
                return copy;
            }
            string first = mean && present.Count == 2 ? "BinaryMean" : op;
            var a = s.InShape(present[0]);
            var b = s.InShape(present[1]);
            var lowering = Shape(s, new StepLowering($"{s.Step.Op} {typeText}{shapes} -> {Lit.Shape(y)}"), a, b, y, false);
            string tt = ElementOperands.CSharp(t);
            lowering.Call($"{R}Elementwise.Binary<{s.StructName}, {R}{first}, {tt}, {StepLowering.Simd}>({ElementOperands.Input(s, present[0], Lit.Product(a))}, {ElementOperands.Input(s, present[1], Lit.Product(b))}, {output});");
            foreach (int k in present.Skip(2))
            {
                var x = s.InShape(k);
                var axes = Pad(s, Collapse(s, y, x, y), y, x);
                lowering.Call($"{R}Elementwise.Fold<{R}{op}, {tt}, {StepLowering.Simd}>({ElementOperands.Input(s, k, Lit.Product(x))}, {output}, "
                    + string.Join(", ", axes.Select(v => Lit.Int(v.Dim)).Concat(axes.Select(v => Lit.Int(v.B)))) + ");");
            }
            if (mean && present.Count > 2) lowering.Call($"{R}Elementwise.DivideBy<{tt}>({output}, {Lit.Int(present.Count)});");
            return lowering;
        }

        /// <summary>The binary shape struct (4 collapsed axes with both operands' strides).</summary>
        private static StepLowering Shape(StepInfo s, StepLowering lowering, int[] a, int[] b, int[] y, bool relu)
        {
            var axes = Pad(s, Collapse(s, a, b, y), a, b);
            lowering.Shape("IBinaryShape");
            for (int i = 0; i < 4; i++) lowering.Int("D" + i, axes[i].Dim);
            for (int i = 0; i < 4; i++) lowering.Int("A" + i, axes[i].A);
            for (int i = 0; i < 4; i++) lowering.Int("B" + i, axes[i].B);
            return lowering.Bool("Relu", relu);
        }

        private static List<(int Dim, long A, long B)> Pad(StepInfo s, List<(int Dim, long A, long B)> axes, int[] a, int[] b)
        {
            if (axes.Count > 4) throw s.Unsupported($"broadcasting {Lit.Shape(a)} with {Lit.Shape(b)} needs {axes.Count} loop axes; at most 4 are supported");
            while (axes.Count < 4) axes.Insert(0, (1, 0L, 0L));
            return axes;
        }

        /// <summary>
        /// Opsets 1–6: broadcast=0 needs equal shapes; broadcast=1 lines B up with A's axes from
        /// <c>axis</c> (default: B's axes are A's trailing ones). Returns B's shape padded to A's rank.
        /// </summary>
        private static int[] LegacyShapeOfB(StepInfo s, int[] a, int[] b)
        {
            if (s.Int("broadcast", 0) == 0)
            {
                if (!a.SequenceEqual(b)) throw s.Unsupported($"shapes {Lit.Shape(a)} and {Lit.Shape(b)} differ and broadcast=0");
                return b;
            }
            long axis = s.Has("axis") ? s.Int("axis", 0) : a.Length - b.Length;
            if (axis < 0 && s.Has("axis")) axis += a.Length;
            if (axis < 0 || axis + b.Length > a.Length) throw s.Unsupported($"B {Lit.Shape(b)} cannot be broadcast onto A {Lit.Shape(a)} at axis {axis}");
            var r = new int[a.Length];
            for (int i = 0; i < r.Length; i++) r[i] = 1;
            for (int i = 0; i < b.Length; i++)
            {
                if (b[i] != a[axis + i] && b[i] != 1) throw s.Unsupported($"B {Lit.Shape(b)} does not match A {Lit.Shape(a)} at axis {axis}");
                r[axis + i] = b[i];
            }
            return r;
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
