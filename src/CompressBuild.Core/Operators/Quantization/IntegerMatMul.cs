using System.Numerics.Tensors;
using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.Quantization;

/// <summary>
/// The exact integer numpy matmul under MatMulInteger and QLinearMatMul: (A - a_zero_point) ·
/// (B - b_zero_point) accumulated in int32. A 1-D A is a row and a 1-D B a column (their unit dims
/// dropped from the result); leading batch dims broadcast. A's quantization parameters are per
/// tensor or per row (an M-vector for 2-D A, or [..., M, 1] broadcasting over A's batch dims), B's
/// per tensor or per column ([..., 1, N], or an N-vector).
/// </summary>
internal sealed class IntegerMatMul
{
    private readonly int[] _aShape;
    private readonly int[] _bShape;
    private readonly int[] _aBatchOf;
    private readonly int[] _bBatchOf;

    private IntegerMatMul(int m, int k, int n, int[] aShape, int[] bShape, int[] aBatchOf, int[] bBatchOf)
    {
        M = m;
        K = k;
        N = n;
        _aShape = aShape;
        _bShape = bShape;
        _aBatchOf = aBatchOf;
        _bBatchOf = bBatchOf;
    }

    /// <summary>Rows of each product.</summary>
    public int M { get; }

    /// <summary>Inner size.</summary>
    public int K { get; }

    /// <summary>Columns of each product.</summary>
    public int N { get; }

    /// <summary>Number of products (the broadcast batch).</summary>
    public int Batch => _aBatchOf.Length;

    private int ABatches => ShapeMath.Product(_aShape, 0, _aShape.Length - 2);

    private int BBatches => ShapeMath.Product(_bShape, 0, _bShape.Length - 2);

    /// <summary>Which batch of A product <paramref name="i"/> reads.</summary>
    public int ABatchOf(int i) => _aBatchOf[i];

    /// <summary>Which batch of B product <paramref name="i"/> reads.</summary>
    public int BBatchOf(int i) => _bBatchOf[i];

    /// <summary>
    /// The output shape of numpy matmul for inputs <paramref name="a"/> and <paramref name="b"/>
    /// (8-bit types), symbolic batch dims included.
    /// </summary>
    public static Dim[] InferShape(ShapeContext ctx, OpKernel op, int a, int b)
    {
        Quantized.RequireEightBit(op, ctx.InputType(a), "A element type");
        Quantized.RequireEightBit(op, ctx.InputType(b), "B element type");
        var sa = ctx.InputShape(a);
        var sb = ctx.InputShape(b);
        if (sa.Length == 0 || sb.Length == 0) throw ctx.Error($"inputs must have rank 1 or more, got {Dim.Format(sa)} and {Dim.Format(sb)}");
        Dim ka = sa[^1];
        Dim kb = sb.Length == 1 ? sb[0] : sb[^2];
        if (ka != kb && ka.IsKnown == kb.IsKnown)
            throw ctx.Error($"inner dimensions differ: A is {Dim.Format(sa)}, B is {Dim.Format(sb)}");
        var dims = new List<Dim>(ctx.Broadcast(sa.Length > 2 ? sa[..^2] : [], sb.Length > 2 ? sb[..^2] : []));
        if (sa.Length > 1) dims.Add(sa[^2]);
        if (sb.Length > 1) dims.Add(sb[^1]);
        return dims.ToArray();
    }

    /// <summary>The products for concrete shapes (1-D operands promoted).</summary>
    public static IntegerMatMul Plan(OpKernel op, int[] aShape, int[] bShape)
    {
        int[] a = aShape.Length == 1 ? [1, aShape[0]] : aShape;
        int[] b = bShape.Length == 1 ? [bShape[0], 1] : bShape;
        int m = a[^2], k = a[^1], n = b[^1];
        if (b[^2] != k)
            throw op.ShapeError($"inner dimensions differ: A is [{ShapeMath.Format(aShape)}], B is [{ShapeMath.Format(bShape)}]");
        var aBatch = a.AsSpan(0, a.Length - 2);
        var bBatch = b.AsSpan(0, b.Length - 2);
        var batchShape = ShapeMath.Broadcast(aBatch, bBatch)
            ?? throw op.ShapeError($"batch dimensions of [{ShapeMath.Format(aShape)}] and [{ShapeMath.Format(bShape)}] cannot be broadcast together");
        return new IntegerMatMul(m, k, n, a, b, BatchIndex(aBatch, batchShape), BatchIndex(bBatch, batchShape));
    }

