using System;
using System.Globalization;
using System.Linq;

namespace CompressBuild.Plan
{
    /// <summary>
    /// Scratch memory the generated kernels need per step, so the planner can place it in the arena
    /// (where it overlaps buffers that are dead during the step) and the class's ArenaBytes is the
    /// true peak. The runtime kernels check the size they are given at every call.
    /// </summary>
    public static class KernelScratch
    {
        /// <summary>Zeroed floats after each staging area of the runtime's Conv.</summary>
        public const int ConvSlack = 64;

        /// <summary>Output channels the runtime's Conv computes together.</summary>
        public const int ConvChannelBlock = 4;

        /// <summary>The step attribute naming the step's scratch buffer.</summary>
        public const string Attribute = "_scratch";

        /// <summary>Floats of scratch a step needs (0 for steps that need none).</summary>
        public static long Floats(string op, int[] input, int[] weights, int[] output, long[]? strides, long[]? dilations, long group)
        {
            if (op != "Conv" || input.Length != 4 || weights.Length != 4 || output.Length != 4) return 0;
            return ConvFloats(input[1], output[1], (int)group, output[2], output[3], weights[2], weights[3],
                (int)(strides?[0] ?? 1), (int)(strides?[1] ?? 1), (int)(dilations?[0] ?? 1), (int)(dilations?[1] ?? 1));
        }

        /// <summary>
        /// The runtime Conv's scratch: the zero-padded input staged by stride phase, the output staged
        /// at a vector-friendly pitch, and a panel of packed weights for one channel block.
        /// </summary>
        public static long ConvFloats(int c, int m, int group, int oh, int ow, int kh, int kw, int sh, int sw, int dh, int dw)
        {
            long hp = (long)(oh - 1) * sh + (long)(kh - 1) * dh + 1;
            long wp = (long)(ow - 1) * sw + (long)(kw - 1) * dw + 1;
            long wq = (wp + sw - 1) / sw;
            long rowLength = sw * wq;
            bool flat = sh == 1 && sw == 1;
            long outPitch = flat ? rowLength : (ow + ConvSlack - 1) / ConvSlack * ConvSlack;
            long inStaging = c * hp * rowLength + ConvSlack;
            long outPlane = oh * outPitch + ConvSlack;
            return inStaging + m * outPlane + (long)ConvChannelBlock * (c / group) * kh * kw;
        }

        /// <summary>Parses a plan shape attribute entry ("1,6,28,28").</summary>
        public static int[] ParseShape(string text) =>
            text.Length == 0 ? Array.Empty<int>() : text.Split(',').Select(d => int.Parse(d, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray();
    }
}
