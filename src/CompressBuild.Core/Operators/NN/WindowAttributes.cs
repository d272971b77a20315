using CompressBuild.Core.Kernels;

namespace CompressBuild.Core.Operators.NN;

/// <summary>How a window op pads (the <c>auto_pad</c> attribute).</summary>
internal enum AutoPad
{
    /// <summary>Explicit <c>pads</c>.</summary>
    NotSet,

    /// <summary>Output size ceil(in / stride); an odd total padding puts the extra element at the end.</summary>
    SameUpper,

    /// <summary>Output size ceil(in / stride); an odd total padding puts the extra element at the beginning.</summary>
    SameLower,

    /// <summary>No padding.</summary>
    Valid,
}

/// <summary>
/// The window attributes shared by Conv, ConvTranspose, MaxPool and AveragePool — auto_pad,
/// kernel_shape, strides, dilations, pads — validated once per node, and the ONNX output-size rules
/// that turn them and an input shape into a <see cref="WindowGeometry"/>.
/// </summary>
internal sealed class WindowAttributes
{
    private readonly long[]? _strides;
    private readonly long[]? _dilations;
    private readonly long[]? _pads;

    private WindowAttributes(AutoPad autoPad, long[]? kernelShape, long[]? strides, long[]? dilations, long[]? pads)
    {
        AutoPad = autoPad;
        KernelShape = kernelShape;
        _strides = strides;
        _dilations = dilations;
        _pads = pads;
    }

    /// <summary>The auto_pad mode.</summary>
    public AutoPad AutoPad { get; }

    /// <summary>The kernel_shape attribute, or null when absent.</summary>
    public long[]? KernelShape { get; }

    /// <summary>The strides attribute, or null when absent (all 1).</summary>
    public long[]? Strides => _strides;

    /// <summary>The dilations attribute, or null when absent (all 1).</summary>
    public long[]? Dilations => _dilations;

    /// <summary>
    /// Reads and validates the attributes. <paramref name="allowDilations"/> is false for ops (or
    /// opsets) whose schema has no dilations attribute.
    /// </summary>
    public static WindowAttributes Read(NodeContext ctx, bool allowDilations = true)
    {
        var autoPad = ctx.String("auto_pad", "NOTSET") switch
        {
            "NOTSET" or "" => AutoPad.NotSet,
            "SAME_UPPER" => AutoPad.SameUpper,
            "SAME_LOWER" => AutoPad.SameLower,
            "VALID" => AutoPad.Valid,
            var s => throw ctx.Invalid($"auto_pad '{s}' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID"),
        };
        if (!allowDilations && ctx.Has("dilations"))
            throw ctx.Invalid($"{ctx.Node.OpType} has no dilations attribute in opset {ctx.Opset}");
        var kernel = Positive(ctx, "kernel_shape");
        var strides = Positive(ctx, "strides");
        var dilations = allowDilations ? Positive(ctx, "dilations") : null;
        var pads = ctx.Ints("pads");
        if (pads is not null)
        {
            if (pads.Length % 2 != 0) throw ctx.Invalid($"pads has {pads.Length} values; it needs a begin and an end per spatial axis");
            if (pads.Any(p => p < 0 || p > int.MaxValue)) throw ctx.Invalid($"pads [{string.Join(",", pads)}] must be non-negative");
        }
        var rank = new[] { kernel?.Length, strides?.Length, dilations?.Length, pads?.Length / 2 }.Where(r => r is not null).Distinct().ToList();
        if (rank.Count > 1)
            throw ctx.Invalid("kernel_shape, strides, dilations and pads disagree on the number of spatial axes (pads has two values per axis)");
        return new WindowAttributes(autoPad, kernel, strides, dilations, pads);
    }

