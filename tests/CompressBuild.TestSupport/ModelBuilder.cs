using CompressBuild.Onnx;

namespace CompressBuild.TestSupport;

/// <summary>Builds small ONNX models in code for tests.</summary>
public sealed class ModelBuilder
{
    private readonly Graph _graph = new() { Name = "test" };
    private readonly int _opset;
    private int _counter;

    /// <summary>Starts a model importing the default-domain <paramref name="opset"/>.</summary>
    public ModelBuilder(int opset = 13) => _opset = opset;

    /// <summary>Adds a graph input; dims are ints or strings (symbolic).</summary>
    public string Input(string name, DataType type, params object[] dims)
    {
        _graph.Inputs.Add(new ValueInfo(name, type, ToDims(dims)));
        return name;
    }

    /// <summary>Adds an initializer.</summary>
    public string Initializer(string name, Tensor value)
    {
        _graph.Initializers[name] = value;
        return name;
    }

    /// <summary>Adds a float initializer with the given values and shape.</summary>
    public string Initializer(string name, float[] values, params int[] shape) => Initializer(name, Tensor.FromArray(values, shape));

    /// <summary>Adds a node with one output; returns the output's name.</summary>
    public string Node(string opType, string[] inputs, params NodeAttribute[] attributes) =>
        NodeMulti(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a node with several outputs; returns their names.</summary>
    public string[] NodeMulti(string opType, string[] inputs, int outputs, params NodeAttribute[] attributes)
    {
        int id = _counter++;
        var outs = Enumerable.Range(0, outputs).Select(i => $"{opType.ToLowerInvariant()}{id}_out{i}").ToArray();
        var node = new Node(opType, inputs, outs, $"{opType}_{id}");
        node.Attributes.AddRange(attributes);
        _graph.Nodes.Add(node);
        return outs;
    }

    /// <summary>Declares a graph output (shape optional).</summary>
    public ModelBuilder Output(string name, DataType type = DataType.Float, params object[] dims)
    {
        _graph.Outputs.Add(new ValueInfo(name, type, dims.Length == 0 ? null : ToDims(dims)));
        return this;
    }

    /// <summary>The model.</summary>
    public Model Build()
    {
        var m = new Model(_graph) { IrVersion = 8, ProducerName = "CompressBuild.Tests" };
        m.OpsetImports[""] = _opset;
        return m;
    }

    /// <summary>Serialized model bytes (for ONNX Runtime).</summary>
    public byte[] Bytes() => OnnxModel.ToBytes(Build());

    private static Dim[] ToDims(object[] dims) => dims.Select(d => d switch
    {
        int i => Dim.Of(i),
        long l => Dim.Of(l),
        string s => Dim.Symbolic(s),
        _ => throw new ArgumentException($"dim {d} must be int or string"),
    }).ToArray();
}
