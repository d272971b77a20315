using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Rnn;

/// <summary>
/// GRU: one-layer gated recurrent unit with gate order z, r, h:
/// z = f(X·W_zᵀ + H·R_zᵀ + b_z), r = f(…), h̃ = g(X·W_hᵀ + (r⊙H)·R_hᵀ + Rb_h + Wb_h) or, with
/// linear_before_reset, g(X·W_hᵀ + r⊙(H·R_hᵀ + Rb_h) + Wb_h); H' = (1 − z)⊙h̃ + z⊙H.
/// Inputs X, W, R, B, sequence_lens, initial_h; outputs Y, Y_h (both optional). Supports
/// forward/reverse/bidirectional, clip, custom activations with alpha/beta and per-sequence
/// lengths. Opset 1 lacks linear_before_reset (added in 3) and has output_sequence (ignored: Y is
/// produced when it is named); 7 is the same math; 14 adds layout (batch-first X, Y and states).
/// Gradients: X, W, R, B, initial_h.
/// </summary>
[OnnxOperator("GRU")]
internal sealed class GRU : RecurrentKernel
{
    private readonly bool _linearBeforeReset;

    public GRU(NodeContext ctx) : base(ctx, 3, new[] { "Sigmoid", "Tanh" })
    {
        if (ctx.Has("linear_before_reset") && ctx.Opset < 3) throw ctx.Invalid("attribute 'linear_before_reset' exists from opset 3");
        long lbr = ctx.Int("linear_before_reset", 0);
        _linearBeforeReset = lbr != 0;
    }

    protected override bool HasCell => false;

    // Per step: r⊙H (default) or H·R_hᵀ + Rb_h (linear_before_reset).
    protected override bool HasAux => true;

    protected override void InputBias(ReadOnlySpan<float> b, Span<float> dst)
    {
        int gh = dst.Length, hs = gh / 3;
        TensorPrimitives.Add(b[..(2 * hs)], b.Slice(gh, 2 * hs), dst[..(2 * hs)]);
        if (_linearBeforeReset) b.Slice(2 * hs, hs).CopyTo(dst[(2 * hs)..]);
        else TensorPrimitives.Add(b.Slice(2 * hs, hs), b.Slice(gh + 2 * hs, hs), dst[(2 * hs)..]);
    }

    protected override void Step(RnnRun run, RnnDirection dir, int t)
    {
        var g = run.G;
        int hs = g.Hidden, d = dir.D;
        int gateBase = g.Row(t, 0) * g.GateLd + d * g.GH, gateLd = g.RowStep * g.GateLd;
        int hBase = g.Row(t, 0) * hs, hLd = g.RowStep * hs;
        var hPrev = run.Hprev[d];
        var aux = run.Aux![d];
        var gates = run.Gates;
        var rz = dir.R.AsSpan(dir.ROffset, 2 * hs * hs);
        var rh = dir.R.AsSpan(dir.ROffset + 2 * hs * hs, hs * hs);
        Sgemm.Multiply(false, true, g.Batch, 2 * hs, hs, 1f, hPrev.AsSpan(hBase), hLd, rz, hs, 1f, gates.AsSpan(gateBase), gateLd, dir.Threads);
        if (_linearBeforeReset)
        {
            Sgemm.Multiply(false, true, g.Batch, hs, hs, 1f, hPrev.AsSpan(hBase), hLd, rh, hs, 0f, aux.AsSpan(hBase), hLd, dir.Threads);
            if (dir.B is { } bias)
                for (int b = 0; b < g.Batch; b++)
                {
                    var a = aux.AsSpan(hBase + b * hLd, hs);
                    TensorPrimitives.Add(a, bias.AsSpan(dir.BOffset + g.GH + 2 * hs, hs), a);
                }
        }
        var f = Activation(d, 0);
        var gAct = Activation(d, 1);
        for (int b = 0; b < g.Batch; b++)
        {
            int row = gateBase + b * gateLd;
            var a = aux.AsSpan(hBase + b * hLd, hs);
            if (!dir.Active[b])
            {
                // (r⊙H) rows feed the next product; keep them finite.
                if (!_linearBeforeReset) a.Clear();
                continue;
            }
            var zr = gates.AsSpan(row, 2 * hs);
            ClipGates(run, row, 2 * hs);
            f.Apply(zr);
            var r = gates.AsSpan(row + hs, hs);
            var gh = gates.AsSpan(row + 2 * hs, hs);
            if (_linearBeforeReset) TensorPrimitives.MultiplyAdd(r, a, gh, gh);
            else TensorPrimitives.Multiply(r, hPrev.AsSpan(hBase + b * hLd, hs), a);
        }
        if (!_linearBeforeReset)
            Sgemm.Multiply(false, true, g.Batch, hs, hs, 1f, aux.AsSpan(hBase), hLd, rh, hs, 1f, gates.AsSpan(gateBase + 2 * hs), gateLd, dir.Threads);
        for (int b = 0; b < g.Batch; b++)
        {
            if (!dir.Active[b]) continue;
            int row = gateBase + b * gateLd;
            var z = gates.AsSpan(row, hs);
            var gh = gates.AsSpan(row + 2 * hs, hs);
            ClipGates(run, row + 2 * hs, hs);
            gAct.Apply(gh);
            // H' = h̃ + z⊙(H − h̃)
            var state = dir.H.AsSpan(b * hs, hs);
            TensorPrimitives.Subtract(state, gh, state);
            TensorPrimitives.MultiplyAdd(z, state, gh, state);
        }
    }

