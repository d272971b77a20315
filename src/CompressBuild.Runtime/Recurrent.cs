namespace CompressBuild.Runtime;

using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

/// <summary>
/// Compile-time facts of one LSTM or GRU step. X is [Seq, Batch, Input] (layout 0) or
/// [Batch, Seq, Input] (layout 1, <see cref="BatchFirst"/>); W is [Directions, Gates·Hidden, Input],
/// R [Directions, Gates·Hidden, Hidden], B [Directions, 2·Gates·Hidden], P [Directions, 3·Hidden].
/// Activations are numbered per direction (LSTM f, g, h; GRU f, g): Act{d·PerDirection + k}, with
/// their alpha and beta. Activation kinds: 0 Sigmoid, 1 Tanh, 2 Relu, 3 Affine, 4 LeakyRelu,
/// 5 ThresholdedRelu, 6 ScaledTanh, 7 HardSigmoid, 8 Elu, 9 Softsign, 10 Softplus.
/// </summary>
internal interface IRnnShape
{
    /// <summary>Time steps.</summary>
    static abstract int Seq { get; }

    /// <summary>Sequences.</summary>
    static abstract int Batch { get; }

    /// <summary>Input features.</summary>
    static abstract int Input { get; }

    /// <summary>hidden_size.</summary>
    static abstract int Hidden { get; }

    /// <summary>1, or 2 for bidirectional.</summary>
    static abstract int Directions { get; }

    /// <summary>4 (LSTM: i, o, f, c) or 3 (GRU: z, r, h).</summary>
    static abstract int Gates { get; }

    /// <summary>direction = reverse.</summary>
    static abstract bool Reverse { get; }

    /// <summary>layout = 1.</summary>
    static abstract bool BatchFirst { get; }

    /// <summary>True when there is a B input.</summary>
    static abstract bool HasBias { get; }

    /// <summary>True when there is an initial_h input.</summary>
    static abstract bool HasInitialH { get; }

    /// <summary>True when there is an initial_c input (LSTM).</summary>
    static abstract bool HasInitialC { get; }

    /// <summary>True when there is a P input (LSTM peepholes).</summary>
    static abstract bool HasPeepholes { get; }

    /// <summary>True when there is a sequence_lens input.</summary>
    static abstract bool HasLengths { get; }

    /// <summary>True when the clip attribute is set.</summary>
    static abstract bool HasClip { get; }

    /// <summary>The clip threshold.</summary>
    static abstract float Clip { get; }

    /// <summary>LSTM input_forget.</summary>
    static abstract bool InputForget { get; }

    /// <summary>GRU linear_before_reset.</summary>
    static abstract bool LinearBeforeReset { get; }

    /// <summary>Activations per direction (LSTM 3, GRU 2).</summary>
    static abstract int PerDirection { get; }

    /// <summary>Activation 0.</summary>
    static abstract int Act0 { get; }

    /// <summary>Activation 1.</summary>
    static abstract int Act1 { get; }

    /// <summary>Activation 2.</summary>
    static abstract int Act2 { get; }

    /// <summary>Activation 3.</summary>
    static abstract int Act3 { get; }

    /// <summary>Activation 4.</summary>
    static abstract int Act4 { get; }

    /// <summary>Activation 5.</summary>
    static abstract int Act5 { get; }

    /// <summary>Alpha of activation 0.</summary>
    static abstract float Alpha0 { get; }

    /// <summary>Alpha of activation 1.</summary>
    static abstract float Alpha1 { get; }

    /// <summary>Alpha of activation 2.</summary>
    static abstract float Alpha2 { get; }

    /// <summary>Alpha of activation 3.</summary>
    static abstract float Alpha3 { get; }

    /// <summary>Alpha of activation 4.</summary>
    static abstract float Alpha4 { get; }

    /// <summary>Alpha of activation 5.</summary>
    static abstract float Alpha5 { get; }

    /// <summary>Beta of activation 0.</summary>
    static abstract float Beta0 { get; }

    /// <summary>Beta of activation 1.</summary>
    static abstract float Beta1 { get; }

    /// <summary>Beta of activation 2.</summary>
    static abstract float Beta2 { get; }

    /// <summary>Beta of activation 3.</summary>
    static abstract float Beta3 { get; }

    /// <summary>Beta of activation 4.</summary>
    static abstract float Beta4 { get; }

