using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Rnn;

/// <summary>
/// LSTM: one-layer long short-term memory with gate order i, o, f, c:
/// i = f(Xᵢ + H·Rᵢᵀ + Pᵢ⊙C₋₁ + b), f = f(… + P_f⊙C₋₁), c̃ = g(…), C = f⊙C₋₁ + i⊙c̃,
/// o = f(… + Pₒ⊙C), H = o⊙h(C). Inputs X, W, R, B, sequence_lens, initial_h, initial_c, P;
/// outputs Y, Y_h, Y_c (all optional). Supports forward/reverse/bidirectional, clip (on gate
/// pre-activations), input_forget (f = 1 − i), custom activations with alpha/beta, and per-sequence
/// lengths. Opsets 1–6 and 7 share these semantics (output_sequence of opset 1 is ignored: Y is
/// produced when it is named); opset 14 adds layout (batch-first X, Y and states).
/// Gradients: X, W, R, B, initial_h, initial_c, P.
/// </summary>
[OnnxOperator("LSTM")]
internal sealed class LSTM : RecurrentKernel
{
    private readonly bool _inputForget;

    public LSTM(NodeContext ctx) : base(ctx, 4, new[] { "Sigmoid", "Tanh", "Tanh" })
    {
        long inputForget = ctx.Int("input_forget", 0);
        if (inputForget is not (0 or 1)) throw ctx.Invalid($"input_forget {inputForget} must be 0 or 1");
        _inputForget = inputForget == 1;
    }

    protected override bool HasCell => true;

    // h(C) of every step.
    protected override bool HasAux => true;

    protected override int InitialCInput => 6;

    protected override int PeepholeInput => 7;

    protected override void InferExtraInputs(ShapeContext ctx, Dim batch, Dim hidden)
    {
        ExpectInput(ctx, 6, "initial_c", StateShape(batch, hidden));
        ExpectInput(ctx, 7, "P", new[] { Dirs, 3 * hidden });
    }

    protected override void InputBias(ReadOnlySpan<float> b, Span<float> dst) =>
        TensorPrimitives.Add(b[..dst.Length], b[dst.Length..], dst);

    protected override void Step(RnnRun run, RnnDirection dir, int t)
    {
        var g = run.G;
        int hs = g.Hidden, d = dir.D;
        int gateBase = g.Row(t, 0) * g.GateLd + d * g.GH, gateLd = g.RowStep * g.GateLd;
        Sgemm.Multiply(false, true, g.Batch, g.GH, hs, 1f, run.Hprev[d].AsSpan(g.Row(t, 0) * hs), g.RowStep * hs,
            dir.R.AsSpan(dir.ROffset, g.GH * hs), hs, 1f, run.Gates.AsSpan(gateBase), gateLd, dir.Threads);
        var f = Activation(d, 0);
        var gAct = Activation(d, 1);
        var h = Activation(d, 2);
        var p = dir.P;
        for (int b = 0; b < g.Batch; b++)
        {
            if (!dir.Active[b]) continue;
            int row = gateBase + b * gateLd;
            var gates = run.Gates;
            Span<float> gi = gates.AsSpan(row, hs), go = gates.AsSpan(row + hs, hs), gf = gates.AsSpan(row + 2 * hs, hs), gc = gates.AsSpan(row + 3 * hs, hs);
            var c = dir.C.AsSpan(b * hs, hs);
            if (p is not null)
            {
                TensorPrimitives.MultiplyAdd(p.AsSpan(dir.POffset, hs), c, gi, gi);
                if (!_inputForget) TensorPrimitives.MultiplyAdd(p.AsSpan(dir.POffset + 2 * hs, hs), c, gf, gf);
            }
            ClipGates(run, row, hs);
            f.Apply(gi);
            if (_inputForget) TensorPrimitives.Subtract(1f, gi, gf);
            else
            {
                ClipGates(run, row + 2 * hs, hs);
                f.Apply(gf);
            }
            ClipGates(run, row + 3 * hs, hs);
            gAct.Apply(gc);
            // C = f⊙C₋₁ + i⊙c̃, in place in the cell state.
            TensorPrimitives.Multiply(gf, c, c);
            TensorPrimitives.MultiplyAdd(gi, gc, c, c);
            if (p is not null) TensorPrimitives.MultiplyAdd(p.AsSpan(dir.POffset + hs, hs), c, go, go);
            ClipGates(run, row + hs, hs);
            f.Apply(go);
            var hc = run.Aux![d].AsSpan(g.Row(t, b) * hs, hs);
            c.CopyTo(hc);
            h.Apply(hc);
            TensorPrimitives.Multiply(go, hc, dir.H.AsSpan(b * hs, hs));
        }
    }

