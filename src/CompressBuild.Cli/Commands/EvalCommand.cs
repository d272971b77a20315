using System.Globalization;
using CompressBuild.Core.Data;
using CompressBuild.Core.Evaluation;

namespace CompressBuild.Cli.Commands;

/// <summary><c>eval MODEL --data FILE --labels FILE</c>: top-1 accuracy of a classifier.</summary>
internal sealed class EvalCommand : ICommand
{
    public string Name => "eval";

    public string Usage => "eval MODEL.onnx --data FILE --labels FILE [--scale X]      top-1 accuracy (data: .npy, .pb, IDX; uint8 scaled by 1/255)";

    public IReadOnlySet<string> Options { get; } = new HashSet<string> { "data", "labels", "scale", "batch" };

    public int Execute(ParsedArgs args, TextWriter stdout)
    {
        var model = OnnxModel.Load(args.Model(Name));
        string data = args.Required("data", Name);
        string labels = args.Required("labels", Name);
        double? scale = args.Number("scale");
        int batch = args.Int("batch", 1000, 1);
        var set = DataSet.Load(data, labels, scale);
        var result = Evaluator.Top1(model, set, batch);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"top-1 accuracy: {result.Accuracy:F4} ({result.Correct} of {result.Total}) on {Path.GetFileName(data)}"));
        return 0;
    }
}