    /// <summary>Beta of activation 5.</summary>
    static abstract float Beta5 { get; }
}

/// <summary>The input projection X·Wᵀ (+ bias) of every step of one direction, as a <see cref="Gemm"/> problem.</summary>
internal readonly struct RnnInputProjection<TS> : IGemmShape where TS : struct, IRnnShape
{
    public static int M => TS.Seq * TS.Batch;
    public static int N => TS.Gates * TS.Hidden;
    public static int K => TS.Input;
    public static bool TransA => false;
    public static bool TransB => true;
    public static float Alpha => 1f;
    public static float Beta => 1f;
    public static bool HasC => TS.HasBias;
    public static int CRowStride => 0;
    public static int CColStride => 1;
    public static bool ScalePerColumn => false;
    public static bool Relu => false;
}

/// <summary>The recurrent product H·Rᵀ of one step over <typeparamref name="TG"/> gates, as a <see cref="Gemm"/> problem.</summary>
internal readonly struct RnnRecurrence<TS, TG> : IGemmShape where TS : struct, IRnnShape where TG : struct, IConstant
{
    public static int M => TS.Batch;
    public static int N => TG.Value * TS.Hidden;
    public static int K => TS.Hidden;
    public static bool TransA => false;
    public static bool TransB => true;
    public static float Alpha => 1f;
    public static float Beta => 0f;
    public static bool HasC => false;
    public static int CRowStride => 0;
    public static int CColStride => 0;
    public static bool ScalePerColumn => false;
    public static bool Relu => false;
}

/// <summary>
/// LSTM and GRU (forward, reverse, bidirectional; layouts 0 and 1; activations with alpha/beta;
/// clip; LSTM input_forget and peepholes; GRU linear_before_reset; sequence_lens; initial states;
/// optional outputs), one direction at a time: the input projection of all steps is one
/// <see cref="Gemm"/> call (weights in their stored format), each step one or two more for the
/// recurrence, then the cell element by element. A sequence's steps past its length output zeros
/// and leave its state alone; a sequence of length 0 has zero final states (as the engine and
/// ONNX Runtime). Scratch: <see cref="ScratchFloats{TS}"/>.
/// </summary>
internal static class Recurrent
{
    /// <summary>Floats of scratch: gate pre-activations of every step, one step's recurrence, H, C, a per-step temporary and the bias row.</summary>
    public static int ScratchFloats<TS>() where TS : struct, IRnnShape =>
        (TS.Seq * TS.Batch + TS.Batch + 1) * TS.Gates * TS.Hidden + 3 * TS.Batch * TS.Hidden;

