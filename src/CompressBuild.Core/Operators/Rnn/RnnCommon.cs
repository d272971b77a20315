using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Rnn;

/// <summary>
/// Sizes and memory layout of one recurrent run. Gate pre-activations of every step live in one
/// buffer of <see cref="Rows"/> rows (in X's row order, so layout 1 needs no transpose) and
/// <see cref="GateLd"/> columns (all directions side by side).
/// </summary>
internal readonly record struct RnnGeometry(int Seq, int Batch, int Input, int Hidden, int Dirs, int Gates, bool BatchFirst)
{
    public int Rows => Seq * Batch;

    /// <summary>Gate columns of one direction.</summary>
    public int GH => Gates * Hidden;

    /// <summary>Row stride of the gate buffer.</summary>
    public int GateLd => Dirs * GH;

    /// <summary>Row of X (and of the per-row buffers) holding step <paramref name="t"/> of sequence <paramref name="b"/>.</summary>
    public int Row(int t, int b) => BatchFirst ? b * Seq + t : t * Batch + b;

    /// <summary>Rows between consecutive batch entries of one step.</summary>
    public int RowStep => BatchFirst ? Seq : 1;

    /// <summary>Offset of Y[t, d, b, :] (layout 0) or Y[b, t, d, :] (layout 1).</summary>
    public int YOffset(int t, int d, int b) => BatchFirst ? ((b * Seq + t) * Dirs + d) * Hidden : ((t * Dirs + d) * Batch + b) * Hidden;

    /// <summary>Offset of a state row: [d, b, :] (layout 0) or [b, d, :] (layout 1).</summary>
    public int StateOffset(int d, int b) => BatchFirst ? (b * Dirs + d) * Hidden : (d * Batch + b) * Hidden;
}

/// <summary>What a forward pass computed, kept in <see cref="ForwardContext.Saved"/> for backward.</summary>
internal sealed class RnnRun
{
    public RnnRun(RnnGeometry g, int[] lengths, bool clip, bool cell, bool aux)
    {
        G = g;
        Lengths = lengths;
        Gates = new float[g.Rows * g.GateLd];
        Clipped = clip ? new bool[Gates.Length] : null;
        Hprev = new float[g.Dirs][];
        Cprev = cell ? new float[g.Dirs][] : null;
        Aux = aux ? new float[g.Dirs][] : null;
        for (int d = 0; d < g.Dirs; d++)
        {
            Hprev[d] = new float[g.Rows * g.Hidden];
            if (Cprev is not null) Cprev[d] = new float[g.Rows * g.Hidden];
            if (Aux is not null) Aux[d] = new float[g.Rows * g.Hidden];
        }
    }

    public RnnGeometry G { get; }

    /// <summary>Valid steps of each sequence.</summary>
    public int[] Lengths { get; }

    /// <summary>Gate values after their activations, [rows, dirs * gates * hidden].</summary>
    public float[] Gates { get; }

    /// <summary>Where the clip bound replaced a pre-activation (its gradient is zero), or null without clip.</summary>
    public bool[]? Clipped { get; }

    /// <summary>Per direction, the hidden state entering each step, [rows, hidden].</summary>
    public float[][] Hprev { get; }

    /// <summary>Per direction, the cell state entering each step (LSTM).</summary>
    public float[][]? Cprev { get; }

    /// <summary>Per direction, one more [rows, hidden] value the cell needs in backward.</summary>
    public float[][]? Aux { get; }
}

/// <summary>Per-direction working state of a forward or backward pass.</summary>
internal sealed class RnnDirection
{
    public RnnDirection(RnnGeometry g, int d, bool reverse, int threads)
    {
        D = d;
        Reverse = reverse;
        Threads = threads;
        H = new float[g.Batch * g.Hidden];
        C = new float[g.Batch * g.Hidden];
        Scratch = new float[g.Batch * g.Hidden];
        RowA = new float[g.Hidden];
        RowB = new float[g.Hidden];
        Active = new bool[g.Batch];
    }

    public int D { get; }
    public bool Reverse { get; }
    public int Threads { get; }

    /// <summary>Hidden state (forward) or its gradient (backward), [batch, hidden].</summary>
    public float[] H { get; }

    /// <summary>Cell state or its gradient (LSTM), [batch, hidden].</summary>
    public float[] C { get; }

    /// <summary>A [batch, hidden] temporary.</summary>
    public float[] Scratch { get; }

    /// <summary>Two [hidden] temporaries for per-sequence work.</summary>
    public float[] RowA { get; }
    public float[] RowB { get; }

