using System.Numerics;
using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Linear;

/// <summary>
/// MatMul: numpy matmul. A 1-D A is a row [1,K] and a 1-D B a column [K,1], their unit dims dropped
/// from the result; leading (batch) dims broadcast. Opset 1 (float types), 9 and 13 (adds integer
/// types, then bfloat16) compute the same. Float uses the blocked SGEMM (one call over all batches
/// when B is shared); double and 32/64-bit integers use a plain loop.
/// </summary>
[OnnxOperator("MatMul")]
internal sealed class MatMul : OpKernel
{
    public MatMul(NodeContext ctx) : base(ctx)
    {
    }

    public override void InferShapes(ShapeContext ctx)
    {
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        var type = ctx.InputType(0);
        if (type is not (DataType.Float or DataType.Double or DataType.Int32 or DataType.Int64 or DataType.UInt32 or DataType.UInt64))
            throw TypeError(type);
        if (ctx.InputType(1) != type)
            throw ctx.Error($"A is {DataTypes.OnnxName(type)} but B is {DataTypes.OnnxName(ctx.InputType(1))}");
        if (a.Length == 0 || b.Length == 0) throw ctx.Error($"inputs must have rank 1 or more, got {Dim.Format(a)} and {Dim.Format(b)}");
        Dim ka = a[^1];
        Dim kb = b.Length == 1 ? b[0] : b[^2];
        // A known size against a symbolic one can only be checked at run time.
        if (ka != kb && ka.IsKnown == kb.IsKnown)
            throw ctx.Error($"inner dimensions differ: A is {Dim.Format(a)}, B is {Dim.Format(b)}");
        var batch = ctx.Broadcast(a.Length > 2 ? a[..^2] : Array.Empty<Dim>(), b.Length > 2 ? b[..^2] : Array.Empty<Dim>());
        var dims = new List<Dim>(batch);
        if (a.Length > 1) dims.Add(a[^2]);
        if (b.Length > 1) dims.Add(b[^1]);
        ctx.SetOutput(0, type, dims.ToArray());
    }

    public override void Forward(ForwardContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        var y = ctx.Output(0);
        var p = PlanFor(a.Shape, b.Shape);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        // Dispatch on DataType: the CLR lets byte[] match sbyte[] (and uint[] int[], ...).
        switch (a.DataType)
        {
            case DataType.Float: { var af = a.ArrayOf<float>(); MultiplyFloat(p, af, b.Floats, y.Floats, threads); break; }
            case DataType.Double: { var ad = a.ArrayOf<double>(); MultiplyGeneric(p, ad, b.ArrayOf<double>(), y.ArrayOf<double>()); break; }
            case DataType.Int32: { var ai = a.ArrayOf<int>(); MultiplyGeneric(p, ai, b.ArrayOf<int>(), y.ArrayOf<int>()); break; }
            case DataType.Int64: { var al = a.ArrayOf<long>(); MultiplyGeneric(p, al, b.ArrayOf<long>(), y.ArrayOf<long>()); break; }
            case DataType.UInt32: { var au = a.ArrayOf<uint>(); MultiplyGeneric(p, au, b.ArrayOf<uint>(), y.ArrayOf<uint>()); break; }
            case DataType.UInt64: { var aul = a.ArrayOf<ulong>(); MultiplyGeneric(p, aul, b.ArrayOf<ulong>(), y.ArrayOf<ulong>()); break; }
            default: throw TypeError(a.DataType);
        }
    }

    public override bool IsDifferentiable => true;

    public override void Backward(BackwardContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        var dy = ctx.OutputGrad(0)!.Floats;
        var p = PlanFor(a.Shape, b.Shape);
        int threads = ctx.Options.MaxDegreeOfParallelism;
        var af = a.Floats;
        var bf = b.Floats;
        int m = p.M, n = p.N, k = p.K;
        if (ctx.NeedsInputGrad(0))
        {
            // dA = dY · Bᵀ per batch, summed over the batches A was broadcast to.
            var da = new float[a.Length];
            if (p.SharedB)
                Sgemm.Multiply(false, true, p.Batch * m, k, n, 1f, dy, n, bf, n, 0f, da, k, threads);
            else
                RunBatches(p.Batch, (long)m * n * k, p.ACount == p.Batch, threads, (i, t) =>
                    Sgemm.Multiply(false, true, m, k, n, 1f, dy.AsSpan(i * m * n), n, bf.AsSpan(p.BOffsets[i]), n,
                        p.ACount == p.Batch ? 0f : 1f, da.AsSpan(p.AOffsets[i]), k, t));
            ctx.SetInputGrad(0, Tensor.FromArray(da, a.Shape));
        }
        if (ctx.NeedsInputGrad(1))
        {
            // dB = Aᵀ · dY per batch, summed over the batches B was broadcast to.
            var db = new float[b.Length];
            if (p.SharedB)
                Sgemm.Multiply(true, false, k, n, p.Batch * m, 1f, af, k, dy, n, 0f, db, n, threads);
            else
                RunBatches(p.Batch, (long)m * n * k, p.BCount == p.Batch, threads, (i, t) =>
                    Sgemm.Multiply(true, false, k, n, m, 1f, af.AsSpan(p.AOffsets[i]), k, dy.AsSpan(i * m * n), n,
                        p.BCount == p.Batch ? 0f : 1f, db.AsSpan(p.BOffsets[i]), n, t));
            ctx.SetInputGrad(1, Tensor.FromArray(db, b.Shape));
        }
    }