    /// <summary>Runs one LSTM or GRU step. Absent optional inputs and outputs are empty spans.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TS, TW, TR, TLen, TSimd, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<byte> w, ReadOnlySpan<float> wScales,
        ReadOnlySpan<byte> r, ReadOnlySpan<float> rScales, ReadOnlySpan<float> b, ReadOnlySpan<TLen> lengths,
        ReadOnlySpan<float> initialH, ReadOnlySpan<float> initialC, ReadOnlySpan<float> p,
        Span<float> y, Span<float> yh, Span<float> yc, Span<float> scratch)
        where TS : struct, IRnnShape where TW : struct, IWeightFormat where TR : struct, IWeightFormat
        where TLen : unmanaged, IBinaryInteger<TLen> where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int hs = TS.Hidden, gh = TS.Gates * hs, batch = TS.Batch, rows = TS.Seq * batch, dirs = TS.Directions;
        Guard.Length(x.Length, (long)rows * TS.Input, "RNN X");
        WeightReader.RequireBytes<TW>(w, (long)dirs * gh * TS.Input, "RNN W");
        WeightReader.RequireBytes<TR>(r, (long)dirs * gh * hs, "RNN R");
        if (TW.HasScales) Guard.Length(wScales.Length, 1, "RNN W scales");
        if (TR.HasScales) Guard.Length(rScales.Length, 1, "RNN R scales");
        if (TS.HasBias) Guard.Length(b.Length, (long)dirs * 2 * gh, "RNN B");
        if (TS.HasLengths) Guard.Length(lengths.Length, batch, "RNN sequence_lens");
        if (TS.HasInitialH) Guard.Length(initialH.Length, (long)dirs * batch * hs, "RNN initial_h");
        if (TS.HasInitialC) Guard.Length(initialC.Length, (long)dirs * batch * hs, "RNN initial_c");
        if (TS.HasPeepholes) Guard.Length(p.Length, (long)dirs * 3 * hs, "RNN P");
        if (!y.IsEmpty) Guard.Length(y.Length, (long)rows * dirs * hs, "RNN Y");
        if (!yh.IsEmpty) Guard.Length(yh.Length, (long)dirs * batch * hs, "RNN Y_h");
        if (!yc.IsEmpty) Guard.Length(yc.Length, (long)dirs * batch * hs, "RNN Y_c");
        Guard.Length(scratch.Length, ScratchFloats<TS>(), "RNN scratch");
        if (TS.HasLengths)
            for (int i = 0; i < batch; i++)
                if (int.CreateSaturating(lengths[i]) < 0 || int.CreateSaturating(lengths[i]) > TS.Seq) BadLength(i);

        Span<float> gates = scratch.Slice(0, rows * gh);
        Span<float> rec = scratch.Slice(rows * gh, batch * gh);
        Span<float> bias = scratch.Slice((rows + batch) * gh, gh);
        Span<float> h = scratch.Slice((rows + batch + 1) * gh, batch * hs);
        Span<float> c = scratch.Slice((rows + batch + 1) * gh + batch * hs, batch * hs);
        Span<float> aux = scratch.Slice((rows + batch + 1) * gh + 2 * batch * hs, batch * hs);
        for (int d = 0; d < dirs; d++)
        {
            bool reverse = TS.Reverse || d == 1;
            var wd = w.Slice(d * gh * TS.Input * TW.ElementBytes);
            var rd = r.Slice(d * gh * hs * TR.ElementBytes);
            if (TS.HasBias)
            {
                var bw = b.Slice(d * 2 * gh, gh);
                var br = b.Slice(d * 2 * gh + gh, gh);
                // GRU with linear_before_reset adds Rb_h inside the reset product, not here.
                int summed = TS.Gates == 3 && TS.LinearBeforeReset ? 2 * hs : gh;
                for (int j = 0; j < gh; j++) bias[j] = j < summed ? bw[j] + br[j] : bw[j];
            }
            Gemm.Run<RnnInputProjection<TS>, TW, TSimd, TVec>(x, wd, wScales, bias, gates);
            for (int i = 0; i < batch; i++)
            {
                int at = StateOffset<TS>(d, i);
                if (TS.HasInitialH) initialH.Slice(at, hs).CopyTo(h.Slice(i * hs, hs));
                else h.Slice(i * hs, hs).Clear();
                if (TS.Gates == 4)
                {
                    if (TS.HasInitialC) initialC.Slice(at, hs).CopyTo(c.Slice(i * hs, hs));
                    else c.Slice(i * hs, hs).Clear();
                }
            }
            for (int s = 0; s < TS.Seq; s++)
            {
                int t = reverse ? TS.Seq - 1 - s : s;
                if (TS.Gates == 4) LstmStep<TS, TR, TLen, TSimd, TVec>(d, t, gates, rd, rScales, lengths, p, h, c, rec);
                else GruStep<TS, TR, TLen, TSimd, TVec>(d, t, gates, rd, rScales, b, lengths, h, rec, aux);
                if (y.IsEmpty) continue;
                for (int i = 0; i < batch; i++)
                {
                    var dst = y.Slice(YOffset<TS>(t, d, i), hs);
                    if (t < Length<TS, TLen>(lengths, i)) h.Slice(i * hs, hs).CopyTo(dst);
                    else dst.Clear();
                }
            }
            for (int i = 0; i < batch; i++)
            {
                if (Length<TS, TLen>(lengths, i) == 0)
                {
                    h.Slice(i * hs, hs).Clear();
                    c.Slice(i * hs, hs).Clear();
                }
                int at = StateOffset<TS>(d, i);
                if (!yh.IsEmpty) h.Slice(i * hs, hs).CopyTo(yh.Slice(at, hs));
                if (!yc.IsEmpty) c.Slice(i * hs, hs).CopyTo(yc.Slice(at, hs));
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void BadLength(int i) =>
        throw new ArgumentOutOfRangeException("sequence_lens", $"CompressBuild runtime: sequence_lens[{i}] is outside [0, the sequence length].");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Length<TS, TLen>(ReadOnlySpan<TLen> lengths, int i) where TS : struct, IRnnShape where TLen : unmanaged, IBinaryInteger<TLen> =>
        TS.HasLengths ? int.CreateSaturating(lengths[i]) : TS.Seq;

    /// <summary>Row of X (and of the gate buffer) holding step t of sequence i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Row<TS>(int t, int i) where TS : struct, IRnnShape => TS.BatchFirst ? i * TS.Seq + t : t * TS.Batch + i;

    /// <summary>Offset of Y[t, d, i, :] (layout 0) or Y[i, t, d, :] (layout 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int YOffset<TS>(int t, int d, int i) where TS : struct, IRnnShape =>
        TS.BatchFirst ? ((i * TS.Seq + t) * TS.Directions + d) * TS.Hidden : ((t * TS.Directions + d) * TS.Batch + i) * TS.Hidden;

    /// <summary>Offset of a state row: [d, i, :] (layout 0) or [i, d, :] (layout 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int StateOffset<TS>(int d, int i) where TS : struct, IRnnShape =>
        TS.BatchFirst ? (i * TS.Directions + d) * TS.Hidden : (d * TS.Batch + i) * TS.Hidden;

    /// <summary>LSTM step t of direction d (gates i, o, f, c).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LstmStep<TS, TR, TLen, TSimd, TVec>(int d, int t, Span<float> gates, ReadOnlySpan<byte> rd, ReadOnlySpan<float> rScales,
        ReadOnlySpan<TLen> lengths, ReadOnlySpan<float> p, Span<float> h, Span<float> c, Span<float> rec)
        where TS : struct, IRnnShape where TR : struct, IWeightFormat where TLen : unmanaged, IBinaryInteger<TLen> where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int hs = TS.Hidden, gh = 4 * hs;
        Gemm.Run<RnnRecurrence<TS, Four>, TR, TSimd, TVec>(h, rd, rScales, default, rec);
        int fa = d * TS.PerDirection, ga = fa + 1, ha = fa + 2;
        for (int i = 0; i < TS.Batch; i++)
        {
            if (t >= Length<TS, TLen>(lengths, i)) continue;
            var g = gates.Slice(Row<TS>(t, i) * gh, gh);
            var rc = rec.Slice(i * gh, gh);
            var hi = h.Slice(i * hs, hs);
            var ci = c.Slice(i * hs, hs);
            for (int j = 0; j < hs; j++)
            {
                float cPrev = ci[j];
                float gi = g[j] + rc[j], go = g[hs + j] + rc[hs + j], gf = g[2 * hs + j] + rc[2 * hs + j], gc = g[3 * hs + j] + rc[3 * hs + j];
                if (TS.HasPeepholes)
                {
                    gi += p[d * 3 * hs + j] * cPrev;
                    if (!TS.InputForget) gf += p[d * 3 * hs + 2 * hs + j] * cPrev;
                }
                gi = Activate<TS>(fa, ClipValue<TS>(gi));
                gf = TS.InputForget ? 1f - gi : Activate<TS>(fa, ClipValue<TS>(gf));
                gc = Activate<TS>(ga, ClipValue<TS>(gc));
                float cNew = gf * cPrev + gi * gc;
                if (TS.HasPeepholes) go += p[d * 3 * hs + hs + j] * cNew;
                go = Activate<TS>(fa, ClipValue<TS>(go));
                ci[j] = cNew;
                hi[j] = go * Activate<TS>(ha, cNew);
            }
        }
    }

    /// <summary>GRU step t of direction d (gates z, r, h).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruStep<TS, TR, TLen, TSimd, TVec>(int d, int t, Span<float> gates, ReadOnlySpan<byte> rd, ReadOnlySpan<float> rScales,
        ReadOnlySpan<float> b, ReadOnlySpan<TLen> lengths, Span<float> h, Span<float> rec, Span<float> aux)
        where TS : struct, IRnnShape where TR : struct, IWeightFormat where TLen : unmanaged, IBinaryInteger<TLen> where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int hs = TS.Hidden, gh = 3 * hs;
        var rh = rd.Slice(2 * hs * hs * TR.ElementBytes);
        Gemm.Run<RnnRecurrence<TS, Two>, TR, TSimd, TVec>(h, rd, rScales, default, rec.Slice(0, TS.Batch * 2 * hs));
        if (TS.LinearBeforeReset)
        {
            // a = H·R_hᵀ + Rb_h, later scaled by r.
            Gemm.Run<RnnRecurrence<TS, One>, TR, TSimd, TVec>(h, rh, rScales, default, aux);
            if (TS.HasBias)
            {
                var rbh = b.Slice(d * 2 * gh + gh + 2 * hs, hs);
                for (int i = 0; i < TS.Batch; i++)
                    for (int j = 0; j < hs; j++) aux[i * hs + j] += rbh[j];
            }
        }
        int fa = d * TS.PerDirection, ga = fa + 1;
        for (int i = 0; i < TS.Batch; i++)
        {
            if (t >= Length<TS, TLen>(lengths, i))
            {
                // (r⊙H) rows feed the next product; keep them finite.
                if (!TS.LinearBeforeReset) aux.Slice(i * hs, hs).Clear();
                continue;
            }
            var g = gates.Slice(Row<TS>(t, i) * gh, gh);
            var rc = rec.Slice(i * 2 * hs, 2 * hs);
            for (int j = 0; j < 2 * hs; j++) g[j] = Activate<TS>(fa, ClipValue<TS>(g[j] + rc[j]));
            if (TS.LinearBeforeReset)
                for (int j = 0; j < hs; j++) g[2 * hs + j] += g[hs + j] * aux[i * hs + j];
            else
                for (int j = 0; j < hs; j++) aux[i * hs + j] = g[hs + j] * h[i * hs + j];
        }
        if (!TS.LinearBeforeReset)
            Gemm.Run<RnnRecurrence<TS, One>, TR, TSimd, TVec>(aux, rh, rScales, default, rec.Slice(0, TS.Batch * hs));
        for (int i = 0; i < TS.Batch; i++)
        {
            if (t >= Length<TS, TLen>(lengths, i)) continue;
            var g = gates.Slice(Row<TS>(t, i) * gh, gh);
            var hi = h.Slice(i * hs, hs);
            for (int j = 0; j < hs; j++)
            {
                float pre = TS.LinearBeforeReset ? g[2 * hs + j] : g[2 * hs + j] + rec[i * hs + j];
                float cand = Activate<TS>(ga, ClipValue<TS>(pre));
                // H' = h̃ + z⊙(H − h̃)
                hi[j] = g[j] * (hi[j] - cand) + cand;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ClipValue<TS>(float v) where TS : struct, IRnnShape =>
        !TS.HasClip ? v : v > TS.Clip ? TS.Clip : v < -TS.Clip ? -TS.Clip : v;

    /// <summary>Activation number <paramref name="k"/> of the step (direction-major) applied to <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Activate<TS>(int k, float v) where TS : struct, IRnnShape
    {
        switch (k)
        {
            case 0: return RnnActivation.Apply(TS.Act0, TS.Alpha0, TS.Beta0, v);
            case 1: return RnnActivation.Apply(TS.Act1, TS.Alpha1, TS.Beta1, v);
            case 2: return RnnActivation.Apply(TS.Act2, TS.Alpha2, TS.Beta2, v);
            case 3: return RnnActivation.Apply(TS.Act3, TS.Alpha3, TS.Beta3, v);
            case 4: return RnnActivation.Apply(TS.Act4, TS.Alpha4, TS.Beta4, v);
            default: return RnnActivation.Apply(TS.Act5, TS.Alpha5, TS.Beta5, v);
        }
    }
}

/// <summary>The activation functions of LSTM and GRU (ONNX's RNN activation list).</summary>
internal static class RnnActivation
{
    /// <summary>Applies activation <paramref name="kind"/> with its alpha and beta.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(int kind, float alpha, float beta, float v)
    {
        switch (kind)
        {
            case 0: return 1f / (1f + MathF.Exp(-v));
            case 1: return MathF.Tanh(v);
            case 2: return v > 0f ? v : 0f;
            case 3: return v * alpha + beta;
            case 4: return v >= 0f ? v : alpha * v;
            case 5: return v > alpha ? v : 0f;
            case 6: return MathF.Tanh(v * beta) * alpha;
            case 7: return Math.Clamp(v * alpha + beta, 0f, 1f);
            case 8: return v >= 0f ? v : alpha * (MathF.Exp(v) - 1f);
            case 9: return v / (1f + MathF.Abs(v));
            default: return v > 0f ? v + MathF.Log(1f + MathF.Exp(-v)) : MathF.Log(1f + MathF.Exp(v));
        }
    }
}