    protected override void BackStep(RnnRun run, RnnDirection dir, int t, float[] dGates)
    {
        var g = run.G;
        int hs = g.Hidden, d = dir.D;
        int gateBase = g.Row(t, 0) * g.GateLd + d * g.GH, gateLd = g.RowStep * g.GateLd;
        int hBase = g.Row(t, 0) * hs, hLd = g.RowStep * hs;
        var hPrev = run.Hprev[d];
        var aux = run.Aux![d];
        var gates = run.Gates;
        var f = Activation(d, 0);
        var gAct = Activation(d, 1);
        var rz = dir.R.AsSpan(dir.ROffset, 2 * hs * hs);
        var rh = dir.R.AsSpan(dir.ROffset + 2 * hs * hs, hs * hs);
        for (int b = 0; b < g.Batch; b++)
        {
            if (!dir.Active[b]) continue;
            int row = gateBase + b * gateLd;
            ReadOnlySpan<float> z = gates.AsSpan(row, hs), r = gates.AsSpan(row + hs, hs), gh = gates.AsSpan(row + 2 * hs, hs);
            ReadOnlySpan<float> h = hPrev.AsSpan(hBase + b * hLd, hs);
            Span<float> dz = dGates.AsSpan(row, hs), dr = dGates.AsSpan(row + hs, hs), dh = dGates.AsSpan(row + 2 * hs, hs);
            var carry = dir.H.AsSpan(b * hs, hs);
            // H' = (1 − z)⊙h̃ + z⊙H
            TensorPrimitives.Subtract(h, gh, dz);
            TensorPrimitives.Multiply(dz, carry, dz);
            f.MultiplyByDerivative(z, dz);
            MaskClipped(run, row, dz);
            TensorPrimitives.Multiply(carry, z, dh);
            TensorPrimitives.Subtract(carry, dh, dh);
            gAct.MultiplyByDerivative(gh, dh);
            MaskClipped(run, row + 2 * hs, dh);
            TensorPrimitives.Multiply(carry, z, carry);
            if (_linearBeforeReset)
            {
                // pre-h̃ = … + r⊙a with a = H·R_hᵀ + Rb_h
                var a = aux.AsSpan(hBase + b * hLd, hs);
                TensorPrimitives.Multiply(dh, a, dr);
                f.MultiplyByDerivative(r, dr);
                MaskClipped(run, row + hs, dr);
                TensorPrimitives.Multiply(dh, r, dir.DAux!.AsSpan(hBase + b * hLd, hs));
            }
        }
        var scratch = dir.Scratch;
        if (!_linearBeforeReset)
        {
            // pre-h̃ = … + (r⊙H)·R_hᵀ: the gradient of r⊙H is dh̃·R_h.
            Sgemm.Multiply(false, false, g.Batch, hs, hs, 1f, dGates.AsSpan(gateBase + 2 * hs), gateLd, rh, hs, 0f, scratch, hs, dir.Threads);
            for (int b = 0; b < g.Batch; b++)
            {
                if (!dir.Active[b]) continue;
                int row = gateBase + b * gateLd;
                var drh = scratch.AsSpan(b * hs, hs);
                var dr = dGates.AsSpan(row + hs, hs);
                TensorPrimitives.Multiply(drh, hPrev.AsSpan(hBase + b * hLd, hs), dr);
                f.MultiplyByDerivative(gates.AsSpan(row + hs, hs), dr);
                MaskClipped(run, row + hs, dr);
                var carry = dir.H.AsSpan(b * hs, hs);
                TensorPrimitives.MultiplyAdd(drh, gates.AsSpan(row + hs, hs), carry, carry);
            }
        }
        Sgemm.Multiply(false, false, g.Batch, hs, 2 * hs, 1f, dGates.AsSpan(gateBase), gateLd, rz, hs, 0f, scratch, hs, dir.Threads);
        if (_linearBeforeReset)
            Sgemm.Multiply(false, false, g.Batch, hs, hs, 1f, dir.DAux!.AsSpan(hBase), hLd, rh, hs, 1f, scratch, hs, dir.Threads);
        for (int b = 0; b < g.Batch; b++)
        {
            if (!dir.Active[b]) continue;
            var carry = dir.H.AsSpan(b * hs, hs);
            TensorPrimitives.Add(carry, scratch.AsSpan(b * hs, hs), carry);
        }
    }

    protected override void RecurrentGrads(RnnRun run, RnnDirection dir, float[] dGates, Span<float> dR, Span<float> dRb)
    {
        var g = run.G;
        int hs = g.Hidden, col = dir.D * g.GH;
        if (!dR.IsEmpty)
        {
            Sgemm.Multiply(true, false, 2 * hs, hs, g.Rows, 1f, dGates.AsSpan(col), g.GateLd, run.Hprev[dir.D], hs, 0f, dR, hs, dir.Threads);
            var dRh = dR[(2 * hs * hs)..];
            if (_linearBeforeReset)
                Sgemm.Multiply(true, false, hs, hs, g.Rows, 1f, dir.DAux!, hs, run.Hprev[dir.D], hs, 0f, dRh, hs, dir.Threads);
            else
                Sgemm.Multiply(true, false, hs, hs, g.Rows, 1f, dGates.AsSpan(col + 2 * hs), g.GateLd, run.Aux![dir.D], hs, 0f, dRh, hs, dir.Threads);
        }
        if (!dRb.IsEmpty)
        {
            ColumnSums(dGates, col, g.GateLd, g.Rows, dRb[..(2 * hs)]);
            if (_linearBeforeReset) ColumnSums(dir.DAux!, 0, hs, g.Rows, dRb[(2 * hs)..]);
            else ColumnSums(dGates, col + 2 * hs, g.GateLd, g.Rows, dRb[(2 * hs)..]);
        }
    }
}
