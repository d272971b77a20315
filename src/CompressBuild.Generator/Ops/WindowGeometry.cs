using System.Globalization;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// The 2-D window attributes shared by Conv, MaxPool and AveragePool (kernel_shape, strides,
    /// dilations, pads, auto_pad), resolved against the step's input and output shapes.
    /// </summary>
    internal sealed class WindowGeometry
    {
        public int KernelH, KernelW, StrideH = 1, StrideW = 1, DilationH = 1, DilationW = 1;
        public int PadTop, PadLeft, PadBottom, PadRight;

        /// <summary>Reads the attributes for NCHW input <paramref name="x"/> and output <paramref name="y"/>.</summary>
        public static WindowGeometry Read(StepInfo s, int[] x, int[] y, int[]? kernelFromWeights, bool ceilMode)
        {
            var g = new WindowGeometry();
            var k = s.Ints("kernel_shape");
            if (k is null)
            {
                if (kernelFromWeights is null) throw s.Unsupported("kernel_shape is missing");
                g.KernelH = kernelFromWeights[0];
                g.KernelW = kernelFromWeights[1];
            }
            else
            {
                if (k.Length != 2) throw s.Unsupported($"kernel_shape has {k.Length} axes; only 2-D windows are supported");
                g.KernelH = (int)k[0];
                g.KernelW = (int)k[1];
            }
            var strides = s.Ints("strides");
            if (strides is not null)
            {
                if (strides.Length != 2) throw s.Unsupported("strides must have 2 values");
                g.StrideH = (int)strides[0];
                g.StrideW = (int)strides[1];
            }
            var dilations = s.Ints("dilations");
            if (dilations is not null)
            {
                if (dilations.Length != 2) throw s.Unsupported("dilations must have 2 values");
                g.DilationH = (int)dilations[0];
                g.DilationW = (int)dilations[1];
            }
            if (g.KernelH < 1 || g.KernelW < 1 || g.StrideH < 1 || g.StrideW < 1 || g.DilationH < 1 || g.DilationW < 1)
                throw s.Unsupported("kernel_shape, strides and dilations must be positive");
            string autoPad = s.String("auto_pad", "NOTSET");
            switch (autoPad)
            {
                case "NOTSET":
                case "":
                    var pads = s.Ints("pads");
                    if (pads is not null)
                    {
                        if (pads.Length != 4) throw s.Unsupported("pads must have 4 values (top, left, bottom, right)");
                        g.PadTop = (int)pads[0];
                        g.PadLeft = (int)pads[1];
                        g.PadBottom = (int)pads[2];
                        g.PadRight = (int)pads[3];
                    }
                    break;
                case "VALID":
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER":
                    bool upper = autoPad == "SAME_UPPER";
                    (g.PadTop, g.PadBottom) = Same(y[2], x[2], g.StrideH, g.KernelH, g.DilationH, upper);
                    (g.PadLeft, g.PadRight) = Same(y[3], x[3], g.StrideW, g.KernelW, g.DilationW, upper);
                    break;
                default:
                    throw s.Unsupported($"auto_pad '{autoPad}'");
            }
            if (g.PadTop < 0 || g.PadLeft < 0 || g.PadBottom < 0 || g.PadRight < 0) throw s.Unsupported("negative pads");
            int oh = OutSize(x[2], g.PadTop, g.PadBottom, g.KernelH, g.StrideH, g.DilationH, ceilMode);
            int ow = OutSize(x[3], g.PadLeft, g.PadRight, g.KernelW, g.StrideW, g.DilationW, ceilMode);
            if (!ceilMode && autoPad is "NOTSET" or "" or "VALID" && (oh != y[2] || ow != y[3]))
                throw s.Unsupported(string.Format(CultureInfo.InvariantCulture,
                    "output {0}x{1} does not follow from input {2}x{3} and the window attributes ({4}x{5})", y[2], y[3], x[2], x[3], oh, ow));
            if (y[2] < 1 || y[3] < 1) throw s.Unsupported("empty output");
            return g;
        }

        private static (int Begin, int End) Same(int output, int input, int stride, int kernel, int dilation, bool upper)
        {
            int total = System.Math.Max(0, (output - 1) * stride + (kernel - 1) * dilation + 1 - input);
            int small = total / 2;
            return upper ? (small, total - small) : (total - small, small);
        }

        private static int OutSize(int input, int padBegin, int padEnd, int kernel, int stride, int dilation, bool ceil)
        {
            int span = input + padBegin + padEnd - ((kernel - 1) * dilation + 1);
            if (span < 0) return 0;
            int o = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
            // Ceil mode: the last window must start inside the input or its begin padding.
            if (ceil && (o - 1) * stride >= input + padBegin) o--;
            return o;
        }
    }
}
