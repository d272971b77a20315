using System;
using System.Linq;
using CompressBuild.Plan;

namespace CompressBuild.Generator.Ops
{
    /// <summary>LSTM and GRU → <c>CompressBuild.Runtime.Recurrent</c>.</summary>
    internal static class RecurrentOps
    {
        private const string R = StepLowering.Runtime;

        private static readonly string[] Kinds =
        {
            "Sigmoid", "Tanh", "Relu", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus",
        };

        /// <summary>
        /// LSTM: all directions and layouts, activations with alpha/beta, clip, input_forget,
        /// peepholes, sequence_lens, initial states, optional outputs; W and R in fp32/fp16/int8 (one scale).
        /// </summary>
        [Lowers("LSTM")]
        public static StepLowering Lstm(StepInfo s) => Rnn(s, 4, new[] { "Sigmoid", "Tanh", "Tanh" });

        /// <summary>GRU: as LSTM, with linear_before_reset instead of input_forget and peepholes.</summary>
        [Lowers("GRU")]
        public static StepLowering Gru(StepInfo s) => Rnn(s, 3, new[] { "Sigmoid", "Tanh" });

        private static StepLowering Rnn(StepInfo s, int gates, string[] defaults)
        {
            bool lstm = gates == 4;
            s.AllowOnly(lstm
                ? new[] { "activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout", "input_forget" }
                : new[] { "activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout", "linear_before_reset" });
            s.RequireFloat(0, 3, 5, 6, 7);
            var x = s.InShape(0);
            if (x.Length != 3) throw s.Unsupported($"X {Lit.Shape(x)} must be 3-D");
            bool batchFirst = s.Int("layout", 0) == 1;
            if (s.Int("layout", 0) is not (0 or 1)) throw s.Unsupported($"layout {s.Int("layout", 0)}");
            if (!batchFirst && s.NnBatched)
                throw s.Unsupported("layout 0 in a batched model (axis 0 of X is the sequence; predictors run one sample at a time)");
            int seq = batchFirst ? x[1] : x[0], batch = batchFirst ? x[0] : x[1], input = x[2];
            string direction = s.String("direction", "forward");
            int dirs = direction switch
            {
                "forward" or "reverse" => 1,
                "bidirectional" => 2,
                _ => throw s.Unsupported($"direction '{direction}'"),
            };
            var r = s.InShape(2);
            if (r.Length != 3) throw s.Unsupported($"R {Lit.Shape(r)} must be 3-D");
            int hidden = (int)s.Int("hidden_size", r[2]);
            int gh = gates * hidden;
            var w = s.InShape(1);
            if (w.Length != 3 || w[0] != dirs || w[1] != gh || w[2] != input) throw s.Unsupported($"W {Lit.Shape(w)} must be [{dirs},{gh},{input}]");
            if (r[0] != dirs || r[1] != gh || r[2] != hidden) throw s.Unsupported($"R {Lit.Shape(r)} must be [{dirs},{gh},{hidden}]");
            void Expect(int i, string name, params int[] shape)
            {
                if (s.HasInput(i) && !s.InShape(i).SequenceEqual(shape)) throw s.Unsupported($"{name} {Lit.Shape(s.InShape(i))} must be {Lit.Shape(shape)}");
            }
            int[] state = batchFirst ? new[] { batch, dirs, hidden } : new[] { dirs, batch, hidden };
            Expect(3, "B", dirs, 2 * gh);
            Expect(4, "sequence_lens", batch);
            Expect(5, "initial_h", state);
            if (lstm)
            {
                Expect(6, "initial_c", state);
                Expect(7, "P", dirs, 3 * hidden);
            }
            else if (s.InputCount > 6 && Enumerable.Range(6, s.InputCount - 6).Any(s.HasInput))
            {
                throw s.Unsupported("GRU has six inputs");
            }

            // Activations: per direction f, g(, h); alphas and betas consumed in order by those that take them.
            var names = s.NnStrings("activations") ?? Enumerable.Repeat(defaults, dirs).SelectMany(a => a).ToArray();
            if (names.Length != defaults.Length * dirs) throw s.Unsupported($"activations lists {names.Length} functions, {dirs} direction(s) need {defaults.Length * dirs}");
            var alphas = s.NnFloats("activation_alpha") ?? new float[0];
            var betas = s.NnFloats("activation_beta") ?? new float[0];
            var acts = new int[6];
            var alpha = new float[6];
            var beta = new float[6];
            int ia = 0, ib = 0;
            for (int k = 0; k < names.Length; k++)
            {
                int kind = Array.FindIndex(Kinds, n => string.Equals(n, names[k], StringComparison.OrdinalIgnoreCase));
                if (kind < 0) throw s.Unsupported($"activation '{names[k]}'");
                var (da, db, usesA, usesB) = kind switch
                {
                    3 => (1f, 0f, true, true),
                    4 => (0.01f, 0f, true, false),
                    5 => (1f, 0f, true, false),
                    6 => (1f, 1f, true, true),
                    7 => (0.2f, 0.5f, true, true),
                    8 => (1f, 0f, true, false),
                    _ => (0f, 0f, false, false),
                };
                acts[k] = kind;
                alpha[k] = usesA && ia < alphas.Length ? alphas[ia++] : da;
                beta[k] = usesB && ib < betas.Length ? betas[ib++] : db;
            }
            bool hasClip = s.Has("clip");
            float clip = s.Float("clip", 0f);
            if (hasClip && !(clip > 0f)) throw s.Unsupported($"clip {clip}");

            var wOp = s.WeightInput(1, (long)dirs * gh * input);
            var rOp = s.WeightInput(2, (long)dirs * gh * hidden);
            foreach (var (op, name) in new[] { (wOp, "W"), (rOp, "R") })
                if (op.Format == "Q8" && op.Axis >= 0) throw s.Unsupported($"int8 {name} with scales along axis {op.Axis} (one scale only)");
            string lenType = "long", lengths = "default";
            if (s.HasInput(4))
            {
                string t = s.InputType(4);
                if (t is not (PlanTypes.Int32 or PlanTypes.Int64)) throw s.Unsupported($"sequence_lens of type {t}");
                lenType = PlanTypes.CSharp(t);
                lengths = s.NnInput(4, batch, t);
            }
            string Opt(int i, long count) => s.HasInput(i) ? s.FloatInput(i, count) : "default";
            string Out(int o, long count) => s.HasOutput(o) ? s.FloatOutput(o, count) : "default";
            long stateSize = (long)dirs * batch * hidden;
            var lowering = new StepLowering($"{s.Step.Op} {direction} X {Lit.Shape(x)}{(batchFirst ? " (batch first)" : "")}, hidden {hidden}, W {wOp.Format}, R {rOp.Format}")
                .Shape("IRnnShape")
                .Int("Seq", seq).Int("Batch", batch).Int("Input", input).Int("Hidden", hidden).Int("Directions", dirs).Int("Gates", gates)
                .Bool("Reverse", direction == "reverse").Bool("BatchFirst", batchFirst)
                .Bool("HasBias", s.HasInput(3)).Bool("HasInitialH", s.HasInput(5)).Bool("HasInitialC", lstm && s.HasInput(6))
                .Bool("HasPeepholes", lstm && s.HasInput(7)).Bool("HasLengths", s.HasInput(4))
                .Bool("HasClip", hasClip).Float("Clip", clip)
                .Bool("InputForget", lstm && s.Int("input_forget", 0) != 0)
                .Bool("LinearBeforeReset", !lstm && s.Int("linear_before_reset", 0) != 0)
                .Int("PerDirection", defaults.Length);
            for (int k = 0; k < 6; k++) lowering.Int("Act" + Lit.Int(k), acts[k]);
            for (int k = 0; k < 6; k++) lowering.Float("Alpha" + Lit.Int(k), alpha[k]);
            for (int k = 0; k < 6; k++) lowering.Float("Beta" + Lit.Int(k), beta[k]);
            string scratch = s.NnScratch(lowering, KernelScratch.RecurrentFloats(seq, batch, hidden, gates));
            return lowering.Call($"{R}Recurrent.Run<{s.StructName}, {wOp.FormatType}, {rOp.FormatType}, {lenType}, {StepLowering.Simd}>(" +
                $"{s.FloatInput(0, Lit.Product(x))}, {wOp.Bytes}, {wOp.Scales}, {rOp.Bytes}, {rOp.Scales}, {Opt(3, (long)dirs * 2 * gh)}, {lengths}, " +
                $"{Opt(5, stateSize)}, {(lstm ? Opt(6, stateSize) : "default")}, {(lstm ? Opt(7, (long)dirs * 3 * hidden) : "default")}, " +
                $"{Out(0, (long)seq * batch * dirs * hidden)}, {Out(1, stateSize)}, {(lstm ? Out(2, stateSize) : "default")}, {scratch});");
        }
    }
}