    /// <summary>
    /// An int attribute introduced in opset <paramref name="since"/>: its value (default 0), or an
    /// error when an older-opset model sets it.
    /// </summary>
    public static long OpsetInt(NodeContext ctx, string name, int since)
    {
        if (ctx.Opset >= since) return ctx.Int(name, 0);
        if (ctx.Has(name)) throw ctx.Invalid($"{ctx.Node.OpType} has no {name} attribute before opset {since} (the model uses opset {ctx.Opset})");
        return 0;
    }

    /// <summary>
    /// The spatial dims of <paramref name="shape"/> (after N and C), which must be known: window
    /// sizes depend on them.
    /// </summary>
    public static int[] KnownSpatial(OpKernel op, Dim[] shape, string name)
    {
        var r = new int[shape.Length - 2];
        for (int i = 0; i < r.Length; i++)
        {
            if (!shape[i + 2].IsKnown)
                throw new UnresolvedDimException(
                    $"{op.Node.OpType} needs the spatial dimensions of {name} to be known (only the batch dimension may be symbolic); {name} has shape {Dim.Format(shape)}");
            r[i] = shape[i + 2].Known;
        }
        return r;
    }

    /// <summary>
    /// The window of Conv, MaxPool and AveragePool over an input with spatial sizes
    /// <paramref name="input"/>: output sizes floor((in + pads - dilated kernel) / stride) + 1
    /// (ceil with <paramref name="ceilMode"/>, dropping a last window that would start in the end
    /// padding), ceil(in / stride) for SAME_* with the padding split as the mode says, and no
    /// padding for VALID.
    /// </summary>
    public WindowGeometry Resolve(OpKernel op, int[] input, int[] kernel, bool ceilMode = false)
    {
        int r = CheckRank(op, input.Length);
        var output = new int[r];
        var begin = new int[r];
        var end = new int[r];
        var strides = Values(_strides, r, 1);
        var dilations = Values(_dilations, r, 1);
        for (int i = 0; i < r; i++)
        {
            int s = strides[i], dk = (kernel[i] - 1) * dilations[i] + 1;
            switch (AutoPad)
            {
                case AutoPad.SameUpper or AutoPad.SameLower:
                    output[i] = (input[i] + s - 1) / s;
                    int total = Math.Max(0, (output[i] - 1) * s + dk - input[i]);
                    begin[i] = AutoPad == AutoPad.SameUpper ? total / 2 : total - total / 2;
                    end[i] = total - begin[i];
                    break;
                default:
                    if (AutoPad == AutoPad.NotSet && _pads is not null)
                    {
                        begin[i] = (int)_pads[i];
                        end[i] = (int)_pads[i + r];
                    }
                    long span = (long)input[i] + begin[i] + end[i] - dk;
                    if (span < 0)
                        throw op.ShapeError($"along spatial axis {i} the window ({dk} wide with dilation) is larger than the padded input ({input[i] + begin[i] + end[i]})");
                    // VALID never has partial windows: its ceil formula ceil((in - dk + 1) / s) equals the floor one.
                    bool ceil = ceilMode && AutoPad == AutoPad.NotSet;
                    output[i] = (int)((ceil ? span + s - 1 : span) / s) + 1;
                    // A ceil-mode window must start inside the input or the begin padding.
                    if (ceil && (long)(output[i] - 1) * s >= input[i] + begin[i]) output[i]--;
                    break;
            }
        }
        return new WindowGeometry(input, output, kernel, strides, dilations, begin, end);
    }

