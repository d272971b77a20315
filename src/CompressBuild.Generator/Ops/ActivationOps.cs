using System.Linq;

namespace CompressBuild.Generator.Ops
{
    /// <summary>Stand-alone Relu and Softmax → <c>CompressBuild.Runtime.Activations</c>.</summary>
    internal static class ActivationOps
    {
        private const string R = StepLowering.Runtime;

        /// <summary>Relu not fused into a layer (e.g. applied to a graph input): every type it accepts, in <see cref="UnaryOps.ReluStep"/>.</summary>
        [Lowers("Relu")]
        public static StepLowering Relu(StepInfo s) => UnaryOps.ReluStep(s);

        /// <summary>Softmax: opset ≥ 13 normalizes along one axis (default -1); earlier opsets coerce to 2-D at axis (default 1).</summary>
        [Lowers("Softmax")]
        public static StepLowering Softmax(StepInfo s)
        {
            s.AllowOnly("axis");
            s.RequireFloat(0);
            var x = s.InShape(0);
            int rank = x.Length;
            bool modern = s.Opset >= 13;
            long axis = s.Int("axis", modern ? -1 : 1);
            if (axis < 0) axis += rank;
            if (rank == 0 || axis < 0 || axis >= rank) throw s.Unsupported($"axis {s.Int("axis", 0)} for input {Lit.Shape(x)}");
            if (axis == 0 && s.Plan.Inputs.Any(i => i.Batched))
                throw s.Unsupported("Softmax along axis 0, the batch axis (predictors run one sample at a time)");
            long outer = Lit.Product(x.Take((int)axis));
            long length = modern ? x[axis] : Lit.Product(x.Skip((int)axis));
            long inner = modern ? Lit.Product(x.Skip((int)axis + 1)) : 1;
            long n = Lit.Product(x);
            return new StepLowering($"Softmax {Lit.Shape(x)} axis {axis}{(modern ? "" : " (coerced to 2-D, opset < 13)")}")
                .Shape("ISoftmaxShape")
                .Int("Outer", outer).Int("Length", length).Int("Inner", inner)
                .Call($"{R}Activations.Softmax<{s.StructName}, {StepLowering.Simd}>({s.FloatInput(0, n)}, {s.FloatOutput(0, n)});");
        }
    }
}