    /// <summary>Which sequences have step t (t &lt; length).</summary>
    public bool[] Active { get; }

    /// <summary>R of this direction, [gates * hidden, hidden] from <see cref="ROffset"/>.</summary>
    public float[] R { get; init; } = Array.Empty<float>();
    public int ROffset { get; init; }

    /// <summary>B of this direction, [2 * gates * hidden] from <see cref="BOffset"/>, or null.</summary>
    public float[]? B { get; init; }
    public int BOffset { get; init; }

    /// <summary>Peepholes (LSTM), [3 * hidden] from <see cref="POffset"/>, or null.</summary>
    public float[]? P { get; init; }
    public int POffset { get; init; }

    /// <summary>Backward: gradient of the cell's extra per-row value (GRU linear_before_reset), or null.</summary>
    public float[]? DAux { get; set; }

    /// <summary>Backward: peephole gradient accumulator, [3 * hidden].</summary>
    public float[]? DP { get; set; }
}

/// <summary>
/// Shared machinery of GRU and LSTM: attributes (direction, hidden_size, layout, clip,
/// activations), shape inference, the input projection X·Wᵀ for all steps in one Sgemm, the step
/// loop with per-sequence lengths, and backpropagation through time. Subclasses supply the cell.
/// Inputs: X, W, R, B, sequence_lens, initial_h, then op-specific ones.
/// </summary>
internal abstract class RecurrentKernel : OpKernel
{
    private readonly RnnActivation[] _activations;
    private readonly int _perDirection;

    protected RecurrentKernel(NodeContext ctx, int gates, string[] defaultActivations) : base(ctx)
    {
        Gates = gates;
        string direction = ctx.String("direction", "forward");
        Dirs = direction switch
        {
            "forward" or "reverse" => 1,
            "bidirectional" => 2,
            _ => throw ctx.Invalid($"direction '{direction}' must be forward, reverse or bidirectional"),
        };
        ReverseOnly = direction == "reverse";
        if (ctx.Has("hidden_size"))
        {
            long hs = ctx.RequiredInt("hidden_size");
            if (hs <= 0) throw ctx.Invalid($"hidden_size {hs} must be positive");
            HiddenSize = checked((int)hs);
        }
        if (ctx.Has("layout") && ctx.Opset < 14) throw ctx.Invalid("attribute 'layout' exists from opset 14");
        long layout = ctx.Int("layout", 0);
        if (layout is not (0 or 1)) throw ctx.Invalid($"layout {layout} must be 0 or 1");
        BatchFirst = layout == 1;
        if (ctx.Has("clip"))
        {
            float clip = ctx.Float("clip", 0f);
            if (!(clip > 0f)) throw ctx.Invalid($"clip {clip} must be positive");
            Clip = clip;
        }
        _perDirection = defaultActivations.Length;
        var names = ctx.Strings("activations") ?? Enumerable.Repeat(defaultActivations, Dirs).SelectMany(a => a).ToArray();
        if (names.Length != _perDirection * Dirs)
            throw ctx.Invalid($"activations lists {names.Length} functions, {ctx.Node.OpType} {direction} needs {_perDirection * Dirs}");
        _activations = RnnActivation.Parse(ctx, names);
    }

    /// <summary>Gates per direction (GRU 3, LSTM 4).</summary>
    protected int Gates { get; }

    /// <summary>1 or 2.</summary>
    protected int Dirs { get; }

    /// <summary>direction = reverse.</summary>
    protected bool ReverseOnly { get; }

    /// <summary>The hidden_size attribute, when given.</summary>
    protected int? HiddenSize { get; }

    /// <summary>layout = 1: X is [batch, seq, input].</summary>
    protected bool BatchFirst { get; }

    /// <summary>The clip threshold, or null.</summary>
    protected float? Clip { get; }

    /// <summary>Activation <paramref name="k"/> (in the op's order, e.g. f, g, h) of direction <paramref name="d"/>.</summary>
    protected RnnActivation Activation(int d, int k) => _activations[d * _perDirection + k];

    /// <summary>True when the cell keeps a cell state (LSTM).</summary>
    protected abstract bool HasCell { get; }

    /// <summary>True when the cell keeps <see cref="RnnRun.Aux"/>.</summary>
    protected abstract bool HasAux { get; }

    /// <summary>Writes the bias added to X·Wᵀ for direction d ([gates * hidden]) from B's row.</summary>
    protected abstract void InputBias(ReadOnlySpan<float> b, Span<float> dst);

