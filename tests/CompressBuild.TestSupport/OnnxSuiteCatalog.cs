using CompressBuild.Onnx;
using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.TestSupport;

/// <summary>
/// The ONNX backend test suite as Debian's libonnx-testdata installs it: which tests are in scope
/// (every op in the engine's v1 list or a quantization op), their data sets, and verdict lists
/// (pass, or skip with a reason) that tests commit and regenerate.
/// </summary>
public static class OnnxSuiteCatalog
{
    /// <summary>The folders counted by the conformance goal.</summary>
    public static readonly string[] Folders = { "node", "pytorch-converted", "pytorch-operator", "simple" };

    /// <summary>The v1 operator list of the engine-core issue.</summary>
    public static readonly IReadOnlySet<string> V1Ops = new HashSet<string>(
        ("Abs Add ArgMax AveragePool BatchNormalization Cast Clip Concat Constant ConstantOfShape Conv " +
         "ConvTranspose Div Dropout Elu Erf Exp Expand Flatten Gather Gemm GlobalAveragePool GlobalMaxPool " +
         "GRU HardSigmoid HardSwish Identity LayerNormalization LeakyRelu Log LogSoftmax LSTM MatMul Max " +
         "MaxPool Mean Min Mul Neg Pad Pow PRelu Reciprocal ReduceMax ReduceMean ReduceSum Relu Reshape " +
         "Resize Selu Shape Sigmoid Slice Softmax Softplus Split Sqrt Squeeze Sub Sum Tanh Tile Transpose Unsqueeze")
        .Split(' '), StringComparer.Ordinal);

    /// <summary>
    /// The quantization operators the engine imports (pre-quantized models): in scope beside
    /// <see cref="V1Ops"/>, outside the v1 pass-rate goal.
    /// </summary>
    public static readonly IReadOnlySet<string> QuantizationOps = new HashSet<string>(
        "ConvInteger DequantizeLinear DynamicQuantizeLinear MatMulInteger QLinearConv QLinearMatMul QuantizeLinear".Split(' '),
        StringComparer.Ordinal);

    /// <summary>Relative tolerance of suite comparisons.</summary>
    public const double RelativeTolerance = 1e-3;

    /// <summary>Absolute tolerance of suite comparisons.</summary>
    public const double AbsoluteTolerance = 1e-5;

    /// <summary>
    /// The in-scope tests installed under <paramref name="root"/> (every op in <see cref="V1Ops"/> or,
    /// with <paramref name="includeQuantization"/>, <see cref="QuantizationOps"/>): "folder/test" and
    /// the ops each uses.
    /// </summary>
    public static IEnumerable<(string Id, IReadOnlyList<string> Ops)> InstalledInScope(string root, bool includeQuantization = true)
    {
        bool InScope(string op) => V1Ops.Contains(op) || (includeQuantization && QuantizationOps.Contains(op));
        foreach (var folder in Folders)
        {
            var dir = Path.Combine(root, folder);
            if (!Directory.Exists(dir)) continue;
            foreach (var test in Directory.GetDirectories(dir).OrderBy(d => d, StringComparer.Ordinal))
            {
                var modelPath = Path.Combine(test, "model.onnx");
                if (!File.Exists(modelPath)) continue;
                var scan = OnnxModelScanner.Scan(File.ReadAllBytes(modelPath));
                if (scan is null || scan.Value.Domains.Any(d => d is not ("" or "ai.onnx")) || !scan.Value.Ops.All(InScope)) continue;
                yield return ($"{folder}/{Path.GetFileName(test)}", scan.Value.Ops);
            }
        }
    }

    /// <summary>One test_data_set: inputs by graph-input name and expected outputs by graph-output name.</summary>
    public sealed record DataSet(string Name, IReadOnlyDictionary<string, Tensor> Inputs, IReadOnlyList<(string Name, Tensor Expected)> Outputs);

    /// <summary>
    /// The data sets of a test, matched to the model's runtime inputs and outputs (by the tensor's
    /// stored name, else by position). ONNX 1.12 stores bfloat16 data as UINT16 of the same bits:
    /// it is read back as bfloat16 where the model declares bfloat16.
    /// </summary>
    public static IReadOnlyList<DataSet> DataSets(string testDirectory, Model model)
    {
        var inputs = model.Graph.RuntimeInputs.ToList();
        var outputs = model.Graph.Outputs;
        var result = new List<DataSet>();
        foreach (var set in Directory.GetDirectories(testDirectory, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal))
        {
            var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var inputFiles = Directory.GetFiles(set, "input_*.pb").OrderBy(IndexOf).ToList();
            for (int i = 0; i < inputFiles.Count; i++)
            {
                string? name = TensorFile.ReadName(inputFiles[i]);
                if (string.IsNullOrEmpty(name) || !inputs.Exists(r => r.Name == name))
                {
                    if (i >= inputs.Count) throw new InvalidDataException($"{set}: more input files than model inputs");
                    name = inputs[i].Name;
                }
                feeds[name] = AsDeclared(TensorFile.Read(inputFiles[i]), inputs.First(r => r.Name == name).ElementType);
            }
            var expected = new List<(string, Tensor)>();
            var outputFiles = Directory.GetFiles(set, "output_*.pb").OrderBy(IndexOf).ToList();
            for (int i = 0; i < outputFiles.Count; i++)
            {
                string? name = TensorFile.ReadName(outputFiles[i]);
                if (string.IsNullOrEmpty(name) || !outputs.Exists(o => o.Name == name)) name = outputs[i].Name;
                expected.Add((name, AsDeclared(TensorFile.Read(outputFiles[i]), outputs.First(o => o.Name == name).ElementType)));
            }
            result.Add(new DataSet(Path.GetFileName(set), feeds, expected));
        }
        return result;
    }

    private static Tensor AsDeclared(Tensor t, DataType declared)
    {
        if (declared != DataType.BFloat16 || t.DataType != DataType.UInt16) return t;
        return Tensor.FromArray(t.ArrayOf<ushort>().Select(b => new BFloat16(b)).ToArray(), t.Shape);
    }

    private static int IndexOf(string file)
    {
        string n = Path.GetFileNameWithoutExtension(file);
        return int.Parse(n[(n.LastIndexOf('_') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
