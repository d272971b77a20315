using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>
    /// Element-wise functions and activations → <c>CompressBuild.Runtime.Activations</c>: Exp, Log,
    /// Sqrt, Reciprocal, Sigmoid, Tanh, Softplus, Erf, Elu, Selu, LeakyRelu, HardSigmoid, HardSwish
    /// (float types; Erf also integers), Abs, Neg, Relu (exact on every numeric type they accept),
    /// Clip (attributes before opset 11, min/max inputs after); Cast → <c>Conversions</c>; Identity
    /// and inference Dropout as copies.
    /// </summary>
    internal static class UnaryOps
    {
        private const string R = StepLowering.Runtime;

        [Lowers("Exp")]
        public static StepLowering Exp(StepInfo s) => Float(s, "ExpFunction");

        [Lowers("Log")]
        public static StepLowering Log(StepInfo s) => Float(s, "LogFunction");

        [Lowers("Sqrt")]
        public static StepLowering Sqrt(StepInfo s) => Float(s, "SqrtFunction");

        [Lowers("Reciprocal")]
        public static StepLowering Reciprocal(StepInfo s) => Float(s, "ReciprocalFunction");

        [Lowers("Sigmoid")]
        public static StepLowering Sigmoid(StepInfo s) => Float(s, "SigmoidFunction");

        [Lowers("Tanh")]
        public static StepLowering Tanh(StepInfo s) => Float(s, "TanhFunction");

        [Lowers("Softplus")]
        public static StepLowering Softplus(StepInfo s) => Float(s, "SoftplusFunction");

        [Lowers("Erf")]
        public static StepLowering Erf(StepInfo s) => Float(s, "ErfFunction", integers: true);

        [Lowers("Elu")]
        public static StepLowering Elu(StepInfo s) => Float(s, "EluFunction", parameters: (s.Float("alpha", 1f), 0f, 0f), allowed: new[] { "alpha" });

        [Lowers("Selu")]
        public static StepLowering Selu(StepInfo s) =>
            Float(s, "SeluFunction", parameters: (s.Float("alpha", 1.67326319217681884765625f), 0f, s.Float("gamma", 1.05070102214813232421875f)), allowed: new[] { "alpha", "gamma" });

        [Lowers("LeakyRelu")]
        public static StepLowering LeakyRelu(StepInfo s) => Float(s, "LeakyReluFunction", parameters: (s.Float("alpha", 0.01f), 0f, 0f), allowed: new[] { "alpha" });

        [Lowers("HardSigmoid")]
        public static StepLowering HardSigmoid(StepInfo s) =>
            Float(s, "HardSigmoidFunction", parameters: (s.Float("alpha", 0.2f), s.Float("beta", 0.5f), 0f), allowed: new[] { "alpha", "beta" });

        [Lowers("HardSwish")]
        public static StepLowering HardSwish(StepInfo s) => Float(s, "HardSwishFunction");

        private static StepLowering Float(StepInfo s, string function, bool integers = false, (float Alpha, float Beta, float Gamma)? parameters = null, string[]? allowed = null)
        {
            s.AllowOnly((allowed ?? new string[0]).Concat(new[] { "consumed_inputs" }).ToArray());
            if (s.FusedRelu) throw s.Unsupported($"a fused Relu on {s.Step.Op}");
            string t = s.InputType(0);
            if (!ElementOperands.IsFloat(t) && !(integers && ElementOperands.IsNumeric(t))) throw s.Unsupported($"{s.Step.Op} on {t}");
            if (ElementOperands.OutputType(s, 0) != t) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the input's {t}");
            var x = s.InShape(0);
            long n = Lit.Product(x);
            string p = parameters is null ? "" : $" alpha={Lit.Float(parameters.Value.Alpha)}" + (s.Step.Op == "HardSigmoid" ? $" beta={Lit.Float(parameters.Value.Beta)}" : "") + (s.Step.Op == "Selu" ? $" gamma={Lit.Float(parameters.Value.Gamma)}" : "");
            var lowering = new StepLowering($"{s.Step.Op} {(t == PlanTypes.Float ? "" : t + " ")}{Lit.Shape(x)}{p}");
            string tp = R + "NoParams";
            if (parameters is { } v)
            {
                lowering.Shape("IUnaryParams").Float("Alpha", v.Alpha).Float("Beta", v.Beta).Float("Gamma", v.Gamma);
                tp = s.StructName;
            }
            return lowering.Call($"{R}Activations.Unary<{tp}, {R}{function}, {ElementOperands.CSharp(t)}, {StepLowering.Simd}>({ElementOperands.Input(s, 0, n)}, {ElementOperands.Output(s, 0, n)});");
        }

        [Lowers("Abs")]
        public static StepLowering Abs(StepInfo s) => Numeric(s, "AbsFunction", unsigned: true);

        [Lowers("Neg")]
        public static StepLowering Neg(StepInfo s) => Numeric(s, "NegFunction", unsigned: false);

        /// <summary>Relu not fused into a layer (lowered from <see cref="ActivationOps.Relu"/>): float types and signed integers.</summary>
        public static StepLowering ReluStep(StepInfo s)
        {
            string t = s.InputType(0);
            if (t != PlanTypes.Float) return Numeric(s, "ReluFunction", unsigned: false);
            s.AllowOnly("consumed_inputs");
            if (s.FusedRelu) throw s.Unsupported("a fused Relu on Relu");
            if (ElementOperands.OutputType(s, 0) != t) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the input's {t}");
            long n = Lit.Product(s.InShape(0));
            return new StepLowering($"Relu {Lit.Shape(s.InShape(0))}")
                .Call($"{R}Activations.Relu<{StepLowering.Simd}>({s.FloatInput(0, n)}, {s.FloatOutput(0, n)});");
        }

        private static StepLowering Numeric(StepInfo s, string function, bool unsigned)
        {
            s.AllowOnly("consumed_inputs");
            if (s.FusedRelu) throw s.Unsupported($"a fused Relu on {s.Step.Op}");
            string t = s.InputType(0);
            if (!ElementOperands.IsNumeric(t) || (!unsigned && ElementOperands.IsUnsigned(t))) throw s.Unsupported($"{s.Step.Op} on {t}");
            if (ElementOperands.OutputType(s, 0) != t) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the input's {t}");
            var x = s.InShape(0);
            long n = Lit.Product(x);
            return new StepLowering($"{s.Step.Op} {(t == PlanTypes.Float ? "" : t + " ")}{Lit.Shape(x)}")
                .Call($"{R}Activations.Numeric<{R}{function}, {ElementOperands.CSharp(t)}, {StepLowering.Simd}>({ElementOperands.Input(s, 0, n)}, {ElementOperands.Output(s, 0, n)});");
        }

        /// <summary>Clip: opsets 1–10 with min/max attributes (default the float range); 11+ with optional scalar min/max inputs of X's type.</summary>
        [Lowers("Clip")]
        public static StepLowering Clip(StepInfo s)
        {
            bool attributes = s.Opset < 11;
            if (attributes) s.AllowOnly("min", "max", "consumed_inputs");
            else s.AllowOnly();
            if (s.FusedRelu) throw s.Unsupported("a fused Relu on Clip");
            string t = s.InputType(0);
            if (!ElementOperands.IsNumeric(t)) throw s.Unsupported($"Clip on {t}");
            if (ElementOperands.OutputType(s, 0) != t) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the input's {t}");
            var x = s.InShape(0);
            long n = Lit.Product(x);
            bool hasMin = attributes || s.HasInput(1), hasMax = attributes || s.HasInput(2);
            string Bound(int i)
            {
                if (attributes || !s.HasInput(i)) return "default";
                if (s.InputType(i) != t) throw s.Unsupported($"{(i == 1 ? "min" : "max")} is {s.InputType(i)}, X is {t}");
                if (Lit.Product(s.InShape(i)) != 1) throw s.Unsupported($"{(i == 1 ? "min" : "max")} of shape {Lit.Shape(s.InShape(i))} is not a scalar");
                return ElementOperands.Input(s, i, 1);
            }
            float min = attributes ? s.Float("min", float.MinValue) : 0f, max = attributes ? s.Float("max", float.MaxValue) : 0f;
            string bounds = attributes ? $"[{Lit.Float(min)}, {Lit.Float(max)}]" : $"[{(hasMin ? "min" : "-")}, {(hasMax ? "max" : "-")}]";
            return new StepLowering($"Clip {(t == PlanTypes.Float ? "" : t + " ")}{Lit.Shape(x)} to {bounds}")
                .Shape("IClipShape").Bool("HasMin", hasMin).Bool("HasMax", hasMax).Float("Min", min).Float("Max", max)
                .Call($"{R}Activations.Clip<{s.StructName}, {ElementOperands.CSharp(t)}, {StepLowering.Simd}>({ElementOperands.Input(s, 0, n)}, {Bound(1)}, {Bound(2)}, {ElementOperands.Output(s, 0, n)});");
        }

        /// <summary>Cast between every numeric type and bool (the target type is the output buffer's).</summary>
        [Lowers("Cast")]
        public static StepLowering Cast(StepInfo s)
        {
            s.AllowOnly("to");
            if (s.FusedRelu) throw s.Unsupported("a fused Relu on Cast");
            string from = s.InputType(0), to = ElementOperands.OutputType(s, 0);
            var x = s.InShape(0);
            long n = Lit.Product(x);
            var lowering = new StepLowering($"Cast {from} -> {to} {Lit.Shape(x)}");
            if (from == to)
            {
                if (!ElementOperands.SameBuffer(s, 0, 0)) lowering.Call($"{ElementOperands.Input(s, 0, n)}.CopyTo({ElementOperands.Output(s, 0, n)});");
                return lowering;
            }
            return lowering.Call($"{R}Conversions.Convert<{ElementOperands.CSharp(from)}, {ElementOperands.CSharp(to)}>({ElementOperands.Input(s, 0, n)}, {ElementOperands.Output(s, 0, n)});");
        }

        /// <summary>Identity as a step (its input is a constant, or the planner kept it): a copy.</summary>
        [Lowers("Identity")]
        public static StepLowering Identity(StepInfo s)
        {
            s.AllowOnly();
            string t = s.InputType(0);
            if (ElementOperands.OutputType(s, 0) != t) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the input's {t}");
            long n = Lit.Product(s.InShape(0));
            var lowering = new StepLowering($"Identity {t} {Lit.Shape(s.InShape(0))}");
            if (!ElementOperands.SameBuffer(s, 0, 0)) lowering.Call($"{ElementOperands.Input(s, 0, n)}.CopyTo({ElementOperands.Output(s, 0, n)});");
            return lowering;
        }

        /// <summary>
        /// Dropout as a step (its mask is used): y = x and the mask all kept (true, or 1 of X's type
        /// before opset 10). A training_mode input (opset 12+) is checked at run time: training with a
        /// nonzero ratio draws a random mask, which predictors do not reproduce, and throws.
        /// </summary>
        [Lowers("Dropout")]
        public static StepLowering Dropout(StepInfo s)
        {
            s.AllowOnly("ratio", "seed", "is_test", "consumed_inputs");
            if (s.FusedRelu) throw s.Unsupported("a fused Relu on Dropout");
            string t = s.InputType(0);
            if (!ElementOperands.IsFloat(t)) throw s.Unsupported($"Dropout on {t}");
            if (ElementOperands.OutputType(s, 0) != t) throw s.Unsupported($"output type {ElementOperands.OutputType(s, 0)} differs from the input's {t}");
            long n = Lit.Product(s.InShape(0));
            var lowering = new StepLowering($"Dropout {t} {Lit.Shape(s.InShape(0))} (inference: copy{(s.HasOutput(1) ? ", mask all kept" : "")})");
            if (s.Opset >= 12 && s.InputCount > 2 && s.HasInput(2))
            {
                if (s.InputType(2) != PlanTypes.Bool) throw s.Unsupported($"training_mode is {s.InputType(2)}, not bool");
                string ratioType = s.HasInput(1) ? s.InputType(1) : PlanTypes.Float;
                if (!ElementOperands.IsFloat(ratioType)) throw s.Unsupported($"ratio is {ratioType}");
                string ratio = s.HasInput(1) ? ElementOperands.Input(s, 1, 1) : "default";
                lowering.Call($"{R}Activations.RequireInferenceDropout<{ElementOperands.CSharp(ratioType)}>({ElementOperands.Input(s, 2, 1)}, {ratio}, 0.5f);");
            }
            if (!ElementOperands.SameBuffer(s, 0, 0)) lowering.Call($"{ElementOperands.Input(s, 0, n)}.CopyTo({ElementOperands.Output(s, 0, n)});");
            if (s.OutputCount > 1 && s.HasOutput(1))
            {
                string maskType = ElementOperands.OutputType(s, 1);
                string one = maskType switch
                {
                    PlanTypes.Bool => "true",
                    PlanTypes.Float => "1f",
                    PlanTypes.Double => "1d",
                    PlanTypes.Float16 => "global::System.Half.One",
                    _ => throw s.Unsupported($"a {maskType} mask"),
                };
                lowering.Call($"{ElementOperands.Output(s, 1, n)}.Fill({one});");
            }
            return lowering;
        }
    }
}