    /// <summary>
    /// One step t: adds H·Rᵀ to the gates' pre-activations, applies the cell, and updates the
    /// state of the active sequences in <see cref="RnnDirection.H"/> (and C).
    /// </summary>
    protected abstract void Step(RnnRun run, RnnDirection dir, int t);

    /// <summary>
    /// Backward through step t: from the state gradients in dir.H (and dir.C) writes the gates'
    /// pre-activation gradients into <paramref name="dGates"/> and replaces the state gradients
    /// of active sequences with those of the previous state.
    /// </summary>
    protected abstract void BackStep(RnnRun run, RnnDirection dir, int t, float[] dGates);

    /// <summary>dR and the recurrent half of dB for one direction from the gate gradients.</summary>
    protected abstract void RecurrentGrads(RnnRun run, RnnDirection dir, float[] dGates, Span<float> dR, Span<float> dRb);

    /// <summary>Checks op-specific inputs (LSTM: initial_c, P).</summary>
    protected virtual void InferExtraInputs(ShapeContext ctx, Dim batch, Dim hidden)
    {
    }

    /// <summary>Index of the initial cell input (LSTM), or -1.</summary>
    protected virtual int InitialCInput => -1;

    /// <summary>Index of the peephole input (LSTM), or -1.</summary>
    protected virtual int PeepholeInput => -1;

    /// <summary>Shape of initial_h / Y_h for this layout.</summary>
    protected Dim[] StateShape(Dim batch, Dim hidden) => BatchFirst ? new[] { batch, Dirs, hidden } : new Dim[] { Dirs, batch, hidden };

    /// <summary>Throws a shape error when two known dims differ.</summary>
    protected static void Expect(ShapeContext ctx, Dim actual, Dim expected, string what)
    {
        if (actual.IsKnown && expected.IsKnown && actual != expected)
            throw ctx.Error($"{what} is {actual}, expected {expected}");
    }

    /// <summary>Checks a float input's rank and dims against <paramref name="expected"/>.</summary>
    protected void ExpectInput(ShapeContext ctx, int i, string name, Dim[] expected)
    {
        if (!ctx.HasInput(i)) return;
        if (ctx.InputType(i) != DataType.Float) throw TypeError(ctx.InputType(i), $"{name} element type");
        var s = ctx.InputShape(i);
        if (s.Length != expected.Length) throw ctx.Error($"{name} must be {Dim.Format(expected)}, got {Dim.Format(s)}");
        for (int k = 0; k < s.Length; k++) Expect(ctx, s[k], expected[k], $"dim {k} of {name} {Dim.Format(s)}");
    }

    public override void InferShapes(ShapeContext ctx)
    {
        if (ctx.InputType(0) != DataType.Float) throw TypeError(ctx.InputType(0));
        var x = ctx.InputShape(0);
        var r = ctx.InputShape(2);
        if (x.Length != 3) throw ctx.Error($"X must be 3-D, got {Dim.Format(x)}");
        if (r.Length != 3) throw ctx.Error($"R must be 3-D, got {Dim.Format(r)}");
        Dim seq = BatchFirst ? x[1] : x[0], batch = BatchFirst ? x[0] : x[1], input = x[2];
        Dim hidden = HiddenSize is { } hs ? hs : r[2];
        ExpectInput(ctx, 1, "W", new[] { Dirs, Gates * hidden, input });
        ExpectInput(ctx, 2, "R", new[] { Dirs, Gates * hidden, hidden });
        ExpectInput(ctx, 3, "B", new[] { Dirs, 2 * Gates * hidden });
        if (ctx.HasInput(4))
        {
            if (ctx.InputType(4) is not (DataType.Int32 or DataType.Int64)) throw TypeError(ctx.InputType(4), "sequence_lens element type");
            var sl = ctx.InputShape(4);
            if (sl.Length != 1) throw ctx.Error($"sequence_lens must be 1-D, got {Dim.Format(sl)}");
            Expect(ctx, sl[0], batch, "the length of sequence_lens");
        }
        ExpectInput(ctx, 5, "initial_h", StateShape(batch, hidden));
        InferExtraInputs(ctx, batch, hidden);
        var y = BatchFirst ? new[] { batch, seq, Dirs, hidden } : new[] { seq, Dirs, batch, hidden };
        int outputs = HasCell ? 3 : 2;
        if (ctx.OutputCount > outputs) throw ctx.Error($"{Node.OpType} has {outputs} outputs, the node names {ctx.OutputCount}");
        ctx.SetOutput(0, DataType.Float, y);
        for (int i = 1; i < ctx.OutputCount; i++) ctx.SetOutput(i, DataType.Float, StateShape(batch, hidden));
    }

