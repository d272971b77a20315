using CompressBuild.Core.Execution;
using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.Cli.Commands;

/// <summary>
/// <c>run MODEL --input FILE... --out DIR</c>: runs the reference executor on .pb/.npy inputs (one
/// file per model input, batched along the first axis) and writes DIR/output_i.pb per graph output.
/// </summary>
internal sealed class RunCommand : ICommand
{
    public string Name => "run";

    public string Usage => "run MODEL.onnx --input FILE [--input FILE ...] --out DIR   run the model (inputs: .pb or .npy, one per model input)";

    public IReadOnlySet<string> Options { get; } = new HashSet<string> { "input", "out" };

    public int Execute(ParsedArgs args, TextWriter stdout)
    {
        string modelPath = args.Model(Name);
        var inputFiles = args.All("input");
        string outDir = args.Required("out", Name);
        if (inputFiles.Count == 0) throw new CompressBuildException(ErrorCodes.Usage, "'run' needs at least one --input FILE (.pb or .npy).");

        var model = OnnxModel.Load(modelPath);
        var executor = new Executor(model);
        var feeds = MapInputs(executor, inputFiles, model.DisplayName);
        var outputs = executor.Run(feeds);

        // Everything is computed before anything is written: a failure leaves no partial output.
        Directory.CreateDirectory(outDir);
        for (int i = 0; i < executor.Outputs.Count; i++)
        {
            var info = executor.Outputs[i];
            var t = outputs[info.Name];
            string path = Path.Combine(outDir, $"output_{i}.pb");
            TensorFile.Write(path, t, info.Name);
            stdout.WriteLine($"{path}: {info.Name} {t}");
        }
        return 0;
    }

    private static Dictionary<string, Tensor> MapInputs(Executor executor, IReadOnlyList<string> files, string model)
    {
        var inputs = executor.Inputs;
        if (files.Count != inputs.Count)
            throw new CompressBuildException(ErrorCodes.InputMismatch,
                $"{model} takes {inputs.Count} input(s) ({string.Join(", ", inputs.Select(i => i.ToString()))}); {files.Count} --input file(s) given. Give one file per input, in order.");
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < files.Count; i++)
        {
            string file = files[i];
            string lower = file.ToLowerInvariant();
            if (!lower.EndsWith(".pb", StringComparison.Ordinal) && !lower.EndsWith(".npy", StringComparison.Ordinal))
            {
                if (!File.Exists(file)) throw new CompressBuildException(ErrorCodes.InputFileMissing, $"input file '{file}' does not exist. Check the path.");
                throw new CompressBuildException(ErrorCodes.InvalidDataFile, $"input file '{file}' must be an ONNX TensorProto .pb or a NumPy .npy file.");
            }
            var tensor = DataFile.Read(file);
            string? name = lower.EndsWith(".pb", StringComparison.Ordinal) ? TensorFile.ReadName(file) : null;
            var info = name is not null && inputs.FirstOrDefault(x => x.Name == name) is { } byName ? byName : inputs[i];
            if (feeds.ContainsKey(info.Name))
                throw new CompressBuildException(ErrorCodes.InputMismatch, $"two --input files feed model input '{info.Name}'; give one file per input.");
            if (info.ElementType != DataType.Undefined && tensor.DataType != info.ElementType)
                throw new CompressBuildException(ErrorCodes.InputMismatch,
                    $"input file '{file}' holds {DataTypes.OnnxName(tensor.DataType)} but model input '{info.Name}' is {DataTypes.OnnxName(info.ElementType)}; convert the data (e.g. numpy's astype).");
            feeds[info.Name] = tensor;
        }
        return feeds;
    }
}