    /// <summary>
    /// The window of ConvTranspose seen as the convolution it transposes: from the output Y (In) to
    /// the input X (Out, spatial sizes <paramref name="input"/>). Y's size is
    /// stride·(in-1) + output_padding + dilated kernel - pads, or output_shape (pads then split from
    /// the total: SAME_UPPER puts the odd element at the end, otherwise at the beginning), or
    /// in·stride for SAME_*.
    /// </summary>
    public WindowGeometry ResolveTranspose(OpKernel op, int[] input, int[] kernel, long[]? outputPadding, long[]? outputShape)
    {
        int r = CheckRank(op, input.Length);
        var output = new int[r];
        var begin = new int[r];
        var end = new int[r];
        var strides = Values(_strides, r, 1);
        var dilations = Values(_dilations, r, 1);
        var adjust = Values(outputPadding, r, 0);
        if (outputPadding is not null && outputPadding.Length != r)
            throw op.ShapeError($"output_padding has {outputPadding.Length} values for {r} spatial axes");
        if (outputShape is not null && outputShape.Length != r)
            throw op.ShapeError($"output_shape has {outputShape.Length} values for {r} spatial axes");
        for (int i = 0; i < r; i++)
        {
            int s = strides[i], dk = (kernel[i] - 1) * dilations[i] + 1;
            long full = (long)s * (input[i] - 1) + adjust[i] + dk;
            long size;
            if (outputShape is not null || AutoPad is AutoPad.SameUpper or AutoPad.SameLower)
            {
                size = outputShape is not null ? outputShape[i] : (long)input[i] * s;
                // A requested size beyond the full result is zero-extended at the end (like output_padding).
                long total = Math.Max(0, full - size);
                begin[i] = (int)(AutoPad == AutoPad.SameUpper ? total / 2 : total - total / 2);
            }
            else
            {
                if (AutoPad == AutoPad.NotSet && _pads is not null)
                {
                    begin[i] = (int)_pads[i];
                    end[i] = (int)_pads[i + r];
                }
                size = full - begin[i] - end[i];
            }
            if (size <= 0 || size > int.MaxValue)
                throw op.ShapeError($"along spatial axis {i} the output size would be {size}");
            output[i] = (int)size;
            end[i] = (int)(full - size - begin[i]);
        }
        // Y (output) is the big side of the transposed convolution, X the small one.
        return new WindowGeometry(output, input, kernel, strides, dilations, begin, end);
    }

    /// <summary>The output shape of MaxPool/AveragePool for input <paramref name="x"/> (spatial dims must be known).</summary>
    public Dim[] PoolShape(OpKernel op, Dim[] x, bool ceilMode)
    {
        int r = KernelShape!.Length;
        if (x.Length != r + 2)
            throw op.ShapeError($"kernel_shape has {r} axes, so X must have rank {r + 2} ([N, C, spatial…]); got {Dim.Format(x)}");
        var g = PoolGeometry(op, KnownSpatial(op, x, "X"), ceilMode);
        return [x[0], x[1], .. Dim.FromShape(g.OutputDims)];
    }

    /// <summary>The pooling window over spatial sizes <paramref name="input"/>.</summary>
    public WindowGeometry PoolGeometry(OpKernel op, int[] input, bool ceilMode) =>
        Resolve(op, input, KernelShape!.Select(k => (int)k).ToArray(), ceilMode);

    private int CheckRank(OpKernel op, int r)
    {
        if (r is < 1 or > WindowGeometry.MaxRank)
            throw op.ShapeError($"{op.Node.OpType} supports 1 to {WindowGeometry.MaxRank} spatial axes; the input has {r}");
        void Check(long[]? values, int expected, string name)
        {
            if (values is not null && values.Length != expected)
                throw op.ShapeError($"{name} has {values.Length} values but the input has {r} spatial axes");
        }
        Check(KernelShape, r, "kernel_shape");
        Check(_strides, r, "strides");
        Check(_dilations, r, "dilations");
        Check(_pads, 2 * r, "pads");
        return r;
    }

    private static int[] Values(long[]? values, int r, int fill)
    {
        var v = new int[r];
        for (int i = 0; i < r; i++) v[i] = values is null ? fill : (int)values[i];
        return v;
    }

    private static long[]? Positive(NodeContext ctx, string name)
    {
        var v = ctx.Ints(name);
        if (v is not null && v.Any(x => x < 1 || x > int.MaxValue))
            throw ctx.Invalid($"{name} [{string.Join(",", v)}] must be positive");
        return v;
    }
}
