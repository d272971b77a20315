using System.Globalization;
using CompressBuild.Core.Analysis;

namespace CompressBuild.Cli.Commands;

/// <summary><c>inspect MODEL</c>: inputs, outputs, operators (and which are supported), parameters.</summary>
internal sealed class InspectCommand : ICommand
{
    public string Name => "inspect";

    public string Usage => "inspect MODEL.onnx                                         inputs, outputs, ops, parameters, support";

    public IReadOnlySet<string> Options { get; } = new HashSet<string>();

    public int Execute(ParsedArgs args, TextWriter stdout)
    {
        var model = OnnxModel.Load(args.Model(Name));
        var g = model.Graph;
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine($"{model.DisplayName}: ONNX IR {model.IrVersion}, opset {model.Opset}{(model.ProducerName is null ? "" : $", producer {model.ProducerName} {model.ProducerVersion}".TrimEnd())}");
        stdout.WriteLine("inputs:");
        foreach (var i in g.RuntimeInputs) stdout.WriteLine($"  {i}");
        stdout.WriteLine("outputs:");
        foreach (var o in g.Outputs) stdout.WriteLine($"  {o}");
        var stats = ModelStats.Of(model);
        stdout.WriteLine($"operators: {g.Nodes.Count} nodes, {stats.Operators.Count} kinds");
        foreach (var (op, count, supported) in stats.Operators)
            stdout.WriteLine($"  {op,-24} x{count,-4} {(supported ? "supported" : "NOT SUPPORTED")}");
        stdout.WriteLine(string.Create(inv, $"parameters: {stats.Parameters:N0} ({stats.NonzeroParameters:N0} nonzero); initializers: {g.Initializers.Count}, {stats.InitializerBytes:N0} bytes"));
        if (stats.MacsPerSample is { } macs) stdout.WriteLine(string.Create(inv, $"MACs per sample: {macs:N0}"));
        if (model.Metadata.Count > 0)
        {
            stdout.WriteLine("metadata:");
            foreach (var (k, v) in model.Metadata) stdout.WriteLine($"  {k} = {v}");
        }
        stdout.WriteLine(stats.UnsupportedNodes.Count == 0
            ? "supported: yes, every operator runs in CompressBuild"
            : $"supported: no, {stats.UnsupportedNodes.Count} node(s) use unsupported operators");
        return 0;
    }
}