    /// <summary>
    /// The product as Batch independent [M,K]·[K,N] products at the given element offsets.
    /// SharedB: B has no batch of its own and A is not broadcast, so all batches are one [Batch·M,K]·[K,N].
    /// </summary>
    private sealed record Plan(int M, int K, int N, int Batch, int[] AOffsets, int[] BOffsets, int ACount, int BCount)
    {
        public bool SharedB => BCount == 1 && ACount == Batch;
    }

    private Plan PlanFor(int[] aShape, int[] bShape)
    {
        int[] a = aShape.Length == 1 ? [1, aShape[0]] : aShape;
        int[] b = bShape.Length == 1 ? [bShape[0], 1] : bShape;
        int m = a[^2], k = a[^1], n = b[^1];
        if (b[^2] != k)
            throw ShapeError($"inner dimensions differ: A is [{ShapeMath.Format(aShape)}], B is [{ShapeMath.Format(bShape)}]");
        var aBatch = a.AsSpan(0, a.Length - 2);
        var bBatch = b.AsSpan(0, b.Length - 2);
        var batchShape = ShapeMath.Broadcast(aBatch, bBatch)
            ?? throw ShapeError($"batch dimensions of [{ShapeMath.Format(aShape)}] and [{ShapeMath.Format(bShape)}] cannot be broadcast together");
        int batch = ShapeMath.ElementCount(batchShape);
        var aStrides = Broadcasting.Strides(aBatch, batchShape);
        var bStrides = Broadcasting.Strides(bBatch, batchShape);
        var aOff = new int[batch];
        var bOff = new int[batch];
        var index = new int[batchShape.Length];
        int ai = 0, bi = 0;
        for (int i = 0; i < batch; i++)
        {
            aOff[i] = ai * m * k;
            bOff[i] = bi * k * n;
            // Advance the batch multi-index, carrying the broadcast (stride 0) positions along.
            for (int d = batchShape.Length - 1; d >= 0; d--)
            {
                index[d]++;
                ai += aStrides[d];
                bi += bStrides[d];
                if (index[d] < batchShape[d]) break;
                ai -= aStrides[d] * index[d];
                bi -= bStrides[d] * index[d];
                index[d] = 0;
            }
        }
        return new Plan(m, k, n, batch, aOff, bOff, ShapeMath.ElementCount(aBatch), ShapeMath.ElementCount(bBatch));
    }

    private static void MultiplyFloat(Plan p, float[] a, float[] b, float[] y, int threads)
    {
        int m = p.M, n = p.N, k = p.K;
        if (p.SharedB)
        {
            Sgemm.Multiply(false, false, p.Batch * m, n, k, 1f, a, k, b, n, 0f, y, n, threads);
            return;
        }
        RunBatches(p.Batch, (long)m * n * k, independent: true, threads, (i, t) =>
            Sgemm.Multiply(false, false, m, n, k, 1f, a.AsSpan(p.AOffsets[i]), k, b.AsSpan(p.BOffsets[i]), n, 0f, y.AsSpan(i * m * n), n, t));
    }

    // Many small products run one per thread; a large one lets SGEMM split its rows instead.
    // Products that write to the same place (a broadcast input's gradient) run in order.
    private static void RunBatches(int batch, long workPerBatch, bool independent, int threads, Action<int, int> gemm)
    {
        if (independent && batch > 1 && workPerBatch < 1_000_000)
            Parallelism.For(batch, threads, workPerBatch, (start, end) =>
            {
                for (int i = start; i < end; i++) gemm(i, 1);
            });
        else
            for (int i = 0; i < batch; i++) gemm(i, threads);
    }

    private static void MultiplyGeneric<T>(Plan p, T[] a, T[] b, T[] y) where T : INumber<T>
    {
        int m = p.M, n = p.N, k = p.K;
        Array.Clear(y);
        for (int i = 0; i < p.Batch; i++)
        {
            for (int r = 0; r < m; r++)
            {
                var row = y.AsSpan(i * m * n + r * n, n);
                for (int q = 0; q < k; q++)
                    TensorPrimitives.MultiplyAdd<T>(b.AsSpan(p.BOffsets[i] + q * n, n), a[p.AOffsets[i] + r * k + q], row, row);
            }
        }
    }
}
