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
            // 1-D Conv runs the 2-D kernel with height 1.
            if (op == "Conv" && input.Length == 3 && weights.Length == 3 && output.Length == 3)
                return ConvFloats(input[1], output[1], (int)group, 1, output[2], 1, weights[2], 1, (int)(strides?[0] ?? 1), 1, (int)(dilations?[0] ?? 1));
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

        /// <summary>
        /// Scratch of the other neural-network kernels (0 for ops that need none): LSTM/GRU
        /// (<paramref name="inputs"/> X, W, R; <paramref name="batchFirst"/> for layout 1) and Resize
        /// (X and Y of plan element type <paramref name="elementType"/>, interpolation <paramref name="mode"/>).
        /// </summary>
        public static long NnFloats(string op, int[][] inputs, int[][] outputs, string elementType, bool batchFirst, string mode)
        {
            switch (op)
            {
                case "LSTM":
                case "GRU":
                    if (inputs.Length < 3 || inputs[0].Length != 3 || inputs[2].Length != 3) return 0;
                    int seq = batchFirst ? inputs[0][1] : inputs[0][0], batch = batchFirst ? inputs[0][0] : inputs[0][1];
                    return RecurrentFloats(seq, batch, inputs[2][2], op == "LSTM" ? 4 : 3);
                case "Resize":
                    if (inputs.Length < 1 || outputs.Length < 1) return 0;
                    return ResizeFloats(inputs[0], outputs[0], elementType, mode);
                default:
                    return 0;
            }
        }

        /// <summary>
        /// The runtime's LSTM/GRU scratch: gate pre-activations of every step of one direction, one
        /// step's recurrent product, the bias row, and the H, C and temporary rows.
        /// </summary>
        public static long RecurrentFloats(int seq, int batch, int hidden, int gates) =>
            ((long)seq * batch + batch + 1) * gates * hidden + 3L * batch * hidden;

        /// <summary>
        /// The runtime's Resize scratch: the intermediates between its per-axis passes (at most two
        /// live at once, each no larger than the larger of X and Y), in floats, none for one resized
        /// axis; linear and cubic resizing of types other than float and double also converts X and Y
        /// to float there (X, then the intermediates, then Y).
        /// </summary>
        public static long ResizeFloats(int[] input, int[] output, string elementType, string mode)
        {
            int resized = 0;
            for (int i = 0; i < input.Length && i < output.Length; i++)
                if (input[i] != output[i]) resized++;
            long inSize = input.Aggregate(1L, (a, d) => a * d), outSize = output.Aggregate(1L, (a, d) => a * d);
            bool convert = mode != "nearest" && elementType != PlanTypes.Float && elementType != PlanTypes.Double;
            int bytes = convert ? 4 : PlanTypes.Size(elementType);
            long intermediates = resized < 2 ? 0 : (resized > 2 ? 2 : 1) * ((Math.Max(inSize, outSize) * bytes + 3) / 4);
            return convert ? inSize + intermediates + outSize : intermediates;
        }

        /// <summary>Parses a plan shape attribute entry ("1,6,28,28").</summary>
        public static int[] ParseShape(string text) =>
            text.Length == 0 ? Array.Empty<int>() : text.Split(',').Select(d => int.Parse(d, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray();
    }
}
