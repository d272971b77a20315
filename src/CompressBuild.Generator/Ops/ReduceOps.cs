using System.Collections.Generic;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// ReduceSum, ReduceMean, ReduceMax, ArgMax and LogSoftmax → <c>CompressBuild.Runtime.Reduce</c>
    /// (float vectorized through TSimd; other numeric types generic).
    /// </summary>
    internal static class ReduceOps
    {
        private const string R = StepLowering.Runtime;

        [Lowers("ReduceSum")]
        public static StepLowering ReduceSum(StepInfo s) => Reduction(s, "Sum", axesInputSince: 13);

        [Lowers("ReduceMean")]
        public static StepLowering ReduceMean(StepInfo s) => Reduction(s, "Mean", axesInputSince: 18);

        [Lowers("ReduceMax")]
        public static StepLowering ReduceMax(StepInfo s) => Reduction(s, "Max", axesInputSince: 18);

        /// <summary>
        /// Axes from the attribute before <paramref name="axesInputSince"/>, from the optional second
        /// input from then on (with noop_with_empty_axes); no axes means all axes; keepdims only changes
        /// the output shape, not its layout.
        /// </summary>
        private static StepLowering Reduction(StepInfo s, string kernel, int axesInputSince)
        {
            bool fromInput = s.Opset >= axesInputSince;
            if (fromInput) s.AllowOnly("keepdims", "noop_with_empty_axes");
            else s.AllowOnly("keepdims", "axes");
            string type = LayoutOperands.SameType(s, 0, 0);
            if (type is PlanTypes.Bool) throw s.Unsupported("bool input");
            var x = s.InShape(0);
            int rank = x.Length;
            long[]? axes = fromInput ? LayoutOperands.ConstantInts(s, 1, "axes") : s.Ints("axes");
            bool keepDims = s.Int("keepdims", 1) != 0;
            long nx = Lit.Product(x);
            string op = s.Step.Op;
            if ((axes is null || axes.Length == 0) && fromInput && s.Int("noop_with_empty_axes", 0) != 0)
            {
                LayoutOperands.CheckShape(s, x, s.OutShape(0), "output shape");
                var copy = new StepLowering($"{op} {Lit.Shape(x)} with no axes (noop): copy");
                if (nx == 0) return copy;
                return copy.Call($"{LayoutOperands.In(s, 0, nx)}.CopyTo({LayoutOperands.Out(s, 0, nx)});");
            }
            var reduced = new bool[rank];
            if (axes is null || axes.Length == 0) for (int d = 0; d < rank; d++) reduced[d] = true;
            else
            {
                foreach (long a in axes)
                {
                    int d = LayoutOperands.Axis(s, a, rank);
                    if (reduced[d]) throw s.Unsupported($"axis {a} appears twice in axes");
                    reduced[d] = true;
                }
            }
            var y = new List<int>();
            for (int d = 0; d < rank; d++)
            {
                if (!reduced[d]) y.Add(x[d]);
                else if (keepDims) y.Add(1);
            }
            LayoutOperands.CheckShape(s, y.ToArray(), s.OutShape(0), "output shape");
            LayoutOperands.RefuseBatchAxis(s, x, rank > 0 && reduced[0], op);
            long ny = Lit.Product(y);
            long count = Enumerable.Range(0, rank).Where(d => reduced[d]).Aggregate(1L, (p, d) => p * x[d]);

            // Groups: unit dims dropped, neighbours of the same kind merged.
            var groups = new List<(long Size, bool Reduced)>();
            for (int d = 0; d < rank; d++)
            {
                if (x[d] == 1) continue;
                if (groups.Count > 0 && groups[groups.Count - 1].Reduced == reduced[d])
                    groups[groups.Count - 1] = (groups[groups.Count - 1].Size * x[d], reduced[d]);
                else groups.Add((x[d], reduced[d]));
            }
            if (groups.Count == 0) groups.Add((1, true));
            var inner = groups[groups.Count - 1];
            var outer = new List<long>();
            long yStride = inner.Reduced ? 1 : inner.Size;
            var pairs = new List<(long, long)>();
            for (int k = groups.Count - 2; k >= 0; k--)
            {
                pairs.Insert(0, (groups[k].Size, groups[k].Reduced ? 0 : yStride));
                if (!groups[k].Reduced) yStride *= groups[k].Size;
            }
            foreach (var (size, stride) in pairs)
            {
                outer.Add(size);
                outer.Add(nx == 0 ? 0 : stride);
            }
            string axesText = string.Join(",", Enumerable.Range(0, rank).Where(d => reduced[d]));
            var lowering = new StepLowering($"{op} {Lit.Shape(x)} over axes [{axesText}] -> {Lit.Shape(y)}");
            if (ny == 0) return lowering;
            lowering.Shape("IReduceShape")
                .Int("Input", nx).Int("Output", ny).Int("Inner", inner.Size).Bool("InnerReduced", inner.Reduced).Int("Count", count)
                .IntsMember("Outer", outer);
            string call = type == PlanTypes.Float
                ? $"{R}Reduce.{kernel}Float<{s.StructName}, {StepLowering.Simd}>"
                : $"{R}Reduce.{kernel}<{s.StructName}, {PlanTypes.CSharp(type)}>";
            return lowering.Call($"{call}({LayoutOperands.In(s, 0, nx)}, {LayoutOperands.Out(s, 0, ny)});");
        }

        [Lowers("ArgMax")]
        public static StepLowering ArgMax(StepInfo s)
        {
            s.AllowOnly("axis", "keepdims", "select_last_index");
            string type = s.InputType(0);
            if (type is PlanTypes.Bool or PlanTypes.Float16) throw s.Unsupported($"input of type {type}");
            if (LayoutOperands.OutputType(s, 0) != PlanTypes.Int64) throw s.Unsupported($"output of type {LayoutOperands.OutputType(s, 0)}");
            var x = s.InShape(0);
            if (x.Length == 0) throw s.Unsupported("ArgMax of a scalar");
            int axis = LayoutOperands.Axis(s, s.Int("axis", 0), x.Length);
            bool keepDims = s.Int("keepdims", 1) != 0;
            if (s.Opset < 12 && s.Has("select_last_index")) throw s.Unsupported($"attribute 'select_last_index' exists from opset 12; the model imports opset {s.Opset}");
            bool last = s.Int("select_last_index", 0) != 0;
            var y = x.ToList();
            if (keepDims) y[axis] = 1;
            else y.RemoveAt(axis);
            LayoutOperands.CheckShape(s, y.ToArray(), s.OutShape(0), "output shape");
            LayoutOperands.RefuseBatchAxis(s, x, axis == 0, "ArgMax");
            long nx = Lit.Product(x), ny = Lit.Product(y);
            var lowering = new StepLowering($"ArgMax {Lit.Shape(x)} axis {axis}{(last ? " (last index)" : "")} -> {Lit.Shape(y)}");
            if (ny == 0) return lowering;
            if (x[axis] == 0) throw s.Unsupported($"ArgMax over an empty axis ({Lit.Shape(x)})");
            return lowering.Shape("IAxisShape")
                .Int("Outer", Lit.Product(x.Take(axis))).Int("Length", x[axis]).Int("Inner", Lit.Product(x.Skip(axis + 1))).Bool("SelectLast", last)
                .Call($"{R}Reduce.ArgMax<{s.StructName}, {PlanTypes.CSharp(type)}>({LayoutOperands.In(s, 0, nx)}, {LayoutOperands.Out(s, 0, ny)});");
        }

        /// <summary>LogSoftmax: opset ≥ 13 along one axis (default -1); earlier opsets coerce to 2-D at axis (default 1). Float (vectorized) and double.</summary>
        [Lowers("LogSoftmax")]
        public static StepLowering LogSoftmax(StepInfo s) => SoftmaxFamily(s, log: true);

        internal static StepLowering SoftmaxFamily(StepInfo s, bool log)
        {
            s.AllowOnly("axis");
            string type = LayoutOperands.SameType(s, 0, 0);
            if (type is not (PlanTypes.Float or PlanTypes.Double)) throw s.Unsupported($"input of type {type}");
            var x = s.InShape(0);
            int rank = x.Length;
            bool modern = s.Opset >= 13;
            if (rank == 0) throw s.Unsupported("a scalar input");
            int axis = LayoutOperands.Axis(s, s.Int("axis", modern ? -1 : 1), rank);
            LayoutOperands.CheckShape(s, x, s.OutShape(0), "output shape");
            LayoutOperands.RefuseBatchAxis(s, x, axis == 0, s.Step.Op);
            long outer = Lit.Product(x.Take(axis));
            long length = modern ? x[axis] : Lit.Product(x.Skip(axis));
            long inner = modern ? Lit.Product(x.Skip(axis + 1)) : 1;
            long n = Lit.Product(x);
            var lowering = new StepLowering($"{s.Step.Op} {Lit.Shape(x)} axis {axis}{(modern ? "" : " (coerced to 2-D, opset < 13)")}");
            if (n == 0) return lowering;
            lowering.Shape("IAxisShape").Int("Outer", outer).Int("Length", length).Int("Inner", inner).Bool("SelectLast", false);
            string flag = log ? "true" : "false";
            return type == PlanTypes.Float
                ? lowering.Call($"{R}Reduce.SoftmaxFloat<{s.StructName}, {StepLowering.Simd}>({LayoutOperands.In(s, 0, n)}, {LayoutOperands.Out(s, 0, n)}, {flag});")
                : lowering.Call($"{R}Reduce.Softmax<{s.StructName}, double>({LayoutOperands.In(s, 0, n)}, {LayoutOperands.Out(s, 0, n)}, {flag});");
        }
    }
}
