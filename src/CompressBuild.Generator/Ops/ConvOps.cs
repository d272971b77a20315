using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>Conv and ConvTranspose → <c>CompressBuild.Runtime.Conv</c>, <c>ConvNd</c>, <c>ConvTranspose</c>.</summary>
    internal static class ConvOps
    {
        private const string R = StepLowering.Runtime;

        /// <summary>
        /// Conv over 1 to 3 spatial axes: pads/auto_pad, strides, dilations, groups (incl. depthwise),
        /// bias, fused Relu, weights in fp32/fp16/int8 (per output channel or per tensor) or, in 1-D and
        /// 2-D, int4/int2 (fp16 scales per block of each output channel's taps). 2-D (and
        /// 1-D, as height 1) run the register-blocked 2-D kernel; 3-D the direct N-d kernel.
        /// </summary>
        [Lowers("Conv")]
        public static StepLowering Conv(StepInfo s)
        {
            s.AllowOnly("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
            s.RequireFloat(0, 2);
            var x = s.InShape(0);
            var w = s.InShape(1);
            var y = s.OutShape(0);
            if (x.Length < 3 || x.Length > 5) throw s.Unsupported($"input {Lit.Shape(x)}: Conv needs 1 to 3 spatial axes");
            if (w.Length != x.Length || y.Length != x.Length) throw s.Unsupported($"weights {Lit.Shape(w)} / output {Lit.Shape(y)} do not have the rank of the input {Lit.Shape(x)}");
            int group = (int)s.Int("group", 1);
            int n = x[0], c = x[1], m = w[0];
            if (group < 1 || c % group != 0 || m % group != 0 || w[1] != c / group || y[1] != m || y[0] != n)
                throw s.Unsupported($"input {Lit.Shape(x)}, weights {Lit.Shape(w)}, output {Lit.Shape(y)} and group {group} do not agree");
            if (x.Length == 4) return Conv2D(s, x, w, y, group);
            var g = NnWindow.Resolve(s, Spatial(x), Spatial(y), Spatial(w), ceilMode: false);
            var weights = ConvWeights(s, w);
            if (weights.IsPacked && x.Length != 3) throw s.Unsupported($"{weights.Format} weights in a 3-D Conv");
            bool hasBias = s.HasInput(2);
            bool relu = s.FusedRelu;
            string bias = hasBias ? s.FloatInput(2, m) : "default";
            string description = $"Conv{Kind(group, c, m)} {Lit.Shape(x)} -> {Lit.Shape(y)}, kernel {g.Text(g.Kernel)}, stride {g.Text(g.Stride)}, pads {g.PadsText}, weights {GemmOps.Weights(weights)}{(relu ? ", Relu" : "")}";
            if (x.Length == 3)
            {
                // 1-D: the 2-D kernel over a height of 1.
                long scratch = KernelScratch.ConvFloats(c, m, group, 1, y[2], 1, w[2], 1, g.Stride[2], 1, g.Dilation[2]);
                var lowering = new StepLowering(description)
                    .Shape(weights.IsPacked ? "IPackedConvShape" : "IConvShape")
                    .Int("InChannels", c).Int("InHeight", 1).Int("InWidth", x[2])
                    .Int("OutChannels", m).Int("OutHeight", 1).Int("OutWidth", y[2])
                    .Int("KernelHeight", 1).Int("KernelWidth", w[2])
                    .Int("StrideHeight", 1).Int("StrideWidth", g.Stride[2])
                    .Int("DilationHeight", 1).Int("DilationWidth", g.Dilation[2])
                    .Int("PadTop", 0).Int("PadLeft", g.PadBegin[2])
                    .Int("Groups", group).Bool("HasBias", hasBias).Bool("ScalePerChannel", weights.Format == "Q8" && weights.Axis == 0).Bool("Relu", relu);
                if (weights.IsPacked) lowering.Int("Block", weights.Block);
                string scratchSpan = s.NnScratch(lowering, scratch);
                long inSize = (long)c * x[2], outSize = (long)m * y[2];
                string xs = s.FloatInput(0, n * inSize), ys = s.FloatOutput(0, n * outSize);
                if (n > 1)
                {
                    xs += $".Slice(__n * {Lit.Int(inSize)}, {Lit.Int(inSize)})";
                    ys += $".Slice(__n * {Lit.Int(outSize)}, {Lit.Int(outSize)})";
                }
                string call = $"{R}Conv.{(weights.IsPacked ? "RunPacked" : "Run")}<{s.StructName}, {weights.FormatType}, {StepLowering.Simd}>({xs}, {weights.Bytes}, {weights.Scales}, {bias}, {ys}, {scratchSpan});";
                return lowering.Call(n > 1 ? $"for (int __n = 0; __n < {Lit.Int(n)}; __n++) {call}" : call);
            }
            return g.AddMembers(new StepLowering(description).Shape("IConvNdShape"), padEnd: false)
                .Int("Batch", n).Int("InChannels", c).Int("OutChannels", m).Int("Groups", group)
                .Bool("HasBias", hasBias).Bool("ScalePerChannel", weights.Format == "Q8" && weights.Axis == 0).Bool("Relu", relu)
                .Call($"{R}ConvNd.Run<{s.StructName}, {weights.FormatType}, {StepLowering.Simd}>({s.FloatInput(0, Lit.Product(x))}, {weights.Bytes}, {weights.Scales}, {bias}, {s.FloatOutput(0, Lit.Product(y))});");
        }

        /// <summary>
        /// ConvTranspose over 1 to 3 spatial axes: pads/auto_pad, output_padding, output_shape,
        /// strides, dilations, group, bias, fused Relu, weights in fp32/fp16/int8 (scales along axis 1
        /// or one for all).
        /// </summary>
        [Lowers("ConvTranspose")]
        public static StepLowering ConvTranspose(StepInfo s)
        {
            s.AllowOnly("auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides");
            s.RequireFloat(0, 2);
            var x = s.InShape(0);
            var w = s.InShape(1);
            var y = s.OutShape(0);
            if (x.Length < 3 || x.Length > 5) throw s.Unsupported($"input {Lit.Shape(x)}: ConvTranspose needs 1 to 3 spatial axes");
            if (w.Length != x.Length || y.Length != x.Length) throw s.Unsupported($"weights {Lit.Shape(w)} / output {Lit.Shape(y)} do not have the rank of the input {Lit.Shape(x)}");
            int group = (int)s.Int("group", 1);
            int n = x[0], c = x[1], m = w[1] * group;
            if (group < 1 || c % group != 0 || w[0] != c || y[1] != m || y[0] != n)
                throw s.Unsupported($"input {Lit.Shape(x)}, weights {Lit.Shape(w)}, output {Lit.Shape(y)} and group {group} do not agree");
            var g = NnWindow.ResolveTranspose(s, Spatial(x), Spatial(y), Spatial(w));
            var weights = s.WeightInput(1, Lit.Product(w));
            if (weights.IsPacked) throw s.Unsupported($"{weights.Format} weights in a ConvTranspose");
            if (weights.Format == "Q8" && weights.Axis >= 0 && weights.Axis != 1)
                throw s.Unsupported($"int8 weights with scales along axis {weights.Axis} (only per output channel, axis 1, or one scale)");
            bool hasBias = s.HasInput(2);
            bool relu = s.FusedRelu;
            string bias = hasBias ? s.FloatInput(2, m) : "default";
            return g.AddMembers(new StepLowering($"ConvTranspose{Kind(group, c, m)} {Lit.Shape(x)} -> {Lit.Shape(y)}, kernel {g.Text(g.Kernel)}, stride {g.Text(g.Stride)}, pads {g.PadsText}, weights {weights.Format}{(relu ? ", Relu" : "")}")
                    .Shape("IConvNdShape"), padEnd: false)
                .Int("Batch", n).Int("InChannels", c).Int("OutChannels", m).Int("Groups", group)
                .Bool("HasBias", hasBias).Bool("ScalePerChannel", weights.Format == "Q8" && weights.Axis == 1).Bool("Relu", relu)
                .Call($"{R}ConvTranspose.Run<{s.StructName}, {weights.FormatType}, {StepLowering.Simd}>({s.FloatInput(0, Lit.Product(x))}, {weights.Bytes}, {weights.Scales}, {bias}, {s.FloatOutput(0, Lit.Product(y))});");
        }

        /// <summary>Conv weights: int8 scales per output channel (axis 0) or one; packed channels on axis 0.</summary>
        private static WeightOperand ConvWeights(StepInfo s, int[] w)
        {
            var weights = s.WeightInput(1, Lit.Product(w));
            if (weights.Format == "Q8" && weights.Axis > 0) throw s.Unsupported($"int8 weights with scales along axis {weights.Axis} (only per output channel, axis 0, or one scale)");
            if (weights.IsPacked && weights.Axis != 0) throw s.Unsupported($"{weights.Format} weights with channels on axis {weights.Axis} (only axis 0)");
            return weights;
        }

        private static int[] Spatial(int[] shape)
        {
            var r = new int[shape.Length - 2];
            System.Array.Copy(shape, 2, r, 0, r.Length);
            return r;
        }

        private static string Kind(int group, int c, int m) => group == 1 ? "" : group == c && m == c ? " depthwise" : $" group {group}";

        /// <summary>2-D Conv: the register-blocked kernel with its staged scratch.</summary>
        private static StepLowering Conv2D(StepInfo s, int[] x, int[] w, int[] y, int group)
        {
            int n = x[0], c = x[1], m = w[0];
            var g = WindowGeometry.Read(s, x, y, new[] { w[2], w[3] }, ceilMode: false);
            if (g.KernelH != w[2] || g.KernelW != w[3]) throw s.Unsupported($"kernel_shape {g.KernelH}x{g.KernelW} differs from the weights {Lit.Shape(w)}");
            var weights = ConvWeights(s, w);
            bool hasBias = s.HasInput(2);
            bool relu = s.FusedRelu;
            long scratch = KernelScratch.ConvFloats(c, m, group, y[2], y[3], g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.DilationH, g.DilationW);
            // Plans from the engine place the scratch in the arena; hand-written ones get it after the arena.
            string? planned = s.Step.Attribute(KernelScratch.Attribute)?.AsString;
            string scratchSpan = planned is null ? "__scratch" : StepInfo.BufferVar(planned);
            long inSize = (long)c * x[2] * x[3], outSize = (long)m * y[2] * y[3];
            string bias = hasBias ? s.FloatInput(2, m) : "default";
            string xs = s.FloatInput(0, n * inSize), ys = s.FloatOutput(0, n * outSize);
            if (n > 1)
            {
                xs += $".Slice(__n * {Lit.Int(inSize)}, {Lit.Int(inSize)})";
                ys += $".Slice(__n * {Lit.Int(outSize)}, {Lit.Int(outSize)})";
            }
            string call = $"{R}Conv.{(weights.IsPacked ? "RunPacked" : "Run")}<{s.StructName}, {weights.FormatType}, {StepLowering.Simd}>({xs}, {weights.Bytes}, {weights.Scales}, {bias}, {ys}, {scratchSpan}.Slice(0, {Lit.Int(scratch)}));";
            var lowering = new StepLowering($"Conv{Kind(group, c, m)} {Lit.Shape(x)} -> {Lit.Shape(y)}, kernel {g.KernelH}x{g.KernelW}, stride {g.StrideH}x{g.StrideW}, pads [{g.PadTop},{g.PadLeft},{g.PadBottom},{g.PadRight}], weights {GemmOps.Weights(weights)}{(relu ? ", Relu" : "")}")
                .Shape(weights.IsPacked ? "IPackedConvShape" : "IConvShape")
                .Int("InChannels", c).Int("InHeight", x[2]).Int("InWidth", x[3])
                .Int("OutChannels", m).Int("OutHeight", y[2]).Int("OutWidth", y[3])
                .Int("KernelHeight", g.KernelH).Int("KernelWidth", g.KernelW)
                .Int("StrideHeight", g.StrideH).Int("StrideWidth", g.StrideW)
                .Int("DilationHeight", g.DilationH).Int("DilationWidth", g.DilationW)
                .Int("PadTop", g.PadTop).Int("PadLeft", g.PadLeft)
                .Int("Groups", group).Bool("HasBias", hasBias).Bool("ScalePerChannel", weights.Format == "Q8" && weights.Axis == 0).Bool("Relu", relu)
                .Call(n > 1 ? $"for (int __n = 0; __n < {Lit.Int(n)}; __n++) {call}" : call);
            if (weights.IsPacked) lowering.Int("Block", weights.Block);
            lowering.ScratchFloats = planned is null ? scratch : 0;
            return lowering;
        }
    }
}
