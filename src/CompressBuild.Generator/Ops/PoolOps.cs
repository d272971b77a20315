using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool → <c>CompressBuild.Runtime.Pooling</c> / <c>PoolingNd</c>.</summary>
    internal static class PoolOps
    {
        private const string R = StepLowering.Runtime;

        /// <summary>
        /// MaxPool over 1 to 3 spatial axes (pads/auto_pad, strides, dilations, ceil_mode,
        /// storage_order, the optional int64 Indices output); float, double, float16, int8, uint8.
        /// Float 1-D/2-D without Indices run the vectorized 2-D kernel.
        /// </summary>
        [Lowers("MaxPool")]
        public static StepLowering MaxPool(StepInfo s)
        {
            s.AllowOnly("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides");
            string type = s.InputType(0);
            if (type is not (PlanTypes.Float or PlanTypes.Double or PlanTypes.Float16 or PlanTypes.Int8 or PlanTypes.UInt8))
                throw s.Unsupported($"MaxPool on {type}");
            bool indices = s.HasOutput(1);
            if (indices && s.NnBatched)
                throw s.Unsupported("the Indices output of a batched model (indices count from the start of the whole batch; predictors run one sample at a time)");
            long order = s.Int("storage_order", 0);
            if (order is not (0 or 1)) throw s.Unsupported($"storage_order {order}");
            if (QuantOps.MaxPool2x2(s) is { } quantized) return quantized;
            if (type == PlanTypes.Float && !indices && s.InShape(0).Length is 3 or 4) return Window(s, "Max", countIncludePad: false);
            return WindowNd(s, "Max", type, countIncludePad: false, columnMajor: order == 1, indices);
        }

        /// <summary>AveragePool over 1 to 3 spatial axes (pads/auto_pad, strides, ceil_mode, count_include_pad); float and double.</summary>
        [Lowers("AveragePool")]
        public static StepLowering AveragePool(StepInfo s)
        {
            s.AllowOnly("auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides");
            string type = s.InputType(0);
            if (type is not (PlanTypes.Float or PlanTypes.Double)) throw s.Unsupported($"AveragePool on {type}");
            bool countPad = s.Int("count_include_pad", 0) != 0;
            if (type == PlanTypes.Float && s.InShape(0).Length is 3 or 4) return Window(s, "Average", countPad);
            return WindowNd(s, "Average", type, countPad, columnMajor: false, indices: false);
        }

        /// <summary>Float 1-D (height 1) and 2-D pooling through the vectorized kernel.</summary>
        private static StepLowering Window(StepInfo s, string kernel, bool countIncludePad)
        {
            s.RequireFloat(0);
            var x = s.InShape(0);
            var y = s.OutShape(0);
            if (y.Length != x.Length || y[0] != x[0] || y[1] != x[1]) throw s.Unsupported($"output {Lit.Shape(y)} does not match input {Lit.Shape(x)}");
            long planes = (long)x[0] * x[1];
            bool ceil = s.Int("ceil_mode", 0) != 0;
            StepLowering lowering;
            if (x.Length == 3)
            {
                var g = NnWindow.Resolve(s, new[] { x[2] }, new[] { y[2] }, null, ceil);
                lowering = new StepLowering($"{s.Step.Op} {Lit.Shape(x)} -> {Lit.Shape(y)}, window {g.Text(g.Kernel)}, stride {g.Text(g.Stride)}, pads {g.PadsText}")
                    .Shape("IPoolShape")
                    .Int("Channels", planes).Int("InHeight", 1).Int("InWidth", x[2]).Int("OutHeight", 1).Int("OutWidth", y[2])
                    .Int("KernelHeight", 1).Int("KernelWidth", g.Kernel[2])
                    .Int("StrideHeight", 1).Int("StrideWidth", g.Stride[2])
                    .Int("DilationHeight", 1).Int("DilationWidth", g.Dilation[2])
                    .Int("PadTop", 0).Int("PadLeft", g.PadBegin[2]).Int("PadBottom", 0).Int("PadRight", g.PadEnd[2]);
            }
            else
            {
                var g = WindowGeometry.Read(s, x, y, null, ceil);
                lowering = new StepLowering($"{s.Step.Op} {Lit.Shape(x)} -> {Lit.Shape(y)}, window {g.KernelH}x{g.KernelW}, stride {g.StrideH}x{g.StrideW}, pads [{g.PadTop},{g.PadLeft},{g.PadBottom},{g.PadRight}]")
                    .Shape("IPoolShape")
                    .Int("Channels", planes).Int("InHeight", x[2]).Int("InWidth", x[3]).Int("OutHeight", y[2]).Int("OutWidth", y[3])
                    .Int("KernelHeight", g.KernelH).Int("KernelWidth", g.KernelW)
                    .Int("StrideHeight", g.StrideH).Int("StrideWidth", g.StrideW)
                    .Int("DilationHeight", g.DilationH).Int("DilationWidth", g.DilationW)
                    .Int("PadTop", g.PadTop).Int("PadLeft", g.PadLeft).Int("PadBottom", g.PadBottom).Int("PadRight", g.PadRight);
            }
            return lowering
                .Bool("CountIncludePad", countIncludePad)
                .Call($"{R}Pooling.{kernel}<{s.StructName}, {StepLowering.Simd}>({s.FloatInput(0, Lit.Product(x))}, {s.FloatOutput(0, Lit.Product(y))});");
        }

        /// <summary>Pooling over 1-3 spatial axes of any supported element type, window by window.</summary>
        private static StepLowering WindowNd(StepInfo s, string kernel, string type, bool countIncludePad, bool columnMajor, bool indices)
        {
            var x = s.InShape(0);
            var y = s.OutShape(0);
            if (x.Length < 3 || x.Length > 5) throw s.Unsupported($"input {Lit.Shape(x)}: pooling needs 1 to 3 spatial axes");
            if (y.Length != x.Length || y[0] != x[0] || y[1] != x[1]) throw s.Unsupported($"output {Lit.Shape(y)} does not match input {Lit.Shape(x)}");
            if (s.NnOutputType(0) != type) throw s.Unsupported($"output element type {s.NnOutputType(0)} differs from the input's {type}");
            var xs = new int[x.Length - 2];
            var ys = new int[y.Length - 2];
            System.Array.Copy(x, 2, xs, 0, xs.Length);
            System.Array.Copy(y, 2, ys, 0, ys.Length);
            var g = NnWindow.Resolve(s, xs, ys, null, s.Int("ceil_mode", 0) != 0);
            long planes = (long)x[0] * x[1];
            string t = PlanTypes.CSharp(type);
            string args = $"{s.NnInput(0, Lit.Product(x), type)}, {s.NnOutput(0, Lit.Product(y), type)}";
            if (kernel == "Max") args += ", " + (indices ? s.NnOutput(1, Lit.Product(y), PlanTypes.Int64) : "default");
            return g.AddMembers(new StepLowering($"{s.Step.Op} {type} {Lit.Shape(x)} -> {Lit.Shape(y)}, window {g.Text(g.Kernel)}, stride {g.Text(g.Stride)}, pads {g.PadsText}{(indices ? ", with Indices" : "")}")
                    .Shape("IPoolNdShape"), padEnd: true)
                .Int("Planes", planes).Bool("CountIncludePad", countIncludePad).Bool("ColumnMajor", columnMajor)
                .Call($"{R}PoolingNd.{kernel}<{s.StructName}, {t}>({args});");
        }

        /// <summary>GlobalAveragePool over any number of spatial axes; float and double.</summary>
        [Lowers("GlobalAveragePool")]
        public static StepLowering GlobalAveragePool(StepInfo s)
        {
            s.AllowOnly();
            string type = s.InputType(0);
            if (type == PlanTypes.Double) return Global(s, "GlobalAverage", type);
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

        /// <summary>GlobalMaxPool over any number of spatial axes; float, double and float16.</summary>
        [Lowers("GlobalMaxPool")]
        public static StepLowering GlobalMaxPool(StepInfo s)
        {
            s.AllowOnly();
            string type = s.InputType(0);
            if (type is not (PlanTypes.Float or PlanTypes.Double or PlanTypes.Float16)) throw s.Unsupported($"GlobalMaxPool on {type}");
            return Global(s, "GlobalMax", type);
        }

        private static StepLowering Global(StepInfo s, string kernel, string type)
        {
            var x = s.InShape(0);
            if (x.Length < 3) throw s.Unsupported($"input {Lit.Shape(x)} has no spatial axes");
            if (s.NnOutputType(0) != type) throw s.Unsupported($"output element type {s.NnOutputType(0)} differs from the input's {type}");
            long planes = (long)x[0] * x[1];
            long size = Lit.Product(x) / System.Math.Max(1, planes);
            if (size == 0) throw s.Unsupported($"input {Lit.Shape(x)} has no spatial elements");
            return new StepLowering($"{s.Step.Op} {type} {Lit.Shape(x)} -> {Lit.Shape(s.OutShape(0))}")
                .Shape("IGlobalPoolShape")
                .Int("Channels", planes).Int("Size", size)
                .Call($"{R}PoolingNd.{kernel}<{s.StructName}, {PlanTypes.CSharp(type)}>({s.NnInput(0, Lit.Product(x), type)}, {s.NnOutput(0, planes, type)});");
        }
    }
}
