namespace CompressBuild.Generator.Ops
{
    /// <summary>MaxPool, AveragePool, GlobalAveragePool → <c>CompressBuild.Runtime.Pooling</c>.</summary>
    internal static class PoolOps
    {
        private const string R = StepLowering.Runtime;

        /// <summary>2-D MaxPool (pads, strides, dilations, ceil_mode; no Indices output).</summary>
        [Lowers("MaxPool")]
        public static StepLowering MaxPool(StepInfo s)
        {
            s.AllowOnly("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides");
            if (s.HasOutput(1)) throw s.Unsupported("the Indices output");
            return Window(s, "Max", countIncludePad: false);
        }

        /// <summary>2-D AveragePool (pads, strides, ceil_mode, count_include_pad, dilations).</summary>
        [Lowers("AveragePool")]
        public static StepLowering AveragePool(StepInfo s)
        {
            s.AllowOnly("auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides");
            return Window(s, "Average", s.Int("count_include_pad", 0) != 0);
        }

        private static StepLowering Window(StepInfo s, string kernel, bool countIncludePad)
        {
            s.RequireFloat(0);
            var x = s.InShape(0);
            var y = s.OutShape(0);
            if (x.Length != 4) throw s.Unsupported($"{x.Length - 2}-D pooling (input {Lit.Shape(x)}); only 2-D is supported");
            if (y.Length != 4 || y[0] != x[0] || y[1] != x[1]) throw s.Unsupported($"output {Lit.Shape(y)} does not match input {Lit.Shape(x)}");
            var g = WindowGeometry.Read(s, x, y, null, s.Int("ceil_mode", 0) != 0);
            long planes = (long)x[0] * x[1];
            return new StepLowering($"{s.Step.Op} {Lit.Shape(x)} -> {Lit.Shape(y)}, window {g.KernelH}x{g.KernelW}, stride {g.StrideH}x{g.StrideW}, pads [{g.PadTop},{g.PadLeft},{g.PadBottom},{g.PadRight}]")
                .Shape("IPoolShape")
                .Int("Channels", planes).Int("InHeight", x[2]).Int("InWidth", x[3]).Int("OutHeight", y[2]).Int("OutWidth", y[3])
                .Int("KernelHeight", g.KernelH).Int("KernelWidth", g.KernelW)
                .Int("StrideHeight", g.StrideH).Int("StrideWidth", g.StrideW)
                .Int("DilationHeight", g.DilationH).Int("DilationWidth", g.DilationW)
                .Int("PadTop", g.PadTop).Int("PadLeft", g.PadLeft).Int("PadBottom", g.PadBottom).Int("PadRight", g.PadRight)
                .Bool("CountIncludePad", countIncludePad)
                .Call($"{R}Pooling.{kernel}<{s.StructName}, {StepLowering.Simd}>({s.FloatInput(0, Lit.Product(x))}, {s.FloatOutput(0, Lit.Product(y))});");
        }

        /// <summary>GlobalAveragePool over any number of spatial axes.</summary>
        [Lowers("GlobalAveragePool")]
        public static StepLowering GlobalAveragePool(StepInfo s)
        {
            s.AllowOnly();
            s.RequireFloat(0);
            var x = s.InShape(0);
            if (x.Length < 3) throw s.Unsupported($"input {Lit.Shape(x)} has no spatial axes");
            long planes = (long)x[0] * x[1];
            long size = Lit.Product(x) / System.Math.Max(1, planes);
            return new StepLowering($"GlobalAveragePool {Lit.Shape(x)} -> {Lit.Shape(s.OutShape(0))}")
                .Shape("IGlobalPoolShape")
                .Int("Channels", planes).Int("Size", size)
                .Call($"{R}Pooling.GlobalAverage<{s.StructName}, {StepLowering.Simd}>({s.FloatInput(0, Lit.Product(x))}, {s.FloatOutput(0, planes)});");
        }
    }
}
