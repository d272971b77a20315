using System;
using System.Collections.Generic;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// Data movement for every element type → <c>CompressBuild.Runtime.Layout</c>: Transpose, Slice,
    /// Concat, Split, Expand, Tile and constant Pad as strided copies; edge/reflect Pad; Gather; view
    /// ops (Reshape, Flatten, Squeeze, Unsqueeze) the planner kept as steps as plain copies; and ops
    /// whose outputs are known from static shapes or attributes (Shape, ConstantOfShape, Constant).
    /// </summary>
    internal static class LayoutOps
    {
        private const string R = StepLowering.Runtime;

        // ---- strided copies ----

        [Lowers("Transpose")]
        public static StepLowering Transpose(StepInfo s)
        {
            s.AllowOnly("perm");
            string type = LayoutOperands.SameType(s, 0, 0);
            var x = s.InShape(0);
            int rank = x.Length;
            var perm = s.Ints("perm") ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
            if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
                throw s.Unsupported($"perm [{string.Join(",", perm)}] is not a permutation of the {rank} input axes");
            var y = perm.Select(p => x[p]).ToArray();
            LayoutOperands.CheckShape(s, y, s.OutShape(0), "output shape");
            var xs = LayoutOperands.Strides(x);
            var ys = LayoutOperands.Strides(y);
            var g = new CopyGeometry();
            for (int k = 0; k < rank; k++) g.Axis(y[k], xs[perm[k]], ys[k]);
            return Copies(s, type, $"Transpose {Lit.Shape(x)} perm [{string.Join(",", perm)}] -> {Lit.Shape(y)}", new[] { (0, g) });
        }

        [Lowers("Slice")]
        public static StepLowering Slice(StepInfo s)
        {
            string type = LayoutOperands.SameType(s, 0, 0);
            var x = s.InShape(0);
            int rank = x.Length;
            long[] starts, ends;
            long[]? axes, steps = null;
            if (s.Opset < 10)
            {
                s.AllowOnly("starts", "ends", "axes");
                starts = s.Ints("starts") ?? throw s.Unsupported("attribute 'starts' is missing");
                ends = s.Ints("ends") ?? throw s.Unsupported("attribute 'ends' is missing");
                axes = s.Ints("axes");
            }
            else
            {
                s.AllowOnly();
                starts = LayoutOperands.ConstantInts(s, 1, "starts") ?? throw s.Unsupported("input 'starts' is missing");
                ends = LayoutOperands.ConstantInts(s, 2, "ends") ?? throw s.Unsupported("input 'ends' is missing");
                axes = LayoutOperands.ConstantInts(s, 3, "axes");
                steps = LayoutOperands.ConstantInts(s, 4, "steps");
            }
            axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
            if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
                throw s.Unsupported($"starts, ends, axes and steps have {starts.Length}, {ends.Length}, {axes.Length}, {steps.Length} entries");
            var xs = LayoutOperands.Strides(x);
            var y = (int[])x.Clone();
            var stride = (long[])xs.Clone();
            long offset = 0;
            var seen = new bool[rank];
            for (int i = 0; i < starts.Length; i++)
            {
                int a = LayoutOperands.Axis(s, axes[i], rank);
                if (seen[a]) throw s.Unsupported($"axis {axes[i]} is sliced twice");
                seen[a] = true;
                long step = steps[i];
                if (step == 0) throw s.Unsupported("a step is 0");
                long dim = x[a], start = starts[i], end = ends[i];
                if (a == 0 && dim == 1 && LayoutOperands.RunsPerSample(s) && !(step == 1 && (start == 0 || start <= int.MinValue) && end >= int.MaxValue))
                    throw s.Unsupported("slicing axis 0, which may be the batch axis, other than whole (PredictBatch runs one sample at a time)");
                if (start < 0) start += dim;
                if (end < 0) end += dim;
                long count;
                if (step > 0)
                {
                    start = Clamp(start, 0, dim);
                    end = Clamp(end, 0, dim);
                    count = end > start ? (end - start + step - 1) / step : 0;
                }
                else
                {
                    start = Clamp(start, 0, dim - 1);
                    end = Clamp(end, -1, dim - 1);
                    count = start > end ? (start - end - step - 1) / -step : 0;
                }
                y[a] = checked((int)count);
                if (count == 0) continue;
                offset += start * xs[a];
                stride[a] = xs[a] * step;
            }
            LayoutOperands.CheckShape(s, y, s.OutShape(0), "output shape");
            var ys = LayoutOperands.Strides(y);
            var g = new CopyGeometry { XOffset = offset };
            for (int k = 0; k < rank; k++) g.Axis(y[k], stride[k], ys[k]);
            return Copies(s, type, $"Slice {Lit.Shape(x)} -> {Lit.Shape(y)}", new[] { (0, g) });
        }

        private static long Clamp(long v, long lo, long hi) => v < lo ? lo : v > hi ? hi : v;

        [Lowers("Concat")]
        public static StepLowering Concat(StepInfo s)
        {
            s.AllowOnly("axis");
            var y = s.OutShape(0);
            string type = LayoutOperands.OutputType(s, 0);
            int rank = y.Length;
            if (!s.Has("axis") && s.Opset >= 4) throw s.Unsupported("attribute 'axis' is missing");
            int axis = LayoutOperands.Axis(s, s.Int("axis", 1), rank);
            long outer = Lit.Product(y.Take(axis)), inner = Lit.Product(y.Skip(axis + 1));
            var parts = new List<(int, CopyGeometry)>();
            long at = 0;
            for (int i = 0; i < s.InputCount; i++)
            {
                if (!s.HasInput(i)) continue;
                if (s.InputType(i) != type) throw s.Unsupported($"input {i} is {s.InputType(i)} but the output is {type}");
                var x = s.InShape(i);
                if (x.Length != rank || Enumerable.Range(0, rank).Any(k => k != axis && x[k] != y[k]))
                    throw s.Unsupported($"input {i} {Lit.Shape(x)} does not fit output {Lit.Shape(y)} along axis {axis}");
                long block = x[axis] * inner;
                var g = new CopyGeometry { YOffset = at * inner }.Axis(outer, block, (long)y[axis] * inner).Axis(block, 1, 1);
                parts.Add((i, g));
                at += x[axis];
            }
            if (at != y[axis]) throw s.Unsupported($"the inputs add up to {at} along axis {axis}, the output has {y[axis]}");
            return Copies(s, type, $"Concat -> {Lit.Shape(y)} along axis {axis}", parts);
        }

        [Lowers("Split")]
        public static StepLowering Split(StepInfo s)
        {
            s.AllowOnly("axis", "split", "num_outputs");
            string type = s.InputType(0);
            var x = s.InShape(0);
            int axis = LayoutOperands.Axis(s, s.Int("axis", 0), x.Length);
            int outputs = s.OutputCount;
            // Part sizes: opset 1 from the second input or the attribute, 2-12 the attribute, 13+ the input.
            long[]? split = s.Opset == 1 || s.Opset >= 13 ? LayoutOperands.ConstantInts(s, 1, "split") : null;
            if (split is null && s.Opset < 13) split = s.Ints("split");
            long dim = x[axis];
            long[] sizes;
            if (split is not null)
            {
                if (split.Length != outputs || split.Any(v => v < 0) || split.Sum() != dim)
                    throw s.Unsupported($"split [{string.Join(",", split)}] does not cut an axis of {dim} into {outputs} parts");
                sizes = split;
            }
            else if (dim % outputs == 0) sizes = Enumerable.Repeat(dim / outputs, outputs).ToArray();
            else if (s.Opset >= 18 && s.Has("num_outputs"))
            {
                long chunk = (dim + outputs - 1) / outputs;
                sizes = Enumerable.Repeat(chunk, outputs).ToArray();
                sizes[outputs - 1] = dim - chunk * (outputs - 1);
                if (sizes[outputs - 1] <= 0) throw s.Unsupported($"an axis of {dim} cannot be cut into {outputs} parts of {chunk}");
            }
            else throw s.Unsupported($"an axis of {dim} does not split into {outputs} equal parts");
            long outer = Lit.Product(x.Take(axis)), inner = Lit.Product(x.Skip(axis + 1));
            var lowering = new StepLowering($"Split {Lit.Shape(x)} along axis {axis} into [{string.Join(",", sizes)}]");
            long at = 0;
            var calls = new List<string>();
            for (int o = 0; o < outputs; o++)
            {
                long size = sizes[o];
                if (s.HasOutput(o))
                {
                    if (LayoutOperands.OutputType(s, o) != type) throw s.Unsupported($"output {o} is {LayoutOperands.OutputType(s, o)} but the input is {type}");
                    var y = (int[])x.Clone();
                    y[axis] = (int)size;
                    LayoutOperands.CheckShape(s, y, s.OutShape(o), $"output {o} shape");
                    long block = size * inner;
                    var g = new CopyGeometry { XOffset = at * inner }.Axis(outer, dim * inner, block).Axis(block, 1, 1);
                    if (!g.Empty)
                    {
                        string name = "Part" + Lit.Int(o);
                        lowering.IntsMember(name, g.Build());
                        calls.Add($"{R}Layout.Copy<{PlanTypes.CSharp(type)}>({LayoutOperands.In(s, 0, Lit.Product(x))}, {LayoutOperands.Out(s, o, g.Elements)}, {s.StructName}.{name});");
                    }
                }
                at += size;
            }
            if (calls.Count > 0) lowering.Shape("ILayoutStep");
            foreach (var c in calls) lowering.Call(c);
            return lowering;
        }

        [Lowers("Expand")]
        public static StepLowering Expand(StepInfo s)
        {
            s.AllowOnly();
            string type = LayoutOperands.SameType(s, 0, 0);
            var x = s.InShape(0);
            var y = s.OutShape(0);
            if (x.Length > y.Length) throw s.Unsupported($"input {Lit.Shape(x)} has more axes than the output {Lit.Shape(y)}");
            var xs = LayoutOperands.Strides(x);
            var ys = LayoutOperands.Strides(y);
            int lead = y.Length - x.Length;
            var g = new CopyGeometry();
            for (int k = 0; k < y.Length; k++)
            {
                int d = k < lead ? 1 : x[k - lead];
                if (d != y[k] && d != 1) throw s.Unsupported($"{Lit.Shape(x)} does not broadcast to {Lit.Shape(y)}");
                g.Axis(y[k], d == 1 ? 0 : xs[k - lead], ys[k]);
            }
            return Copies(s, type, $"Expand {Lit.Shape(x)} -> {Lit.Shape(y)}", new[] { (0, g) });
        }

        [Lowers("Tile")]
        public static StepLowering Tile(StepInfo s)
        {
            s.AllowOnly();
            string type = LayoutOperands.SameType(s, 0, 0);
            var x = s.InShape(0);
            var y = s.OutShape(0);
            if (x.Length != y.Length) throw s.Unsupported($"input {Lit.Shape(x)} and output {Lit.Shape(y)} differ in rank");
            var xs = LayoutOperands.Strides(x);
            var ys = LayoutOperands.Strides(y);
            var g = new CopyGeometry();
            for (int k = 0; k < x.Length; k++)
            {
                if (x[k] == 0 || y[k] % x[k] != 0) throw s.Unsupported($"output {Lit.Shape(y)} is not a tiling of {Lit.Shape(x)}");
                g.Axis(y[k] / x[k], 0, x[k] * ys[k]).Axis(x[k], xs[k], ys[k]);
            }
            return Copies(s, type, $"Tile {Lit.Shape(x)} -> {Lit.Shape(y)}", new[] { (0, g) });
        }

        /// <summary>One <c>Layout.Copy</c> per (input, geometry) into output 0, the geometries as members of the step struct.</summary>
        private static StepLowering Copies(StepInfo s, string type, string description, IEnumerable<(int Input, CopyGeometry Geometry)> parts, StepLowering? lowering = null)
        {
            lowering ??= new StepLowering(description);
            var y = s.OutShape(0);
            string t = PlanTypes.CSharp(type);
            int k = 0;
            foreach (var (input, g) in parts)
            {
                if (g.Empty) continue;
                string name = "Part" + Lit.Int(k++);
                lowering.Shape("ILayoutStep").IntsMember(name, g.Build());
                lowering.Call($"{R}Layout.Copy<{t}>({LayoutOperands.In(s, input, Lit.Product(s.InShape(input)))}, {LayoutOperands.Out(s, 0, Lit.Product(y))}, {s.StructName}.{name});");
            }
            return lowering;
        }

        // ---- Pad ----

        [Lowers("Pad")]
        public static StepLowering Pad(StepInfo s)
        {
            string type = LayoutOperands.SameType(s, 0, 0);
            var x = s.InShape(0);
            var y = s.OutShape(0);
            int rank = x.Length;
            string mode = s.String("mode", "constant");
            long[] pads;
            if (s.Opset < 11)
            {
                s.AllowOnly("mode", "pads", "paddings", "value");
                if (type is not (PlanTypes.Float or PlanTypes.Double or PlanTypes.Float16)) throw s.Unsupported($"{type} data before opset 11 (Pad takes float types)");
                pads = (s.Opset < 2 ? s.Ints("paddings") : s.Ints("pads")) ?? s.Ints("pads") ?? s.Ints("paddings") ?? throw s.Unsupported("attribute 'pads' is missing");
            }
            else
            {
                s.AllowOnly("mode");
                pads = LayoutOperands.ConstantInts(s, 1, "pads") ?? throw s.Unsupported("input 'pads' is missing");
                if (s.Opset >= 18 && LayoutOperands.ConstantInts(s, 3, "axes") is { } axes)
                {
                    if (pads.Length != 2 * axes.Length) throw s.Unsupported($"pads has {pads.Length} entries for {axes.Length} axes");
                    var full = new long[2 * rank];
                    var seen = new bool[rank];
                    for (int i = 0; i < axes.Length; i++)
                    {
                        int a = LayoutOperands.Axis(s, axes[i], rank);
                        if (seen[a]) throw s.Unsupported($"axis {axes[i]} is repeated");
                        seen[a] = true;
                        full[a] = pads[i];
                        full[a + rank] = pads[i + axes.Length];
                    }
                    pads = full;
                }
            }
            if (pads.Length != 2 * rank) throw s.Unsupported($"pads has {pads.Length} entries for an input of rank {rank}");
            var expected = Enumerable.Range(0, rank).Select(i => checked((int)(x[i] + pads[i] + pads[i + rank]))).ToArray();
            LayoutOperands.CheckShape(s, expected, y, "output shape");
            long nx = Lit.Product(x), ny = Lit.Product(y);
            string t = PlanTypes.CSharp(type);
            string description = $"Pad {Lit.Shape(x)} -> {Lit.Shape(y)} ({mode})";
            if (mode == "edge" || mode == "reflect")
            {
                var lowering = new StepLowering(description);
                if (ny == 0) return lowering;
                if (rank == 0) return Copies(s, type, description, new[] { (0, CopyGeometry.Contiguous(x)) });
                if (x.Any(d => d == 0)) throw s.Unsupported($"{mode} padding of an empty axis ({Lit.Shape(x)})");
                var g = new List<long> { mode == "reflect" ? 1 : 0 };
                for (int i = 0; i < rank; i++)
                {
                    g.Add(y[i]);
                    g.Add(x[i]);
                    g.Add(pads[i]);
                }
                return lowering.Shape("ILayoutStep").IntsMember("Pads", g)
                    .Call($"{R}Layout.PadMapped<{t}>({LayoutOperands.In(s, 0, nx)}, {LayoutOperands.Out(s, 0, ny)}, {s.StructName}.Pads);");
            }
            if (mode != "constant") throw s.Unsupported($"mode '{mode}'");
            var result = new StepLowering(description);
            if (ny == 0) return result;
            if (s.Opset >= 11 && s.HasInput(2))
            {
                if (s.InputType(2) != type) throw s.Unsupported($"constant_value is {s.InputType(2)}, the data {type}");
                if (Lit.Product(s.InShape(2)) == 0) result.Call($"{LayoutOperands.Out(s, 0, ny)}.Clear();");
                else result.Call($"{LayoutOperands.Out(s, 0, ny)}.Fill({LayoutOperands.In(s, 2, 1)}[0]);");
            }
            else
            {
                float value = s.Opset < 11 ? s.Float("value", 0f) : 0f;
                if (IsPositiveZero(value)) result.Call($"{LayoutOperands.Out(s, 0, ny)}.Clear();");
                else result.Call($"{LayoutOperands.Out(s, 0, ny)}.Fill({LayoutOperands.Literal(s, type, value)});");
            }
            // The part of the input that survives cropping, and where it lands.
            var xs = LayoutOperands.Strides(x);
            var ys = LayoutOperands.Strides(y);
            var interior = new CopyGeometry();
            for (int i = 0; i < rank; i++)
            {
                long begin = pads[i], end = pads[i + rank];
                long src = Math.Max(0, -begin), dst = Math.Max(0, begin);
                long extent = Math.Max(0, x[i] + Math.Min(0, begin) + Math.Min(0, end));
                interior.XOffset += src * xs[i];
                interior.YOffset += dst * ys[i];
                interior.Axis(extent, xs[i], ys[i]);
            }
            return Copies(s, type, description, new[] { (0, interior) }, result);
        }

        // ---- Gather ----

        [Lowers("Gather")]
        public static StepLowering Gather(StepInfo s)
        {
            s.AllowOnly("axis");
            string type = LayoutOperands.SameType(s, 0, 0);
            var data = s.InShape(0);
            var indices = s.InShape(1);
            if (data.Length == 0) throw s.Unsupported("Gather of a scalar");
            int axis = LayoutOperands.Axis(s, s.Int("axis", 0), data.Length);
            string indexType = s.InputType(1);
            if (indexType is not (PlanTypes.Int32 or PlanTypes.Int64)) throw s.Unsupported($"indices of type {indexType}");
            var y = data.Take(axis).Concat(indices).Concat(data.Skip(axis + 1)).ToArray();
            LayoutOperands.CheckShape(s, y, s.OutShape(0), "output shape");
            LayoutOperands.RefuseBatchAxis(s, data, axis == 0, "Gather");
            int dim = data[axis];
            if (s.ConstantInput(1) is not null && s.Step.Attribute("_value1") is { Kind: PlanAttributeKind.Ints } known)
                foreach (long i in known.Ints)
                    if (i < -dim || i >= dim) throw s.Unsupported($"index {i} is out of range for an axis of {dim}");
            long count = Lit.Product(indices), ny = Lit.Product(y);
            var lowering = new StepLowering($"Gather {Lit.Shape(data)} axis {axis} at {Lit.Shape(indices)} indices -> {Lit.Shape(y)}");
            if (ny == 0) return lowering;
            return lowering.Shape("IGatherShape")
                .Int("Outer", Lit.Product(data.Take(axis))).Int("Axis", dim).Int("Inner", Lit.Product(data.Skip(axis + 1))).Int("Count", count)
                .Call($"{R}Layout.Gather<{s.StructName}, {PlanTypes.CSharp(type)}, {PlanTypes.CSharp(indexType)}>({LayoutOperands.In(s, 0, Lit.Product(data))}, {LayoutOperands.In(s, 1, count)}, {LayoutOperands.Out(s, 0, ny)});");
        }

        // ---- views the planner kept as steps (e.g. of a constant): plain copies ----

        [Lowers("Reshape")]
        public static StepLowering Reshape(StepInfo s) => View(s, "shape", "allowzero");

        [Lowers("Flatten")]
        public static StepLowering Flatten(StepInfo s) => View(s, "axis");

        [Lowers("Squeeze")]
        public static StepLowering Squeeze(StepInfo s) => View(s, "axes");

        [Lowers("Unsqueeze")]
        public static StepLowering Unsqueeze(StepInfo s) => View(s, "axes");

        private static StepLowering View(StepInfo s, params string[] attributes)
        {
            s.AllowOnly(attributes);
            LayoutOperands.SameType(s, 0, 0);
            var x = s.InShape(0);
            var y = s.OutShape(0);
            long n = Lit.Product(x);
            if (n != Lit.Product(y)) throw s.Unsupported($"{s.Step.Op} of {Lit.Shape(x)} to {Lit.Shape(y)} changes the element count");
            var lowering = new StepLowering($"{s.Step.Op} {Lit.Shape(x)} -> {Lit.Shape(y)} (copy)");
            if (n == 0 || s.Step.Inputs[0] == s.Step.Outputs[0]) return lowering;
            return lowering.Call($"{LayoutOperands.In(s, 0, n)}.CopyTo({LayoutOperands.Out(s, 0, n)});");
        }

        // ---- outputs known from static shapes and attributes ----

        /// <summary>Shape: the (static, per-sample) dims of the input, as int64.</summary>
        [Lowers("Shape")]
        public static StepLowering Shape(StepInfo s)
        {
            s.AllowOnly("start", "end");
            var x = s.InShape(0);
            int rank = x.Length;
            long start = s.Opset >= 15 ? s.Int("start", 0) : 0;
            long end = s.Opset >= 15 ? s.Int("end", rank) : rank;
            int first = (int)Clamp(start < 0 ? start + rank : start, 0, rank);
            int last = (int)Clamp(end < 0 ? end + rank : end, 0, rank);
            var dims = x.Skip(first).Take(Math.Max(0, last - first)).ToArray();
            LayoutOperands.CheckShape(s, new[] { dims.Length }, s.OutShape(0), "output shape");
            string type = LayoutOperands.OutputType(s, 0);
            if (type != PlanTypes.Int64) throw s.Unsupported($"output of type {type}");
            LayoutOperands.RefuseBatchAxis(s, x, first == 0 && dims.Length > 0, "Shape reading the size");
            var lowering = new StepLowering($"Shape of {Lit.Shape(x)} = [{string.Join(",", dims)}]");
            string y = LayoutOperands.Out(s, 0, dims.Length);
            for (int i = 0; i < dims.Length; i++) lowering.Call($"{y}[{Lit.Int(i)}] = {Lit.Int(dims[i])}L;");
            return lowering;
        }

        /// <summary>ConstantOfShape: the (constant) shape input gives the output shape; every element is the value attribute (default float 0).</summary>
        [Lowers("ConstantOfShape")]
        public static StepLowering ConstantOfShape(StepInfo s)
        {
            s.AllowOnly("value", "value_type");
            var y = s.OutShape(0);
            string type = LayoutOperands.OutputType(s, 0);
            var v = s.Step.Attribute("value");
            if (v is null && type != PlanTypes.Float) throw s.Unsupported($"output of type {type} without a value attribute (the default value is a float 0)");
            var value = v ?? PlanAttribute.FloatList("value", 0f);
            if (Count(value) != 1) throw s.Unsupported($"attribute 'value' has {Count(value)} elements; it needs one");
            return Fill(s, $"ConstantOfShape {Lit.Shape(y)}", Lit.Product(y), value, type);
        }

        /// <summary>Constant: the value attribute (planned inline, at most 64 elements).</summary>
        [Lowers("Constant")]
        public static StepLowering Constant(StepInfo s)
        {
            s.AllowOnly("value", "value_type", "value_float", "value_floats", "value_int", "value_ints");
            var y = s.OutShape(0);
            string type = LayoutOperands.OutputType(s, 0);
            var attribute = new[] { "value", "value_float", "value_floats", "value_int", "value_ints" }.Select(n => s.Step.Attribute(n)).Where(a => a is not null).ToList();
            if (attribute.Count != 1) throw s.Unsupported("a Constant needs exactly one value attribute");
            long n = Lit.Product(y);
            if (Count(attribute[0]!) != n) throw s.Unsupported($"the value has {Count(attribute[0]!)} elements for an output of shape {Lit.Shape(y)}");
            return Fill(s, $"Constant {Lit.Shape(y)}", n, attribute[0]!, type);
        }

        private static int Count(PlanAttribute a) => a.Kind is PlanAttributeKind.Float or PlanAttributeKind.Floats ? a.Floats.Count : a.Ints.Count;

        private static bool IsPositiveZero(float v) => v == 0f && !(1f / v < 0f);

        /// <summary>Writes the attribute's values (one value: every element) to output 0.</summary>
        private static StepLowering Fill(StepInfo s, string description, long n, PlanAttribute value, string type)
        {
            var lowering = new StepLowering(description);
            if (n == 0) return lowering;
            string y = LayoutOperands.Out(s, 0, n);
            var values = LayoutOperands.Literals(s, type, value);
            bool zero = value.Kind is PlanAttributeKind.Float or PlanAttributeKind.Floats ? value.Floats.All(IsPositiveZero) : value.Ints.All(v => v == 0);
            if (zero) return lowering.Call($"{y}.Clear();");
            if (values.Count == 1 || values.Distinct().Count() == 1) return lowering.Call($"{y}.Fill({values[0]});");
            for (int i = 0; i < values.Count; i++) lowering.Call($"{y}[{Lit.Int(i)}] = {values[i]};");
            return lowering;
        }
    }
}
