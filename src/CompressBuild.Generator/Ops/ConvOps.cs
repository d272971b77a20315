using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>Conv → <c>CompressBuild.Runtime.Conv</c>.</summary>
    internal static class ConvOps
    {
        private const string R = StepLowering.Runtime;

        /// <summary>
        /// 2-D Conv: pads/auto_pad, strides, dilations, groups (incl. depthwise), bias, fused Relu,
        /// weights in fp32/fp16/int8 (per output channel or per tensor). 1-D and 3-D are unsupported.
        /// </summary>
        [Lowers("Conv")]
        public static StepLowering Conv(StepInfo s)
        {
            s.AllowOnly("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
            s.RequireFloat(0, 2);
            var x = s.InShape(0);
            var w = s.InShape(1);
            var y = s.OutShape(0);
            if (x.Length != 4) throw s.Unsupported($"{x.Length - 2}-D convolution (input {Lit.Shape(x)}); only 2-D is supported");
            if (w.Length != 4 || y.Length != 4) throw s.Unsupported($"weights {Lit.Shape(w)} / output {Lit.Shape(y)} are not 4-D");
            int group = (int)s.Int("group", 1);
            int n = x[0], c = x[1], m = w[0];
            if (group < 1 || c % group != 0 || m % group != 0 || w[1] != c / group || y[1] != m || y[0] != n)
                throw s.Unsupported($"input {Lit.Shape(x)}, weights {Lit.Shape(w)}, output {Lit.Shape(y)} and group {group} do not agree");
            var g = WindowGeometry.Read(s, x, y, new[] { w[2], w[3] }, ceilMode: false);
            if (g.KernelH != w[2] || g.KernelW != w[3]) throw s.Unsupported($"kernel_shape {g.KernelH}x{g.KernelW} differs from the weights {Lit.Shape(w)}");
            var weights = s.WeightInput(1, Lit.Product(w));
            if (weights.Format == "Q8" && weights.Axis > 0) throw s.Unsupported($"int8 weights with scales along axis {weights.Axis} (only per output channel, axis 0, or one scale)");
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
            string call = $"{R}Conv.Run<{s.StructName}, {weights.FormatType}, {StepLowering.Simd}>({xs}, {weights.Bytes}, {weights.Scales}, {bias}, {ys}, {scratchSpan}.Slice(0, {Lit.Int(scratch)}));";
            string kind = group == 1 ? "" : group == c && m == c ? " depthwise" : $" group {group}";
            var lowering = new StepLowering($"Conv{kind} {Lit.Shape(x)} -> {Lit.Shape(y)}, kernel {g.KernelH}x{g.KernelW}, stride {g.StrideH}x{g.StrideW}, pads [{g.PadTop},{g.PadLeft},{g.PadBottom},{g.PadRight}], weights {weights.Format}{(relu ? ", Relu" : "")}")
                .Shape("IConvShape")
                .Int("InChannels", c).Int("InHeight", x[2]).Int("InWidth", x[3])
                .Int("OutChannels", m).Int("OutHeight", y[2]).Int("OutWidth", y[3])
                .Int("KernelHeight", g.KernelH).Int("KernelWidth", g.KernelW)
                .Int("StrideHeight", g.StrideH).Int("StrideWidth", g.StrideW)
                .Int("DilationHeight", g.DilationH).Int("DilationWidth", g.DilationW)
                .Int("PadTop", g.PadTop).Int("PadLeft", g.PadLeft)
                .Int("Groups", group).Bool("HasBias", hasBias).Bool("ScalePerChannel", weights.Format == "Q8" && weights.Axis == 0).Bool("Relu", relu)
                .Call(n > 1 ? $"for (int __n = 0; __n < {Lit.Int(n)}; __n++) {call}" : call);
            lowering.ScratchFloats = planned is null ? scratch : 0;
            return lowering;
        }
    }
}