    protected override void BackStep(RnnRun run, RnnDirection dir, int t, float[] dGates)
    {
        var g = run.G;
        int hs = g.Hidden, d = dir.D;
        int gateBase = g.Row(t, 0) * g.GateLd + d * g.GH, gateLd = g.RowStep * g.GateLd;
        var f = Activation(d, 0);
        var gAct = Activation(d, 1);
        var h = Activation(d, 2);
        var p = dir.P;
        var tmp = dir.RowA;
        var cNew = dir.RowB;
        for (int b = 0; b < g.Batch; b++)
        {
            if (!dir.Active[b]) continue;
            int row = gateBase + b * gateLd;
            var gates = run.Gates;
            ReadOnlySpan<float> gi = gates.AsSpan(row, hs), go = gates.AsSpan(row + hs, hs), gf = gates.AsSpan(row + 2 * hs, hs), gc = gates.AsSpan(row + 3 * hs, hs);
            Span<float> di = dGates.AsSpan(row, hs), dO = dGates.AsSpan(row + hs, hs), df = dGates.AsSpan(row + 2 * hs, hs), dc = dGates.AsSpan(row + 3 * hs, hs);
            int r = g.Row(t, b) * hs;
            ReadOnlySpan<float> cPrev = run.Cprev![d].AsSpan(r, hs), hC = run.Aux![d].AsSpan(r, hs);
            Span<float> dH = dir.H.AsSpan(b * hs, hs), dC = dir.C.AsSpan(b * hs, hs);

            // H = o⊙h(C)
            TensorPrimitives.Multiply(dH, hC, dO);
            f.MultiplyByDerivative(go, dO);
            MaskClipped(run, row + hs, dO);
            TensorPrimitives.Multiply(dH, go, tmp);
            h.MultiplyByDerivative(hC, tmp);
            TensorPrimitives.Add(dC, tmp, dC);
            if (p is not null) TensorPrimitives.MultiplyAdd(dO, p.AsSpan(dir.POffset + hs, hs), dC, dC);

            // C = f⊙C₋₁ + i⊙c̃
            TensorPrimitives.Multiply(dC, gc, di);
            TensorPrimitives.Multiply(dC, gi, dc);
            TensorPrimitives.Multiply(dC, cPrev, df);
            if (_inputForget)
            {
                TensorPrimitives.Subtract(di, df, di);
                df.Clear();
            }
            f.MultiplyByDerivative(gi, di);
            MaskClipped(run, row, di);
            gAct.MultiplyByDerivative(gc, dc);
            MaskClipped(run, row + 3 * hs, dc);
            if (!_inputForget)
            {
                f.MultiplyByDerivative(gf, df);
                MaskClipped(run, row + 2 * hs, df);
            }

            if (p is not null)
            {
                var dp = dir.DP!;
                TensorPrimitives.Multiply(gf, cPrev, cNew);
                TensorPrimitives.MultiplyAdd(gi, gc, cNew, cNew);
                TensorPrimitives.MultiplyAdd(di, cPrev, dp.AsSpan(0, hs), dp.AsSpan(0, hs));
                TensorPrimitives.MultiplyAdd(dO, cNew, dp.AsSpan(hs, hs), dp.AsSpan(hs, hs));
                TensorPrimitives.MultiplyAdd(df, cPrev, dp.AsSpan(2 * hs, hs), dp.AsSpan(2 * hs, hs));
            }
            // dC₋₁ = dC⊙f + Pᵢ⊙dᵢ + P_f⊙d_f
            TensorPrimitives.Multiply(dC, gf, dC);
            if (p is not null)
            {
                TensorPrimitives.MultiplyAdd(di, p.AsSpan(dir.POffset, hs), dC, dC);
                TensorPrimitives.MultiplyAdd(df, p.AsSpan(dir.POffset + 2 * hs, hs), dC, dC);
            }
        }
        // dH₋₁ = dGates·R for the active sequences; the others keep their carried gradient.
        Sgemm.Multiply(false, false, g.Batch, hs, g.GH, 1f, dGates.AsSpan(gateBase), gateLd,
            dir.R.AsSpan(dir.ROffset, g.GH * hs), hs, 0f, dir.Scratch, hs, dir.Threads);
        for (int b = 0; b < g.Batch; b++)
            if (dir.Active[b]) dir.Scratch.AsSpan(b * hs, hs).CopyTo(dir.H.AsSpan(b * hs, hs));
    }

    protected override void RecurrentGrads(RnnRun run, RnnDirection dir, float[] dGates, Span<float> dR, Span<float> dRb)
    {
        var g = run.G;
        if (!dR.IsEmpty)
            Sgemm.Multiply(true, false, g.GH, g.Hidden, g.Rows, 1f, dGates.AsSpan(dir.D * g.GH), g.GateLd,
                run.Hprev[dir.D], g.Hidden, 0f, dR, g.Hidden, dir.Threads);
        if (!dRb.IsEmpty) ColumnSums(dGates, dir.D * g.GH, g.GateLd, g.Rows, dRb);
    }
}
