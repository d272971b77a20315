using CompressBuild.Core.Execution;
using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.Conformance.Tests;

/// <summary>
/// The ONNX backend conformance suite as Debian packages it: which tests are in scope (every op in
/// the v1 list), how to run one, and the committed verdict list.
/// </summary>
internal static class OnnxSuite
{
    /// <summary>The folders of libonnx-testdata counted by the conformance goal.</summary>
    public static readonly string[] Folders = { "node", "pytorch-converted", "pytorch-operator", "simple" };

    /// <summary>The v1 operator list of the engine-core issue.</summary>
    public static readonly IReadOnlySet<string> V1Ops = new HashSet<string>(
        ("Abs Add ArgMax AveragePool BatchNormalization Cast Clip Concat Constant ConstantOfShape Conv " +
         "ConvTranspose Div Dropout Elu Erf Exp Expand Flatten Gather Gemm GlobalAveragePool GlobalMaxPool " +
         "GRU HardSigmoid HardSwish Identity LayerNormalization LeakyRelu Log LogSoftmax LSTM MatMul Max " +
         "MaxPool Mean Min Mul Neg Pad Pow PRelu Reciprocal ReduceMax ReduceMean ReduceSum Relu Reshape " +
         "Resize Selu Shape Sigmoid Slice Softmax Softplus Split Sqrt Squeeze Sub Sum Tanh Tile Transpose Unsqueeze")
        .Split(' '), StringComparer.Ordinal);

    /// <summary>Relative tolerance of the conformance comparison.</summary>
    public const double RelativeTolerance = 1e-3;

    /// <summary>Absolute tolerance of the conformance comparison.</summary>
    public const double AbsoluteTolerance = 1e-5;

    /// <summary>The committed verdict list's path (copied next to the test binary).</summary>
    public static string ListPath => Path.Combine(AppContext.BaseDirectory, "onnx-1.12-suite.txt");

    /// <summary>The list's path in the source tree (for regeneration).</summary>
    public static string SourceListPath => Path.Combine(TestData.RepoRoot, "tests", "CompressBuild.Conformance.Tests", "onnx-1.12-suite.txt");

    /// <summary>Entries of the committed list, in file order.</summary>
    public static IReadOnlyList<SuiteEntry> ReadList() => SuiteEntry.Parse(File.ReadAllLines(ListPath));

    /// <summary>
    /// The in-scope tests installed on this machine: "folder/test" and the ops each uses. Models
    /// are read with the ONNX loader; ops come from the graph's nodes.
    /// </summary>
    public static IEnumerable<(string Id, IReadOnlyList<string> Ops)> InstalledInScope(string root)
    {
        foreach (var folder in Folders)
        {
            var dir = Path.Combine(root, folder);
            if (!Directory.Exists(dir)) continue;
            foreach (var test in Directory.GetDirectories(dir).OrderBy(d => d, StringComparer.Ordinal))
            {
                var modelPath = Path.Combine(test, "model.onnx");
                if (!File.Exists(modelPath)) continue;
                var ops = OpsOf(File.ReadAllBytes(modelPath));
                if (ops is null || !ops.All(V1Ops.Contains)) continue;
                yield return ($"{folder}/{Path.GetFileName(test)}", ops);
            }
        }
    }

    /// <summary>Sorted distinct op types of a model, or null when it uses another domain.</summary>
    public static IReadOnlyList<string>? OpsOf(byte[] model)
    {
        // A raw protobuf scan would do, but the loader also rejects what we cannot run; fall back
        // to a lenient parse so an in-scope test the loader refuses still shows up (and fails).
        var m = OnnxModelScanner.Scan(model);
        if (m is null || m.Value.Domains.Any(d => d is not ("" or "ai.onnx"))) return null;
        return m.Value.Ops;
    }

    /// <summary>Runs every data set of a suite test; returns null on success or the first problem.</summary>
    public static string? Run(string root, string id)
    {
        string dir = Path.Combine(root, id);
        var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
        var executor = new Executor(model);
        var sets = Directory.GetDirectories(dir, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal).ToList();
        if (sets.Count == 0) return "no test_data_set_* folders";
        foreach (var set in sets)
        {
            var inputFiles = Directory.GetFiles(set, "input_*.pb").OrderBy(f => IndexOf(f)).ToList();
            var outputFiles = Directory.GetFiles(set, "output_*.pb").OrderBy(f => IndexOf(f)).ToList();
            var runtimeInputs = executor.Inputs;
            var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (int i = 0; i < inputFiles.Count; i++)
            {
                string? name = TensorFile.ReadName(inputFiles[i]);
                if (string.IsNullOrEmpty(name) || !runtimeInputs.Any(r => r.Name == name))
                {
                    if (i >= runtimeInputs.Count) return $"{Path.GetFileName(set)}: more input files than model inputs";
                    name = runtimeInputs[i].Name;
                }
                feeds[name] = AsDeclared(TensorFile.Read(inputFiles[i]), runtimeInputs.First(r => r.Name == name).ElementType);
            }
            var outputs = executor.Run(feeds);
            for (int i = 0; i < outputFiles.Count; i++)
            {
                string? name = TensorFile.ReadName(outputFiles[i]);
                if (string.IsNullOrEmpty(name) || !outputs.ContainsKey(name)) name = executor.Outputs[i].Name;
                var expected = AsDeclared(TensorFile.Read(outputFiles[i]), executor.Outputs.First(o => o.Name == name).ElementType);
                string? problem = Numerics.Compare(expected, outputs[name], RelativeTolerance, AbsoluteTolerance);
                if (problem is not null) return $"{Path.GetFileName(set)} output '{name}': {problem}";
            }
        }
        return null;
    }

    // ONNX 1.12's suite stores bfloat16 data as UINT16 tensors of the same bits.
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

/// <summary>One line of the verdict list: <c>folder/test pass|skip [Op,Op] reason</c>.</summary>
internal sealed record SuiteEntry(string Id, bool Pass, IReadOnlyList<string> Ops, string Reason)
{
    public static IReadOnlyList<SuiteEntry> Parse(IEnumerable<string> lines)
    {
        var result = new List<SuiteEntry>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || parts[1] is not ("pass" or "skip") || !parts[2].StartsWith('['))
                throw new FormatException($"bad suite list line: {raw}");
            var ops = parts[2].Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries);
            result.Add(new SuiteEntry(parts[0], parts[1] == "pass", ops, parts.Length > 3 ? parts[3] : ""));
        }
        return result;
    }

    public override string ToString() => $"{Id} {(Pass ? "pass" : "skip")} [{string.Join(",", Ops)}]{(Reason.Length > 0 ? " " + Reason : "")}";
}
