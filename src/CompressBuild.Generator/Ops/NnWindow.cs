using System.Linq;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// The window attributes of Conv, ConvTranspose, MaxPool and AveragePool over 1 to 3 spatial
    /// axes (kernel_shape, strides, dilations, pads, auto_pad), resolved as the engine's
    /// WindowAttributes does, and always expressed over three axes (depth, height, width): missing
    /// leading axes have size 1, kernel 1, stride 1 and no padding.
    /// </summary>
    internal sealed class NnWindow
    {
        public const int Rank = 3;

        /// <summary>Spatial axes of the op (1-3).</summary>
        public int Spatial;

        public int[] In = { 1, 1, 1 }, Out = { 1, 1, 1 }, Kernel = { 1, 1, 1 }, Stride = { 1, 1, 1 }, Dilation = { 1, 1, 1 };
        public int[] PadBegin = { 0, 0, 0 }, PadEnd = { 0, 0, 0 };

        private static int[] Canonical(int[] v, int fill)
        {
            var r = new int[Rank];
            int lead = Rank - v.Length;
            for (int i = 0; i < Rank; i++) r[i] = i < lead ? fill : v[i - lead];
            return r;
        }

        private static int[]? Attr(StepInfo s, string name, int count, bool positive)
        {
            var v = s.Ints(name);
            if (v is null) return null;
            if (v.Length != count) throw s.Unsupported($"{name} has {v.Length} values for {(name == "pads" ? count / 2 : count)} spatial axes");
            foreach (long x in v)
                if (x > int.MaxValue || (positive ? x < 1 : x < 0)) throw s.Unsupported($"{name} [{string.Join(",", v)}] must be {(positive ? "positive" : "non-negative")}");
            return v.Select(x => (int)x).ToArray();
        }

        private static string AutoPad(StepInfo s)
        {
            string a = s.String("auto_pad", "NOTSET");
            if (a is not ("NOTSET" or "" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) throw s.Unsupported($"auto_pad '{a}'");
            return a.Length == 0 ? "NOTSET" : a;
        }

        /// <summary>
        /// Conv / MaxPool / AveragePool: the window over input spatial sizes <paramref name="x"/>,
        /// checked against the planned output sizes <paramref name="y"/>.
        /// </summary>
        public static NnWindow Resolve(StepInfo s, int[] x, int[] y, int[]? kernelFromWeights, bool ceilMode)
        {
            int r = x.Length;
            if (r < 1 || r > Rank) throw s.Unsupported($"{r} spatial axes (1 to 3 are supported)");
            if (y.Length != r) throw s.Unsupported("input and output have different ranks");
            var k = Attr(s, "kernel_shape", r, true) ?? kernelFromWeights ?? throw s.Unsupported("kernel_shape is missing");
            if (kernelFromWeights is not null && !k.SequenceEqual(kernelFromWeights))
                throw s.Unsupported($"kernel_shape {Lit.Shape(k)} differs from the weights' spatial dims {Lit.Shape(kernelFromWeights)}");
            var strides = Attr(s, "strides", r, true) ?? Enumerable.Repeat(1, r).ToArray();
            var dilations = Attr(s, "dilations", r, true) ?? Enumerable.Repeat(1, r).ToArray();
            var pads = Attr(s, "pads", 2 * r, false);
            string autoPad = AutoPad(s);
            var begin = new int[r];
            var end = new int[r];
            var output = new int[r];
            for (int i = 0; i < r; i++)
            {
                int st = strides[i], dk = (k[i] - 1) * dilations[i] + 1;
                if (autoPad is "SAME_UPPER" or "SAME_LOWER")
                {
                    output[i] = (x[i] + st - 1) / st;
                    int total = System.Math.Max(0, (output[i] - 1) * st + dk - x[i]);
                    begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[i] = total - begin[i];
                }
                else
                {
                    if (autoPad == "NOTSET" && pads is not null)
                    {
                        begin[i] = pads[i];
                        end[i] = pads[i + r];
                    }
                    long span = (long)x[i] + begin[i] + end[i] - dk;
                    if (span < 0) throw s.Unsupported($"along spatial axis {i} the window is larger than the padded input");
                    bool ceil = ceilMode && autoPad == "NOTSET";
                    output[i] = (int)((ceil ? span + st - 1 : span) / st) + 1;
                    if (ceil && (long)(output[i] - 1) * st >= x[i] + begin[i]) output[i]--;
                }
            }
            if (!output.SequenceEqual(y))
                throw s.Unsupported($"the planned output {Lit.Shape(y)} does not follow from input {Lit.Shape(x)} and the window attributes ({Lit.Shape(output)})");
            return Make(r, x, y, k, strides, dilations, begin, end);
        }

        /// <summary>
        /// ConvTranspose as the convolution it transposes: <see cref="In"/> is X (the small side),
        /// <see cref="Out"/> is Y, and the pads are those of Y (the engine's ResolveTranspose).
        /// </summary>
        public static NnWindow ResolveTranspose(StepInfo s, int[] x, int[] y, int[] kernel)
        {
            int r = x.Length;
            if (r < 1 || r > Rank) throw s.Unsupported($"{r} spatial axes (1 to 3 are supported)");
            var k = Attr(s, "kernel_shape", r, true) ?? kernel;
            if (!k.SequenceEqual(kernel)) throw s.Unsupported($"kernel_shape {Lit.Shape(k)} differs from the weights' spatial dims {Lit.Shape(kernel)}");
            var strides = Attr(s, "strides", r, true) ?? Enumerable.Repeat(1, r).ToArray();
            var dilations = Attr(s, "dilations", r, true) ?? Enumerable.Repeat(1, r).ToArray();
            var pads = Attr(s, "pads", 2 * r, false);
            var outputPadding = s.Ints("output_padding");
            var outputShape = s.Ints("output_shape");
            if (outputPadding is not null && outputPadding.Length != r) throw s.Unsupported($"output_padding has {outputPadding.Length} values for {r} spatial axes");
            if (outputShape is not null && outputShape.Length != r) throw s.Unsupported($"output_shape has {outputShape.Length} values for {r} spatial axes");
            string autoPad = AutoPad(s);
            var begin = new int[r];
            var end = new int[r];
            var output = new int[r];
            for (int i = 0; i < r; i++)
            {
                int st = strides[i], dk = (k[i] - 1) * dilations[i] + 1;
                long adjust = outputPadding is null ? 0 : outputPadding[i];
                long full = (long)st * (x[i] - 1) + adjust + dk;
                long size;
                if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
                {
                    size = outputShape is not null ? outputShape[i] : (long)x[i] * st;
                    long total = System.Math.Max(0, full - size);
                    begin[i] = (int)(autoPad == "SAME_UPPER" ? total / 2 : total - total / 2);
                }
                else
                {
                    if (autoPad == "NOTSET" && pads is not null)
                    {
                        begin[i] = pads[i];
                        end[i] = pads[i + r];
                    }
                    size = full - begin[i] - end[i];
                }
                if (size <= 0 || size > int.MaxValue) throw s.Unsupported($"along spatial axis {i} the output size would be {size}");
                output[i] = (int)size;
                end[i] = (int)(full - size - begin[i]);
            }
            if (!output.SequenceEqual(y))
                throw s.Unsupported($"the planned output {Lit.Shape(y)} does not follow from input {Lit.Shape(x)} and the ConvTranspose attributes ({Lit.Shape(output)})");
            return Make(r, x, y, k, strides, dilations, begin, end);
        }

        private static NnWindow Make(int r, int[] x, int[] y, int[] k, int[] strides, int[] dilations, int[] begin, int[] end) => new NnWindow
        {
            Spatial = r,
            In = Canonical(x, 1),
            Out = Canonical(y, 1),
            Kernel = Canonical(k, 1),
            Stride = Canonical(strides, 1),
            Dilation = Canonical(dilations, 1),
            PadBegin = Canonical(begin, 0),
            PadEnd = Canonical(end, 0),
        };

        /// <summary>Adds the window's members (InD, InH, InW, OutD, …, PadBeginD, …, PadEndW) to a shape struct.</summary>
        public StepLowering AddMembers(StepLowering l, bool padEnd)
        {
            string[] axis = { "D", "H", "W" };
            for (int i = 0; i < Rank; i++) l.Int("In" + axis[i], In[i]);
            for (int i = 0; i < Rank; i++) l.Int("Out" + axis[i], Out[i]);
            for (int i = 0; i < Rank; i++) l.Int("Kernel" + axis[i], Kernel[i]);
            for (int i = 0; i < Rank; i++) l.Int("Stride" + axis[i], Stride[i]);
            for (int i = 0; i < Rank; i++) l.Int("Dilation" + axis[i], Dilation[i]);
            for (int i = 0; i < Rank; i++) l.Int("PadBegin" + axis[i], PadBegin[i]);
            if (padEnd)
                for (int i = 0; i < Rank; i++) l.Int("PadEnd" + axis[i], PadEnd[i]);
            return l;
        }

        /// <summary>For descriptions: "3x3" (the op's own axes).</summary>
        public string Text(int[] v) => string.Join("x", v.Skip(Rank - Spatial).Select(d => Lit.Int(d)));

        public string PadsText => "[" + string.Join(",", PadBegin.Skip(Rank - Spatial).Concat(PadEnd.Skip(Rank - Spatial)).Select(d => Lit.Int(d))) + "]";
    }
}
