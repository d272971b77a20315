using CompressBuild.Onnx;

namespace CompressBuild.Core.Operators;

/// <summary>
/// Input facts in, output facts out: the one place an operator states its output types and shapes.
/// The static shape inference pass and the executor both use it, so shape rules are written once.
/// At run time every input has a value; statically, values are known only for constants.
/// </summary>
internal sealed class ShapeContext
{
    private readonly OpKernel _kernel;
    private readonly ValueFacts?[] _inputs;
    private readonly ValueFacts?[] _outputs;

    public ShapeContext(OpKernel kernel, ValueFacts?[] inputs, int outputCount)
    {
        _kernel = kernel;
        _inputs = inputs;
        _outputs = new ValueFacts?[outputCount];
    }

    /// <summary>Number of input slots (including omitted optional ones).</summary>
    public int InputCount => _inputs.Length;

    /// <summary>Number of output slots.</summary>
    public int OutputCount => _outputs.Length;

    /// <summary>True when input <paramref name="i"/> is present.</summary>
    public bool HasInput(int i) => i < _inputs.Length && _inputs[i] is not null;

    /// <summary>True when output <paramref name="i"/> is wanted (named in the node).</summary>
    public bool HasOutput(int i) => i < _kernel.Node.Outputs.Count && _kernel.Node.Outputs[i].Length > 0;

    /// <summary>Facts of a present input.</summary>
    public ValueFacts Input(int i) =>
        HasInput(i) ? _inputs[i]! : throw _kernel.ShapeError($"input {i} is required but missing");

    /// <summary>Element type of a present input.</summary>
    public DataType InputType(int i) => Input(i).Type;

    /// <summary>Shape of a present input; throws when its rank is unknown.</summary>
    public Dim[] InputShape(int i) =>
        Input(i).Shape ?? throw new UnresolvedDimException($"the shape of input '{_kernel.Node.Inputs[i]}' is unknown");

    /// <summary>Rank of a present input.</summary>
    public int InputRank(int i) => InputShape(i).Length;

    /// <summary>The input's value when known (always at run time), else null.</summary>
    public Tensor? InputValue(int i) => HasInput(i) ? _inputs[i]!.Value : null;

    /// <summary>
    /// Elements of an integer vector input as dims (symbolic where they come from a batched shape),
    /// or null when neither the value nor its symbolic form is known.
    /// </summary>
    public Dim[]? InputElements(int i) => HasInput(i) ? _inputs[i]!.Elements : null;

    /// <summary>
    /// Elements of an integer input that must be known (axes, pads, repeats): throws an
    /// unresolved-shape error naming the input when they are not.
    /// </summary>
    public long[] RequireConstantInts(int i)
    {
        var v = InputValue(i);
        if (v is not null) return v.ToInt64Array();
        var e = InputElements(i);
        if (e is not null && e.All(d => d.IsKnown)) return e.Select(d => d.Value).ToArray();
        throw new UnresolvedDimException($"input '{_kernel.Node.Inputs[i]}' of {_kernel.Node.OpType} must be a constant to know the output shape");
    }

    /// <summary>States output <paramref name="i"/>'s type and shape (null shape = unknown rank).</summary>
    public void SetOutput(int i, DataType type, Dim[]? shape) => _outputs[i] = new ValueFacts(type, shape);

    /// <summary>
    /// States output <paramref name="i"/> as a shape-like integer vector (or scalar) with these
    /// elements; when all are known it becomes a constant.
    /// </summary>
    public void SetOutputElements(int i, DataType type, Dim[] shape, Dim[] elements)
    {
        Tensor? value = null;
        if (elements.All(e => e.IsKnown))
        {
            var concrete = Dim.ToShape(shape);
            if (type == DataType.Int64) value = Tensor.FromArray(elements.Select(e => e.Value).ToArray(), concrete);
            else if (type == DataType.Int32) value = Tensor.FromArray(elements.Select(e => checked((int)e.Value)).ToArray(), concrete);
        }
        _outputs[i] = new ValueFacts(type, shape, value, elements);
    }

    /// <summary>States output <paramref name="i"/> as a known constant.</summary>
    public void SetOutputValue(int i, Tensor value) => _outputs[i] = ValueFacts.Of(value);

    /// <summary>The facts set for an output (null if the kernel did not set it).</summary>
    public ValueFacts? Output(int i) => _outputs[i];

    /// <summary>A shape error about this node.</summary>
    public CompressBuildException Error(string message) => _kernel.ShapeError(message);

    /// <summary>Normalizes an axis against a rank, or throws a shape error naming the node.</summary>
    public int Axis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Error($"axis {axis} is out of range for rank {rank}");
        return (int)a;
    }

    /// <summary>
    /// Numpy-style multidirectional broadcast of several input shapes (symbolic dims broadcast
    /// against 1 and against themselves).
    /// </summary>
    public Dim[] BroadcastInputs(params int[] inputs)
    {
        Dim[] r = Array.Empty<Dim>();
        foreach (int i in inputs)
        {
            if (!HasInput(i)) continue;
            r = Broadcast(r, InputShape(i));
        }
        return r;
    }

    /// <summary>Broadcast of two shapes; throws a shape error when incompatible.</summary>
    public Dim[] Broadcast(Dim[] a, Dim[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new Dim[rank];
        for (int k = 0; k < rank; k++)
        {
            Dim da = k - (rank - a.Length) >= 0 ? a[k - (rank - a.Length)] : 1;
            Dim db = k - (rank - b.Length) >= 0 ? b[k - (rank - b.Length)] : 1;
            if (da == db || db == Dim.Of(1)) r[k] = da;
            else if (da == Dim.Of(1)) r[k] = db;
            else throw Error($"shapes {Dim.Format(a)} and {Dim.Format(b)} cannot be broadcast together");
        }
        return r;
    }
}
