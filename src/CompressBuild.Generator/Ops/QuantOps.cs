using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// The quantized ops → <c>CompressBuild.Runtime.Quant</c>, <c>QConv</c>, <c>QGemm</c>: QuantizeLinear,
    /// DequantizeLinear, DynamicQuantizeLinear, QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger
    /// and ONNX Runtime's QGemm (com.microsoft). Requantization is integer-only (<c>FixedPoint</c>): the
    /// multiplier x_scale·w_scale/y_scale, formed in float32 in ONNX Runtime's order, becomes an int32
    /// multiplier and a shift per output channel. When the scales and the output zero point are plan
    /// constants (inlined on the step) they are computed here and emitted in the step's shape struct;
    /// otherwise (the ONNX suite feeds scales as graph inputs) the kernel derives them from the run-time
    /// scales with the same algorithm. Other scales and zero points are read from their constants or buffers.
    /// </summary>
    internal static class QuantOps
    {
        private const string R = StepLowering.Runtime;
        private const string AsBytes = "global::System.Runtime.InteropServices.MemoryMarshal.AsBytes";

        /// <summary>QuantizeLinear of float x to uint8/int8, one scale or one per slice along <c>axis</c>.</summary>
        [Lowers("QuantizeLinear")]
        public static StepLowering QuantizeLinear(StepInfo s)
        {
            s.AllowOnly("axis");
            RequireFloatInput(s);
            string type = s.NnOutputType(0);
            RequireEightBit(s, type, "y");
            var x = s.InShape(0);
            long n = Lit.Product(x);
            var (outer, channels, inner) = Axis(s, x, 1);
            return new StepLowering($"QuantizeLinear {Lit.Shape(x)} float -> {type}{PerAxis(channels)}")
                .Shape("IQuantizeShape")
                .Int("Outer", outer).Int("Channels", channels).Int("Inner", inner).Bool("Signed", type == PlanTypes.Int8)
                .Call($"{R}Quant.Quantize<{s.StructName}, {StepLowering.Simd}>({s.FloatInput(0, n)}, {s.FloatInput(1, channels)}, {OptionalBytes(s, 2, channels, type)}, {Bytes(s.NnOutput(0, n, type), type)});");
        }

        /// <summary>DequantizeLinear of uint8/int8/int32 x to float, one scale or one per slice along <c>axis</c>.</summary>
        [Lowers("DequantizeLinear")]
        public static StepLowering DequantizeLinear(StepInfo s)
        {
            s.AllowOnly("axis");
            string type = s.InputType(0);
            if (type is not (PlanTypes.UInt8 or PlanTypes.Int8 or PlanTypes.Int32)) throw s.Unsupported($"DequantizeLinear of {type}");
            var x = s.InShape(0);
            long n = Lit.Product(x);
            var (outer, channels, inner) = Axis(s, x, 1);
            var lowering = new StepLowering($"DequantizeLinear {Lit.Shape(x)} {type} -> float{PerAxis(channels)}")
                .Shape("IQuantizeShape")
                .Int("Outer", outer).Int("Channels", channels).Int("Inner", inner).Bool("Signed", type == PlanTypes.Int8);
            string y = s.FloatOutput(0, n), scale = s.FloatInput(1, channels);
            if (type == PlanTypes.Int32)
            {
                string zero = s.HasInput(2) ? s.NnInput(2, channels, PlanTypes.Int32) : "default";
                return lowering.Call($"{R}Quant.DequantizeInt32<{s.StructName}>({s.NnInput(0, n, type)}, {scale}, {zero}, {y});");
            }
            return lowering.Call($"{R}Quant.Dequantize<{s.StructName}>({Input(s, 0, n)}, {scale}, {OptionalBytes(s, 2, channels, type)}, {y});");
        }

        /// <summary>DynamicQuantizeLinear: uint8 y with the scale and zero point of x's range (optional outputs).</summary>
        [Lowers("DynamicQuantizeLinear")]
        public static StepLowering DynamicQuantizeLinear(StepInfo s)
        {
            s.AllowOnly();
            RequireFloatInput(s);
            var x = s.InShape(0);
            long n = Lit.Product(x);
            if (s.NnBatched) throw s.Unsupported("DynamicQuantizeLinear in a batched model (its range spans the whole batch; predictors run one sample at a time)");
            string scale = s.HasOutput(1) ? s.FloatOutput(1, 1) : "default";
            string zero = s.HasOutput(2) ? s.NnOutput(2, 1, PlanTypes.UInt8) : "default";
            return new StepLowering($"DynamicQuantizeLinear {Lit.Shape(x)} float -> uint8")
                .Call($"{R}Quant.DynamicQuantize<{StepLowering.Simd}>({s.FloatInput(0, n)}, {s.NnOutput(0, n, PlanTypes.UInt8)}, {scale}, {zero});");
        }

        /// <summary>QLinearConv (1-D or 2-D; groups, depthwise; per-channel w_scale; int32 bias) → uint8/int8.</summary>
        [Lowers("QLinearConv")]
        public static StepLowering QLinearConv(StepInfo s)
        {
            var (lowering, geometry) = ConvShape(s, x: 0, w: 3, xZero: 2, wZero: 5, yType: s.NnOutputType(0));
            int m = geometry.M;
            RequireSingle(s, 1, "x_scale");
            RequireSingle(s, 6, "y_scale");
            long wScales = Count(s, 4);
            if (wScales != 1 && wScales != m) throw s.Unsupported($"w_scale has {wScales} values for {m} output channels");
            string bias = s.HasInput(8) ? s.NnInput(8, m, PlanTypes.Int32) : "default";
            string yType = s.NnOutputType(0);
            RequireEightBit(s, yType, "y");
            string wZero = OptionalBytes(s, 5, Zeros(s, 5, m, "w_zero_point"), s.InputType(3));
            string y = Bytes(s.NnOutput(0, geometry.YElements, yType), yType);
            if (FixedRequantization(s, lowering, 1, 4, wScales, 6, 7, 1f) is { } fixedPoint)
                return Scratch(s, lowering, geometry.ScratchFloats, scratch =>
                    $"{R}QConv.Linear<{s.StructName}, {StepLowering.Simd}>({Input(s, 0, geometry.XElements)}, {OptionalBytes(s, 2, 1, s.InputType(0))}, {Input(s, 3, geometry.WElements)}, {wZero}, {fixedPoint}, {bias}, {y}, {scratch});");
            return Scratch(s, lowering, geometry.ScratchFloats, scratch =>
                $"{R}QConv.Linear<{s.StructName}, {StepLowering.Simd}>({Input(s, 0, geometry.XElements)}, {s.FloatInput(1, 1)}, {OptionalBytes(s, 2, 1, s.InputType(0))}, " +
                $"{Input(s, 3, geometry.WElements)}, {s.FloatInput(4, wScales)}, {wZero}, {s.FloatInput(6, 1)}, {OptionalBytes(s, 7, 1, yType)}, {bias}, {y}, {scratch});");
        }

        /// <summary>ConvInteger (1-D or 2-D; groups; per-channel w_zero_point) → int32.</summary>
        [Lowers("ConvInteger")]
        public static StepLowering ConvInteger(StepInfo s)
        {
            var (lowering, geometry) = ConvShape(s, x: 0, w: 1, xZero: 2, wZero: 3, yType: PlanTypes.Int32);
            long wZeros = s.HasInput(3) ? Count(s, 3) : 1;
            if (wZeros != 1 && wZeros != geometry.M) throw s.Unsupported($"w_zero_point has {wZeros} values for {geometry.M} output channels");
            return Scratch(s, lowering, geometry.ScratchFloats, scratch =>
                $"{R}QConv.Integer<{s.StructName}, {StepLowering.Simd}>({Input(s, 0, geometry.XElements)}, {Input(s, 1, geometry.WElements)}, " +
                $"{OptionalBytes(s, 2, 1, s.InputType(0))}, {OptionalBytes(s, 3, wZeros, s.InputType(1))}, {s.NnOutput(0, geometry.YElements, PlanTypes.Int32)}, {scratch});");
        }

        /// <summary>QLinearMatMul: 2-D, 1-D promotion, batches with one shared side; b_scale per tensor or per column.</summary>
        [Lowers("QLinearMatMul")]
        public static StepLowering QLinearMatMul(StepInfo s)
        {
            s.AllowOnly();
            string yType = s.NnOutputType(0);
            RequireEightBit(s, yType, "y");
            var g = MatMulShape(s, 0, 3, yType);
            RequireSingle(s, 1, "a_scale");
            RequireSingle(s, 6, "y_scale");
            long bScales = PerColumn(s, 4, g.N, "b_scale");
            string aZero = OptionalBytes(s, 2, 1, s.InputType(0)), bZero = OptionalBytes(s, 5, Zeros(s, 5, g.N, "b_zero_point"), s.InputType(3));
            string y = Bytes(s.NnOutput(0, g.YElements, yType), yType);
            if (FixedRequantization(s, g.Lowering, 1, 4, bScales, 6, 7, 1f) is { } fixedPoint)
                return Scratch(s, g.Lowering, g.ScratchFloats, scratch =>
                    $"{R}QGemm.Linear<{s.StructName}, {StepLowering.Simd}>({Input(s, 0, g.AElements)}, {aZero}, {Input(s, 3, g.BElements)}, {bZero}, default, {fixedPoint}, {y}, {scratch});");
            return Scratch(s, g.Lowering, g.ScratchFloats, scratch =>
                $"{R}QGemm.Linear<{s.StructName}, {StepLowering.Simd}>({Input(s, 0, g.AElements)}, {s.FloatInput(1, 1)}, {aZero}, " +
                $"{Input(s, 3, g.BElements)}, {s.FloatInput(4, bScales)}, {bZero}, default, {s.FloatInput(6, 1)}, {OptionalBytes(s, 7, 1, yType)}, {y}, {scratch});");
        }

        /// <summary>MatMulInteger → int32: 2-D, 1-D promotion, batches with one shared side; b_zero_point per tensor or per column.</summary>
        [Lowers("MatMulInteger")]
        public static StepLowering MatMulInteger(StepInfo s)
        {
            s.AllowOnly();
            var g = MatMulShape(s, 0, 1, PlanTypes.Int32);
            if (s.HasInput(2) && Count(s, 2) != 1) throw s.Unsupported("a_zero_point per row (only per tensor)");
            long bZeros = s.HasInput(3) ? PerColumn(s, 3, g.N, "b_zero_point") : 1;
            return Scratch(s, g.Lowering, g.ScratchFloats, scratch =>
                $"{R}QGemm.Integer<{s.StructName}, {StepLowering.Simd}>({Input(s, 0, g.AElements)}, {Input(s, 1, g.BElements)}, {OptionalBytes(s, 2, 1, s.InputType(0))}, " +
                $"{OptionalBytes(s, 3, bZeros, s.InputType(1))}, {s.NnOutput(0, g.YElements, PlanTypes.Int32)}, {scratch});");
        }

        /// <summary>
        /// ONNX Runtime's QGemm (com.microsoft): Y = alpha·(A - a_zp)(B - b_zp)·a_scale·b_scale + C, C an
        /// int32 bias at scale a_scale·b_scale; 8-bit Y requantized by y_scale, y_zero_point, or float Y
        /// when y_scale is absent. transA/transB; b per tensor or per column.
        /// </summary>
        [Lowers("QGemm")]
        public static StepLowering QGemm(StepInfo s)
        {
            s.AllowOnly("alpha", "transA", "transB", "domain");
            var a = s.InShape(0);
            var b = s.InShape(3);
            var y = s.OutShape(0);
            if (a.Length != 2 || b.Length != 2 || y.Length != 2) throw s.Unsupported($"A {Lit.Shape(a)}, B {Lit.Shape(b)} and Y {Lit.Shape(y)} must be 2-D");
            bool ta = s.Int("transA", 0) != 0, tb = s.Int("transB", 0) != 0;
            int m = ta ? a[1] : a[0], k = ta ? a[0] : a[1], n = tb ? b[0] : b[1];
            if ((tb ? b[1] : b[0]) != k || y[0] != m || y[1] != n) throw s.Unsupported($"shapes A {Lit.Shape(a)}, B {Lit.Shape(b)}, Y {Lit.Shape(y)} do not agree");
            RequireSingle(s, 1, "a_scale");
            long bScales = PerColumn(s, 4, n, "b_scale");
            int cRow = 0, cCol = 0;
            string c = "default";
            if (s.HasInput(6))
            {
                var cs = s.InShape(6);
                int rows = cs.Length >= 2 ? cs[cs.Length - 2] : 1, cols = cs.Length >= 1 ? cs[cs.Length - 1] : 1;
                if (cs.Length > 2 || (rows != 1 && rows != m) || (cols != 1 && cols != n)) throw s.Unsupported($"C {Lit.Shape(cs)} does not broadcast to [{m},{n}]");
                (cRow, cCol) = (rows == 1 ? 0 : cols, cols == 1 ? 0 : 1);
                c = s.NnInput(6, Lit.Product(cs), PlanTypes.Int32);
            }
            bool quantized = s.HasInput(7);
            string yType = s.NnOutputType(0);
            if (quantized) RequireEightBit(s, yType, "y");
            else if (yType != PlanTypes.Float) throw s.Unsupported($"Y is {yType} without y_scale (float expected)");
            var lowering = GemmMembers(new StepLowering($"QGemm {Lit.Shape(a)} x {Lit.Shape(b)}{(ta ? " (A transposed)" : "")}{(tb ? " (B transposed)" : "")} -> {Lit.Shape(y)} {yType}"),
                m, n, k, ta, tb, s.InputType(0), s.InputType(3), yType, s.Float("alpha", 1f), c != "default", cRow, cCol, 1, 0, 0);
            long scratchFloats = KernelScratch.QGemmFloats(m, n, k, tb);
            string aZero = OptionalBytes(s, 2, 1, s.InputType(0)), bZero = OptionalBytes(s, 5, Zeros(s, 5, n, "b_zero_point"), s.InputType(3));
            string a8 = Input(s, 0, (long)m * k), b8 = Input(s, 3, (long)k * n);
            if (quantized && FixedRequantization(s, lowering, 1, 4, bScales, 7, 8, s.Float("alpha", 1f)) is { } fixedPoint)
                return Scratch(s, lowering, scratchFloats, scratch =>
                    $"{R}QGemm.Linear<{s.StructName}, {StepLowering.Simd}>({a8}, {aZero}, {b8}, {bZero}, {c}, {fixedPoint}, {Bytes(s.NnOutput(0, (long)m * n, yType), yType)}, {scratch});");
            string prefix = $"{a8}, {s.FloatInput(1, 1)}, {aZero}, {b8}, {s.FloatInput(4, bScales)}, {bZero}, {c}";
            return Scratch(s, lowering, scratchFloats, scratch => quantized
                ? $"{R}QGemm.Linear<{s.StructName}, {StepLowering.Simd}>({prefix}, {s.FloatInput(7, 1)}, {OptionalBytes(s, 8, 1, yType)}, {Bytes(s.NnOutput(0, (long)m * n, yType), yType)}, {scratch});"
                : $"{R}QGemm.Float<{s.StructName}, {StepLowering.Simd}>({prefix}, {s.FloatOutput(0, (long)m * n)}, {scratch});");
        }

        /// <summary>
        /// MaxPool 2x2 / stride 2 without padding on uint8/int8 (what int8 LeNet-style models pool with)
        /// → <c>QPool.Max2x2</c>; null for any other MaxPool (PoolOps' kernels take those).
        /// </summary>
        public static StepLowering? MaxPool2x2(StepInfo s)
        {
            string type = s.InputType(0);
            if (type is not (PlanTypes.UInt8 or PlanTypes.Int8) || s.HasOutput(1) || s.Int("storage_order", 0) != 0) return null;
            var x = s.InShape(0);
            var y = s.OutShape(0);
            if (x.Length != 4 || y.Length != 4 || y[0] != x[0] || y[1] != x[1] || s.NnOutputType(0) != type) return null;
            var g = NnWindow.Resolve(s, new[] { x[2], x[3] }, new[] { y[2], y[3] }, null, s.Int("ceil_mode", 0) != 0);
            bool plain = g.Kernel[1] == 2 && g.Kernel[2] == 2 && g.Stride[1] == 2 && g.Stride[2] == 2 && g.Dilation[1] == 1 && g.Dilation[2] == 1
                && g.PadBegin.All(p => p == 0) && g.PadEnd.All(p => p == 0) && y[2] == x[2] / 2 && y[3] == x[3] / 2;
            if (!plain) return null;
            return new StepLowering($"MaxPool {type} {Lit.Shape(x)} -> {Lit.Shape(y)}, window 2x2, stride 2x2")
                .Shape("IQPoolShape")
                .Int("Planes", (long)x[0] * x[1]).Int("InHeight", x[2]).Int("InWidth", x[3]).Int("OutHeight", y[2]).Int("OutWidth", y[3]).Bool("Signed", type == PlanTypes.Int8)
                .Call($"{R}QPool.Max2x2<{s.StructName}, {StepLowering.Simd}>({Input(s, 0, Lit.Product(x))}, {Bytes(s.NnOutput(0, Lit.Product(y), type), type)});");
        }

        // ---- shared ----

        /// <summary>
        /// When the scales and the output zero point are plan constants: the fixed-point multiplier and
        /// shift of alpha·scale[in]·scale[channel]/scale[out] per channel, emitted as <c>Multipliers</c>,
        /// <c>Shifts</c> and <c>YZero</c> of the shape struct, and the <c>Requantization</c> argument over
        /// them; null otherwise (the kernel then converts the run-time scales the same way).
        /// </summary>
        private static string? FixedRequantization(StepInfo s, StepLowering lowering, int inScale, int channelScales, long channels, int outScale, int outZero, float alpha)
        {
            float[]? x = FloatValue(s, inScale), w = FloatValue(s, channelScales), y = FloatValue(s, outScale);
            long[]? zero = s.HasInput(outZero) ? s.NnIntValue(outZero) : new long[] { 0 };
            if (x is not { Length: 1 } || w is null || w.Length != channels || y is not { Length: 1 } || zero is not { Length: 1 }) return null;
            // alpha·in_scale in float32 first, as the run-time path forms it.
            float input = (float)(alpha * x[0]);
            var multipliers = new int[channels];
            var shifts = new int[channels];
            for (int c = 0; c < channels; c++) FixedPoint.Of(FixedPoint.Multiplier(input, w[c], y[0]), out multipliers[c], out shifts[c]);
            lowering.Members.Add(new ShapeMember("global::System.ReadOnlySpan<int>", "Multipliers", IntArray(multipliers)));
            lowering.Members.Add(new ShapeMember("global::System.ReadOnlySpan<int>", "Shifts", IntArray(shifts)));
            lowering.Int("YZero", zero[0]);
            return $"{R}Requantization.Fixed({s.StructName}.Multipliers, {s.StructName}.Shifts, {s.StructName}.YZero)";
        }

        /// <summary>The inlined value of a float constant input, or null.</summary>
        private static float[]? FloatValue(StepInfo s, int i) => s.HasInput(i) && s.InputType(i) == PlanTypes.Float ? s.NnFloatValue(i) : null;

        /// <summary><c>new int[] { … }</c>: a <c>ReadOnlySpan&lt;int&gt;</c> property over it reads static data (no allocation).</summary>
        private static string IntArray(int[] values) => "new int[] { " + string.Join(", ", values.Select(v => Lit.Int(v))) + " }";

        private sealed class ConvGeometry
        {
            public int M;
            public long XElements, WElements, YElements, ScratchFloats;
        }

        /// <summary>The shape struct of QLinearConv / ConvInteger (1-D as height 1).</summary>
        private static (StepLowering Lowering, ConvGeometry Geometry) ConvShape(StepInfo s, int x, int w, int xZero, int wZero, string yType)
        {
            s.AllowOnly("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
            string xType = s.InputType(x), wType = s.InputType(w);
            RequireEightBit(s, xType, "x");
            RequireEightBit(s, wType, "w");
            var xs = s.InShape(x);
            var ws = s.InShape(w);
            var ys = s.OutShape(0);
            if (xs.Length is not (3 or 4) || ws.Length != xs.Length || ys.Length != xs.Length)
                throw s.Unsupported($"input {Lit.Shape(xs)}, weights {Lit.Shape(ws)}, output {Lit.Shape(ys)}: 1-D and 2-D convolutions are supported");
            int group = (int)s.Int("group", 1);
            int n = xs[0], c = xs[1], m = ws[0];
            if (group < 1 || c % group != 0 || m % group != 0 || ws[1] != c / group || ys[1] != m || ys[0] != n)
                throw s.Unsupported($"input {Lit.Shape(xs)}, weights {Lit.Shape(ws)}, output {Lit.Shape(ys)} and group {group} do not agree");
            if (n != 1) throw s.Unsupported($"a batch of {n} per sample");
            RequireSingle(s, xZero, "x_zero_point");
            var g = NnWindow.Resolve(s, xs.Skip(2).ToArray(), ys.Skip(2).ToArray(), ws.Skip(2).ToArray(), ceilMode: false);
            int h = g.In[1], wd = g.In[2], oh = g.Out[1], ow = g.Out[2], kh = g.Kernel[1], kw = g.Kernel[2];
            var geometry = new ConvGeometry
            {
                M = m,
                XElements = Lit.Product(xs),
                WElements = Lit.Product(ws),
                YElements = Lit.Product(ys),
                ScratchFloats = KernelScratch.QConvFloats(c, m, group, oh, ow, kh, kw, g.Stride[1], g.Stride[2], g.Dilation[1], g.Dilation[2]),
            };
            string kind = group == 1 ? "" : group == c && m == c ? " depthwise" : $" group {group}";
            var lowering = new StepLowering($"{s.Step.Op}{kind} {Lit.Shape(xs)} {xType} -> {Lit.Shape(ys)} {yType}, kernel {g.Text(g.Kernel)}, stride {g.Text(g.Stride)}, pads {g.PadsText}, weights {wType}")
                .Shape("IQConvShape")
                .Int("InChannels", c).Int("InHeight", h).Int("InWidth", wd)
                .Int("OutChannels", m).Int("OutHeight", oh).Int("OutWidth", ow)
                .Int("KernelHeight", kh).Int("KernelWidth", kw)
                .Int("StrideHeight", g.Stride[1]).Int("StrideWidth", g.Stride[2])
                .Int("DilationHeight", g.Dilation[1]).Int("DilationWidth", g.Dilation[2])
                .Int("PadTop", g.PadBegin[1]).Int("PadLeft", g.PadBegin[2])
                .Int("Groups", group)
                .Bool("XSigned", xType == PlanTypes.Int8).Bool("WSigned", wType == PlanTypes.Int8).Bool("YSigned", yType == PlanTypes.Int8);
            return (lowering, geometry);
        }

        private sealed class MatMulGeometry
        {
            public StepLowering Lowering = null!;
            public int N;
            public long AElements, BElements, YElements, ScratchFloats;
        }

        /// <summary>numpy matmul of inputs <paramref name="ai"/> and <paramref name="bi"/>: batches equal or one side shared.</summary>
        private static MatMulGeometry MatMulShape(StepInfo s, int ai, int bi, string yType)
        {
            string aType = s.InputType(ai), bType = s.InputType(bi);
            RequireEightBit(s, aType, "A");
            RequireEightBit(s, bType, "B");
            var mm = MatMulOperands.Of(s, ai, bi);
            if (!mm.OneSideShared) throw s.Unsupported($"batch dims of A {Lit.Shape(mm.A)} and B {Lit.Shape(mm.B)} broadcast both ways");
            mm.RequireOutput(s);
            int m = mm.M, n = mm.N, k = mm.K;
            long pa = mm.Pa, pb = mm.Pb, batch = mm.Batch;
            var lowering = GemmMembers(new StepLowering($"{s.Step.Op} {Lit.Shape(mm.A)} {aType} x {Lit.Shape(mm.B)} {bType} -> {Lit.Shape(s.OutShape(0))} {yType}"),
                m, n, k, false, false, aType, bType, yType, 1f, false, 0, 0, batch, pa == 1 ? 0 : (long)m * k, pb == 1 ? 0 : (long)k * n);
            return new MatMulGeometry
            {
                Lowering = lowering,
                N = n,
                AElements = pa * m * k,
                BElements = pb * k * n,
                YElements = batch * m * n,
                ScratchFloats = KernelScratch.QGemmFloats(m, n, k, transB: false),
            };
        }

        private static StepLowering GemmMembers(StepLowering l, int m, int n, int k, bool ta, bool tb, string aType, string bType, string yType,
            float alpha, bool hasC, int cRow, int cCol, long batch, long aStride, long bStride) =>
            l.Shape("IQGemmShape")
                .Int("M", m).Int("N", n).Int("K", k).Bool("TransA", ta).Bool("TransB", tb)
                .Bool("ASigned", aType == PlanTypes.Int8).Bool("BSigned", bType == PlanTypes.Int8).Bool("YSigned", yType == PlanTypes.Int8)
                .Float("Alpha", alpha).Bool("HasC", hasC).Int("CRowStride", cRow).Int("CColStride", cCol)
                .Int("Batch", batch).Int("AStride", aStride).Int("BStride", bStride);

        /// <summary>Adds the call with the step's scratch (planned in the arena, or after it for plans without one).</summary>
        private static StepLowering Scratch(StepInfo s, StepLowering lowering, long floats, System.Func<string, string> call) =>
            lowering.Call(call(s.NnScratch(lowering, floats)));

        /// <summary>(outer, channels, inner) of a QuantizeLinear/DequantizeLinear scale on input <paramref name="scale"/>.</summary>
        private static (long Outer, long Channels, long Inner) Axis(StepInfo s, int[] x, int scale)
        {
            long count = Count(s, scale);
            long n = Lit.Product(x);
            if (count == 1) return (1, 1, n);
            long axis = s.Int("axis", 1);
            if (axis < 0) axis += x.Length;
            if (axis < 0 || axis >= x.Length || x[axis] != count) throw s.Unsupported($"{count} scales do not match axis {s.Int("axis", 1)} of {Lit.Shape(x)}");
            if (axis == 0 && s.NnBatched) throw s.Unsupported("scales along the batch axis");
            return (Lit.Product(x.Take((int)axis)), count, Lit.Product(x.Skip((int)axis + 1)));
        }

        /// <summary>Values of an optional per-tensor or per-channel zero point (independent of its scale's count, as the engine reads it).</summary>
        private static long Zeros(StepInfo s, int i, int channels, string name)
        {
            if (!s.HasInput(i)) return 1;
            long count = Count(s, i);
            if (count != 1 && count != channels) throw s.Unsupported($"{name} with {count} values (one, or one per channel of {channels})");
            return count;
        }

        private static string PerAxis(long channels) => channels == 1 ? "" : $", {channels} scales";

        /// <summary>Elements of input <paramref name="i"/>.</summary>
        private static long Count(StepInfo s, int i) => Lit.Product(s.InShape(i));

        private static void RequireSingle(StepInfo s, int i, string name)
        {
            if (s.HasInput(i) && Count(s, i) != 1) throw s.Unsupported($"{name} with {Count(s, i)} values (only per tensor)");
        }

        /// <summary>Values of a per-tensor or per-column parameter (1 or <paramref name="n"/>).</summary>
        private static long PerColumn(StepInfo s, int i, int n, string name)
        {
            long count = Count(s, i);
            if (count != 1 && count != n) throw s.Unsupported($"{name} with {count} values (one, or one per column of {n})");
            return count;
        }

        // RequireFloat would also demand float outputs.
        private static void RequireFloatInput(StepInfo s)
        {
            if (s.InputType(0) != PlanTypes.Float) throw s.Unsupported($"input 0 is {s.InputType(0)} (float expected)");
        }

        private static void RequireEightBit(StepInfo s, string type, string what)
        {
            if (type is not (PlanTypes.UInt8 or PlanTypes.Int8)) throw s.Unsupported($"{what} is {type} (uint8 or int8 expected)");
        }

        /// <summary>A <c>ReadOnlySpan&lt;byte&gt;</c> of an 8-bit input.</summary>
        private static string Input(StepInfo s, int i, long elements)
        {
            string type = s.InputType(i);
            RequireEightBit(s, type, $"input {i}");
            // A constant's bytes are its values whatever their signedness: slice the blob directly.
            if (s.ConstantInput(i) is { } c && c.Storage == type && c.Bytes >= elements) return "__w.Slice(" + Lit.Int(c.Offset) + ", " + Lit.Int(elements) + ")";
            return Bytes(s.NnInput(i, elements, type), type);
        }

        /// <summary>An optional 8-bit input (a zero point) of the given type, or <c>default</c> (zero).</summary>
        private static string OptionalBytes(StepInfo s, int i, long elements, string type)
        {
            if (!s.HasInput(i)) return "default";
            if (s.InputType(i) != type) throw s.Unsupported($"input {i} is {s.InputType(i)}; its tensor is {type}");
            return Input(s, i, elements);
        }

        /// <summary>Int8 spans are passed as bytes; the kernels know the signedness from the shape struct.</summary>
        private static string Bytes(string span, string type) => type == PlanTypes.Int8 ? AsBytes + "(" + span + ")" : span;
    }
}