    public override void Forward(ForwardContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var r = ctx.Input(2);
        var g = Geometry(x.Shape, r.Shape);
        var run = new RnnRun(g, Lengths(ctx.OptionalInput(4), g), Clip.HasValue, HasCell, HasAux);
        int threads = ctx.Options.MaxDegreeOfParallelism;

        // Pre-activations of every step start as bias + X·Wᵀ: one matrix product for all steps and directions.
        var b = ctx.OptionalInput(3);
        if (b is not null && g.Rows > 0)
        {
            var biasRow = run.Gates.AsSpan(0, g.GateLd);
            for (int d = 0; d < g.Dirs; d++) InputBias(b.Floats.AsSpan(d * 2 * g.GH, 2 * g.GH), biasRow.Slice(d * g.GH, g.GH));
            for (int row = 1; row < g.Rows; row++) biasRow.CopyTo(run.Gates.AsSpan(row * g.GateLd, g.GateLd));
        }
        Sgemm.Multiply(false, true, g.Rows, g.GateLd, g.Input, 1f, x.Floats, g.Input, w.Floats, g.Input,
            b is null ? 0f : 1f, run.Gates, g.GateLd, threads);

        var y = ctx.HasOutput(0) ? ctx.Output(0).Floats : null;
        var yh = ctx.HasOutput(1) ? ctx.Output(1).Floats : null;
        var yc = ctx.HasOutput(2) && HasCell ? ctx.Output(2).Floats : null;
        var h0 = ctx.OptionalInput(5)?.Floats;
        var c0 = InitialCInput >= 0 ? ctx.OptionalInput(InitialCInput)?.Floats : null;
        int inner = Math.Max(1, threads / g.Dirs);
        Parallelism.For(g.Dirs, threads, Cost(g), (d0, d1) =>
        {
            for (int d = d0; d < d1; d++)
            {
                var dir = Direction(g, d, inner, r, b, PeepholeInput >= 0 ? ctx.OptionalInput(PeepholeInput) : null);
                LoadState(g, d, h0, dir.H);
                LoadState(g, d, c0, dir.C);
                RunDirection(run, dir, y);
                // A sequence without steps has zero final states (as ONNX Runtime), not its initial ones.
                ClearEmptySequences(run, dir.H);
                ClearEmptySequences(run, dir.C);
                StoreState(g, d, dir.H, yh);
                StoreState(g, d, dir.C, yc);
            }
        });
        if (ctx.Recording) ctx.Saved = run;
    }

    private void RunDirection(RnnRun run, RnnDirection dir, float[]? y)
    {
        var g = run.G;
        int hs = g.Hidden;
        for (int s = 0; s < g.Seq; s++)
        {
            int t = dir.Reverse ? g.Seq - 1 - s : s;
            for (int b = 0; b < g.Batch; b++)
            {
                dir.Active[b] = t < run.Lengths[b];
                // Every row is recorded (inactive ones too) so the step's matrix products read finite values.
                dir.H.AsSpan(b * hs, hs).CopyTo(run.Hprev[dir.D].AsSpan(g.Row(t, b) * hs, hs));
                if (run.Cprev is not null) dir.C.AsSpan(b * hs, hs).CopyTo(run.Cprev[dir.D].AsSpan(g.Row(t, b) * hs, hs));
            }
            Step(run, dir, t);
            if (y is null) continue;
            for (int b = 0; b < g.Batch; b++)
            {
                var dst = y.AsSpan(g.YOffset(t, dir.D, b), hs);
                if (dir.Active[b]) dir.H.AsSpan(b * hs, hs).CopyTo(dst);
                else dst.Clear();
            }
        }
    }

    public override bool IsDifferentiable => true;

    public override bool IsDifferentiableInput(int index) => index != 4;

