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
            if (op is "QLinearConv" or "ConvInteger")
                return QuantizedFloats(op, op == "QLinearConv" ? new[] { input, Array.Empty<int>(), Array.Empty<int>(), weights } : new[] { input, weights }, output, strides, dilations, group, transB: false);
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

        /// <summary>
        /// Scratch of the integer kernels (0 for other ops): QLinearConv and ConvInteger (input 0 x,
        /// weights at input 3 or 1, <paramref name="strides"/>, <paramref name="dilations"/>,
        /// <paramref name="group"/>), QGemm (<paramref name="transB"/>), QLinearMatMul and MatMulInteger.
        /// Shapes are per sample.
        /// </summary>
        public static long QuantizedFloats(string op, int[][] inputs, int[] output, long[]? strides, long[]? dilations, long group, bool transB)
        {
            switch (op)
            {
                case "QLinearConv":
                case "ConvInteger":
                {
                    int[] x = inputs[0], w = inputs[op == "QLinearConv" ? 3 : 1];
                    if (x.Length is not (3 or 4) || w.Length != x.Length || output.Length != x.Length) return 0;
                    bool twoD = x.Length == 4;
                    int last = x.Length - 3;
                    return QConvFloats(x[1], output[1], (int)group, twoD ? output[2] : 1, output[x.Length - 1], twoD ? w[2] : 1, w[w.Length - 1],
                        twoD ? (int)(strides?[0] ?? 1) : 1, (int)(strides?[last] ?? 1), twoD ? (int)(dilations?[0] ?? 1) : 1, (int)(dilations?[last] ?? 1));
                }
                case "QGemm":
                {
                    int[] b = inputs[3];
                    if (b.Length != 2 || output.Length != 2) return 0;
                    return QGemmFloats(output[0], output[1], transB ? b[1] : b[0], transB);
                }
                case "QLinearMatMul":
                case "MatMulInteger":
                {
                    int[] a = inputs[0], b = inputs[op == "QLinearMatMul" ? 3 : 1];
                    if (a.Length == 0 || b.Length == 0) return 0;
                    int m = a.Length == 1 ? 1 : a[a.Length - 2], n = b.Length == 1 ? 1 : b[b.Length - 1];
                    return QGemmFloats(m, n, a[a.Length - 1], transB: false);
                }
                default:
                    return 0;
            }
        }

        /// <summary>
        /// The runtime QConv's scratch (int32 elements, counted as floats). Stride 1 and dilation 1: the
        /// input as int16 planes of pitch OW + KW - 1, the paired planes, the paired weights and four
        /// channels of accumulators; otherwise one output row. Mirrors QConv.ScratchInts.
        /// </summary>
        public static long QConvFloats(int c, int m, int group, int oh, int ow, int kh, int kw, int sh, int sw, int dh, int dw)
        {
            if (sh != 1 || sw != 1 || dh != 1 || dw != 1) return ow;
            int cg = c / group;
            long wp = ow + kw - 1;
            long q = (oh * wp + 15) / 16 * 16;
            bool channelPairs = cg % 2 == 0;
            long taps = channelPairs ? kw : (kw + 1) / 2;
            long pairPlanes = channelPairs ? cg / 2 : cg;
            long planeStride = q + (kh - 1) * wp + kw + 1;
            return (planeStride / 2 + 1) * c + pairPlanes * group * planeStride + m * pairPlanes * kh * taps + 4 * q;
        }

        /// <summary>The runtime QGemm's scratch: A's rows as int16 padded to 16, and B's transposed rows when B is [K,N]. Mirrors QGemm.ScratchInts.</summary>
        public static long QGemmFloats(int m, int n, int k, bool transB)
        {
            long kp = (k + 15) / 16 * 16;
            return (m + (transB ? 0 : n)) * kp / 2;
        }

        /// <summary>Parses a plan shape attribute entry ("1,6,28,28").</summary>
        public static int[] ParseShape(string text) =>
            text.Length == 0 ? Array.Empty<int>() : text.Split(',').Select(d => int.Parse(d, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray();
    }
}
