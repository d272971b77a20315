using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.Core.Data;

/// <summary>
/// Samples for one model input (first axis = sample) with optional integer labels, loaded from the
/// data files of contract section 4 and converted to the model's float inputs.
/// </summary>
public sealed class DataSet
{
    /// <summary>Creates a data set from a samples tensor and optional labels.</summary>
    public DataSet(Tensor samples, long[]? labels = null)
    {
        if (samples.Rank == 0) throw new ArgumentException("samples need a first (sample) axis", nameof(samples));
        if (labels is not null && labels.Length != samples.Shape[0])
            throw new ArgumentException($"{labels.Length} labels for {samples.Shape[0]} samples", nameof(labels));
        Samples = samples;
        Labels = labels;
    }

    /// <summary>All samples, first axis = sample.</summary>
    public Tensor Samples { get; }

    /// <summary>Class labels, one per sample, or null.</summary>
    public long[]? Labels { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Samples.Shape[0];

    /// <summary>
    /// Loads samples from a file, folder or glob (files concatenated along the first axis in
    /// ordinal name order), converts them to float and multiplies by <paramref name="scale"/>
    /// (default: 1/255 for uint8 data, 1 otherwise). Optional labels from an .npy or IDX file.
    /// </summary>
    public static DataSet Load(string samplesSpec, string? labelsSpec = null, double? scale = null)
    {
        var parts = DataFile.Expand(samplesSpec).Select(DataFile.Read).ToList();
        var samples = Concatenate(parts, samplesSpec);
        var floats = ToFloat(samples, scale ?? (samples.DataType == DataType.UInt8 ? 1.0 / 255 : 1.0), samplesSpec);
        long[]? labels = null;
        if (labelsSpec is not null)
        {
            var l = Concatenate(DataFile.Expand(labelsSpec).Select(DataFile.Read).ToList(), labelsSpec);
            if (DataTypes.IsFloatingPoint(l.DataType) || l.DataType is DataType.String or DataType.Bool)
                throw new CompressBuildException(ErrorCodes.InvalidDataFile, $"labels '{labelsSpec}' must be integers, got {DataTypes.OnnxName(l.DataType)}.");
            labels = l.ToInt64Array();
            if (labels.Length != floats.Shape[0])
                throw new CompressBuildException(ErrorCodes.InputMismatch,
                    $"labels '{labelsSpec}' hold {labels.Length} values but data '{samplesSpec}' holds {floats.Shape[0]} samples. Use matching files.");
        }
        return new DataSet(floats, labels);
    }

    /// <summary>Samples [start, start+count) as a batch tensor.</summary>
    public Tensor Batch(int start, int count) => Slice(Samples, start, count);

    /// <summary>The samples at the given indices, in order, as a batch tensor.</summary>
    public Tensor Gather(ReadOnlySpan<int> indices)
    {
        int per = Samples.Length / Count;
        var shape = (int[])Samples.Shape.Clone();
        shape[0] = indices.Length;
        var r = Tensor.Allocate(DataType.Float, shape);
        var src = Samples.Floats;
        var dst = r.Floats;
        for (int i = 0; i < indices.Length; i++) Array.Copy(src, (long)indices[i] * per, dst, (long)i * per, per);
        return r;
    }

    /// <summary>Reshapes each sample to the model input's per-sample shape (e.g. [784] → [1,28,28]).</summary>
    public DataSet ReshapedTo(IReadOnlyList<Dim> inputShape, string inputName)
    {
        if (inputShape.Count == 0) return this;
        var perSample = inputShape.Skip(1).ToArray();
        if (perSample.Any(d => !d.IsKnown)) return this;
        int want = perSample.Aggregate(1, (a, d) => a * (int)d.Value);
        int have = Samples.Length / Math.Max(Count, 1);
        if (have != want)
            throw new CompressBuildException(ErrorCodes.InputMismatch,
                $"each sample has {have} values ([{ShapeMath.Format(Samples.Shape.AsSpan(1))}]) but model input '{inputName}' takes {want} ({Dim.Format(inputShape.ToArray())}). Use data of the model's input shape.");
        var shape = new[] { Count }.Concat(perSample.Select(d => (int)d.Value)).ToArray();
        return new DataSet(Samples.Reshape(shape), Labels);
    }

    private static Tensor Concatenate(List<Tensor> parts, string spec)
    {
        if (parts.Count == 1) return parts[0];
        var first = parts[0];
        foreach (var p in parts)
            if (p.DataType != first.DataType || p.Rank != first.Rank || !p.Shape.AsSpan(1).SequenceEqual(first.Shape.AsSpan(1)))
                throw new CompressBuildException(ErrorCodes.InvalidDataFile, $"the files of '{spec}' differ in type or per-sample shape; use files of one kind.");
        var shape = (int[])first.Shape.Clone();
        shape[0] = parts.Sum(p => p.Shape[0]);
        var r = Tensor.Allocate(first.DataType, shape);
        int offset = 0;
        foreach (var p in parts)
        {
            Array.Copy(p.Data, 0, r.Data, offset, p.Length);
            offset += p.Length;
        }
        return r;
    }

    private static Tensor ToFloat(Tensor t, double scale, string spec)
    {
        if (t.DataType is DataType.String or DataType.Bool)
            throw new CompressBuildException(ErrorCodes.InvalidDataFile, $"data '{spec}' holds {DataTypes.OnnxName(t.DataType)} values; models take numbers.");
        if (t.DataType == DataType.Float && scale == 1.0) return t;
        var r = Tensor.Allocate(DataType.Float, t.Shape);
        var d = r.Floats;
        if (t.DataType == DataType.UInt8 && t.Data is byte[] b)
        {
            float s = (float)scale;
            for (int i = 0; i < d.Length; i++) d[i] = b[i] * s;
        }
        else
        {
            for (int i = 0; i < d.Length; i++) d[i] = (float)(t.GetDouble(i) * scale);
        }
        return r;
    }

    private static Tensor Slice(Tensor t, int start, int count)
    {
        int per = t.Length / t.Shape[0];
        var shape = (int[])t.Shape.Clone();
        shape[0] = count;
        var r = Tensor.Allocate(t.DataType, shape);
        Array.Copy(t.Data, (long)start * per, r.Data, 0, (long)count * per);
        return r;
    }
}