    public override void Backward(BackwardContext ctx)
    {
        foreach (var a in _activations)
            if (a.NotDifferentiableReason is { } why)
                throw new CompressBuildException(ErrorCodes.NotDifferentiable,
                    $"{Where}: node {Node.DisplayName}: {Node.OpType} has no gradient for activation {why}, so training cannot pass through it.");
        var run = (RnnRun)(ctx.Saved ?? throw new InvalidOperationException("the forward pass was not recorded"));
        var g = run.G;
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var r = ctx.Input(2);
        var b = ctx.HasInput(3) ? ctx.Input(3) : null;
        var p = PeepholeInput >= 0 && ctx.HasInput(PeepholeInput) ? ctx.Input(PeepholeInput) : null;
        int threads = ctx.Options.MaxDegreeOfParallelism;
        int inner = Math.Max(1, threads / g.Dirs);

        var dGates = new float[g.Rows * g.GateLd];
        var dy = ctx.OutputGrad(0)?.Floats;
        var dyh = ctx.OutputGrad(1)?.Floats;
        var dyc = HasCell ? ctx.OutputGrad(2)?.Floats : null;
        bool needH0 = ctx.HasInput(5) && ctx.NeedsInputGrad(5);
        bool needC0 = InitialCInput >= 0 && ctx.HasInput(InitialCInput) && ctx.NeedsInputGrad(InitialCInput);
        var dh0 = needH0 ? Tensor.Zeros(DataType.Float, ctx.Input(5).Shape) : null;
        var dc0 = needC0 ? Tensor.Zeros(DataType.Float, ctx.Input(InitialCInput).Shape) : null;
        var dW = ctx.NeedsInputGrad(1) ? Tensor.Allocate(DataType.Float, w.Shape) : null;
        var dR = ctx.NeedsInputGrad(2) ? Tensor.Allocate(DataType.Float, r.Shape) : null;
        var dB = b is not null && ctx.NeedsInputGrad(3) ? Tensor.Allocate(DataType.Float, b.Shape) : null;
        var dP = p is not null && ctx.NeedsInputGrad(PeepholeInput) ? Tensor.Allocate(DataType.Float, p.Shape) : null;

        Parallelism.For(g.Dirs, threads, Cost(g), (d0, d1) =>
        {
            for (int d = d0; d < d1; d++)
            {
                var dir = Direction(g, d, inner, r, b, p);
                if (HasAux) dir.DAux = new float[g.Rows * g.Hidden];
                if (p is not null) dir.DP = new float[3 * g.Hidden];
                LoadState(g, d, dyh, dir.H);
                LoadState(g, d, dyc, dir.C);
                ClearEmptySequences(run, dir.H);
                ClearEmptySequences(run, dir.C);
                for (int s = g.Seq - 1; s >= 0; s--)
                {
                    int t = dir.Reverse ? g.Seq - 1 - s : s;
                    for (int bi = 0; bi < g.Batch; bi++)
                    {
                        dir.Active[bi] = t < run.Lengths[bi];
                        if (dy is not null && dir.Active[bi])
                        {
                            var carry = dir.H.AsSpan(bi * g.Hidden, g.Hidden);
                            TensorPrimitives.Add(carry, dy.AsSpan(g.YOffset(t, d, bi), g.Hidden), carry);
                        }
                    }
                    BackStep(run, dir, t, dGates);
                }
                if (dh0 is not null) StoreState(g, d, dir.H, dh0.Floats);
                if (dc0 is not null) StoreState(g, d, dir.C, dc0.Floats);
                int gh = g.GH;
                if (dW is not null)
                    Sgemm.Multiply(true, false, gh, g.Input, g.Rows, 1f, dGates.AsSpan(d * gh), g.GateLd, x.Floats, g.Input,
                        0f, dW.Floats.AsSpan(d * gh * g.Input, gh * g.Input), g.Input, inner);
                var dRd = dR is not null ? dR.Floats.AsSpan(d * gh * g.Hidden, gh * g.Hidden) : Span<float>.Empty;
                var dBd = dB is not null ? dB.Floats.AsSpan(d * 2 * gh, 2 * gh) : Span<float>.Empty;
                if (dB is not null)
                {
                    // Wb gets the column sums of the gate gradients; the recurrent half is the cell's business.
                    var dWb = dBd[..gh];
                    dWb.Clear();
                    for (int row = 0; row < g.Rows; row++) TensorPrimitives.Add(dWb, dGates.AsSpan(row * g.GateLd + d * gh, gh), dWb);
                }
                RecurrentGrads(run, dir, dGates, dRd, dB is not null ? dBd[gh..] : Span<float>.Empty);
                if (dP is not null) dir.DP!.CopyTo(dP.Floats.AsSpan(d * 3 * g.Hidden, 3 * g.Hidden));
            }
        });

        if (ctx.NeedsInputGrad(0))
        {
            var dx = Tensor.Allocate(DataType.Float, x.Shape);
            Sgemm.Multiply(false, false, g.Rows, g.Input, g.GateLd, 1f, dGates, g.GateLd, w.Floats, g.Input, 0f, dx.Floats, g.Input, threads);
            ctx.SetInputGrad(0, dx);
        }
        if (dW is not null) ctx.SetInputGrad(1, dW);
        if (dR is not null) ctx.SetInputGrad(2, dR);
        if (dB is not null) ctx.SetInputGrad(3, dB);
        if (dh0 is not null) ctx.SetInputGrad(5, dh0);
        if (dc0 is not null) ctx.SetInputGrad(InitialCInput, dc0);
        if (dP is not null) ctx.SetInputGrad(PeepholeInput, dP);
    }