    // For each position of the broadcast batch, the batch of the operand it reads.
    private static int[] BatchIndex(ReadOnlySpan<int> operand, int[] batchShape)
    {
        var index = new int[ShapeMath.ElementCount(batchShape)];
        if (ShapeMath.ElementCount(operand) == 1) return index;
        Broadcasting.Expand<int>(Enumerable.Range(0, ShapeMath.ElementCount(operand)).ToArray(), operand, index, batchShape);
        return index;
    }

    /// <summary>
    /// A's parameter (scale or zero point) per A-batch row: one value (per tensor), or
    /// ABatches·M values. An M-vector is per row; otherwise the shape must broadcast to [..., M, 1].
    /// </summary>
    public T[] RowParams<T>(OpKernel op, T[] values, int[] shape, string name)
    {
        if (values.Length == 1) return values;
        int[] p = shape.Length == 1 && shape[0] == M ? [M, 1] : shape;
        int[] target = [.. _aShape[..^1], 1];
        return Expand(op, values, p, target, name, $"a scalar or per row ([{M}] or [..., {M}, 1])");
    }

    /// <summary>
    /// B's parameter per B-batch column: one value (per tensor), or BBatches·N values; the shape
    /// must broadcast to [..., 1, N].
    /// </summary>
    public T[] ColumnParams<T>(OpKernel op, T[] values, int[] shape, string name)
    {
        if (values.Length == 1) return values;
        int[] target = [.. _bShape[..^2], 1, N];
        return Expand(op, values, shape, target, name, $"a scalar or per column ([{N}] or [..., 1, {N}])");
    }

    private static T[] Expand<T>(OpKernel op, T[] values, int[] shape, int[] target, string name, string allowed)
    {
        var b = ShapeMath.Broadcast(shape, target);
        if (b is null || !ShapeMath.SameShape(b, target))
            throw op.ShapeError($"{name} of shape [{ShapeMath.Format(shape)}] must be {allowed}");
        var r = new T[ShapeMath.ElementCount(target)];
        Broadcasting.Expand<T>(values, shape, r, target);
        return r;
    }

    /// <summary>
    /// acc [Batch, M, N] = (A - za) · (B - zb) in int32, with za from <see cref="RowParams"/> and zb
    /// from <see cref="ColumnParams"/>.
    /// </summary>
    public void Multiply(Tensor a, int[] za, Tensor b, int[] zb, int[] acc, int threads)
    {
        int m = M, k = K, n = N;
        // A's rows padded to an even length: the kernel reads them in pairs.
        int lda = k + (k & 1);
        var aShift = new short[ABatches * m * lda];
        for (int r = 0; r < ABatches * m; r++)
            Quantized.Shift(a, r * k, k, za.Length == 1 ? za[0] : za[r], aShift.AsSpan(r * lda));
        int packed = IntegerGemm.PackedLength(k, n);
        var bPacked = new short[BBatches * packed];
        var bShift = new short[k * n];
        var zbShort = zb.Length == 1 ? null : Array.ConvertAll(zb, z => (short)z);
        for (int bb = 0; bb < BBatches; bb++)
        {
            for (int p = 0; p < k; p++)
            {
                var row = bShift.AsSpan(p * n, n);
                Quantized.Shift(b, (bb * k + p) * n, n, zbShort is null ? zb[0] : 0, row);
                if (zbShort is not null) TensorPrimitives.Subtract(row, zbShort.AsSpan(bb * n, n), row);
            }
            IntegerGemm.PackB(bShift, 0, n, k, n, bPacked, bb * packed);
        }
        long cost = (long)m * n * k;
        bool parallelBatches = Parallelism.ChunkCount(Batch, cost) > 1;
        Parallelism.For(Batch, parallelBatches ? threads : 1, cost, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                IntegerGemm.Multiply(m, n, k, aShift, _aBatchOf[i] * m * lda, lda, bPacked, _bBatchOf[i] * packed,
                    acc, i * m * n, n, parallelBatches ? 1 : threads);
        });
    }
}