    /// <summary>Column sums of rows [rows, cols] at <paramref name="offset"/> with stride <paramref name="ld"/> into dst.</summary>
    protected static void ColumnSums(float[] src, int offset, int ld, int rows, Span<float> dst)
    {
        dst.Clear();
        for (int row = 0; row < rows; row++) TensorPrimitives.Add(dst, src.AsSpan(offset + row * ld, dst.Length), dst);
    }

    /// <summary>
    /// Clamps the pre-activations gates[offset..offset+length) to ±clip, recording where it bit.
    /// </summary>
    protected void ClipGates(RnnRun run, int offset, int length)
    {
        if (Clip is not { } c) return;
        var v = run.Gates.AsSpan(offset, length);
        var mask = run.Clipped!.AsSpan(offset, length);
        for (int j = 0; j < v.Length; j++)
        {
            if (v[j] > c) { v[j] = c; mask[j] = true; }
            else if (v[j] < -c) { v[j] = -c; mask[j] = true; }
        }
    }

    /// <summary>Zeroes gradients where the forward clip bound was active.</summary>
    protected static void MaskClipped(RnnRun run, int offset, Span<float> grad)
    {
        if (run.Clipped is null) return;
        var mask = run.Clipped.AsSpan(offset, grad.Length);
        for (int j = 0; j < grad.Length; j++) if (mask[j]) grad[j] = 0f;
    }

    /// <summary>Multiply-adds of one direction, to decide whether directions run in parallel.</summary>
    private static long Cost(RnnGeometry g) => (long)g.Rows * g.GH * (g.Input + g.Hidden);

    private RnnGeometry Geometry(int[] x, int[] r)
    {
        int seq = BatchFirst ? x[1] : x[0], batch = BatchFirst ? x[0] : x[1];
        return new RnnGeometry(seq, batch, x[2], HiddenSize ?? r[2], Dirs, Gates, BatchFirst);
    }

    private int[] Lengths(Tensor? lens, RnnGeometry g)
    {
        var result = new int[g.Batch];
        if (lens is null)
        {
            Array.Fill(result, g.Seq);
            return result;
        }
        var v = lens.ToInt64Array();
        for (int b = 0; b < g.Batch; b++)
        {
            if (v[b] < 0 || v[b] > g.Seq) throw ShapeError($"sequence_lens[{b}] = {v[b]} is outside [0, {g.Seq}]");
            result[b] = (int)v[b];
        }
        return result;
    }

    private RnnDirection Direction(RnnGeometry g, int d, int threads, Tensor r, Tensor? b, Tensor? p) =>
        new(g, d, ReverseOnly || d == 1, threads)
        {
            R = r.Floats,
            ROffset = d * g.GH * g.Hidden,
            B = b?.Floats,
            BOffset = d * 2 * g.GH,
            P = p?.Floats,
            POffset = d * 3 * g.Hidden,
        };

    private static void ClearEmptySequences(RnnRun run, float[] state)
    {
        for (int b = 0; b < run.G.Batch; b++)
            if (run.Lengths[b] == 0) state.AsSpan(b * run.G.Hidden, run.G.Hidden).Clear();
    }

    private static void LoadState(RnnGeometry g, int d, float[]? src, float[] dst)
    {
        if (src is null) return;
        for (int b = 0; b < g.Batch; b++) src.AsSpan(g.StateOffset(d, b), g.Hidden).CopyTo(dst.AsSpan(b * g.Hidden, g.Hidden));
    }

    private static void StoreState(RnnGeometry g, int d, float[] src, float[]? dst)
    {
        if (dst is null) return;
        for (int b = 0; b < g.Batch; b++) src.AsSpan(b * g.Hidden, g.Hidden).CopyTo(dst.AsSpan(g.StateOffset(d, b), g.Hidden));
    }
}
