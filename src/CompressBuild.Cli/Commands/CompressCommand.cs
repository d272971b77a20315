using CompressBuild.Core.Compression;

namespace CompressBuild.Cli.Commands;

/// <summary>
/// <c>compress MODEL --out DIR [--Setting value ...]</c>: what the build does for one model. Settings
/// are the names of contract section 2 (case-insensitive). Prints the one-line summary on stdout,
/// warnings as <c>warning CBxxxx: ...</c> on stderr.
/// </summary>
internal sealed class CompressCommand : ICommand
{
    public string Name => "compress";

    public string Usage => "compress MODEL.onnx --out DIR [--Quantize int8 ...]          compress as the build does (settings: contract section 2)";

    public IReadOnlySet<string> Options { get; } = new HashSet<string>(CompressionSettings.Names.Append("out"), StringComparer.OrdinalIgnoreCase);

    public int Execute(ParsedArgs args, TextWriter stdout) => Execute(args, stdout, Console.Error);

    public int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string modelPath = args.Model(Name);
        string outDir = args.Required("out", Name);
        var settings = CompressionSettings.Parse(
            CompressionSettings.Names.Select(n => (n, args.Optional(n))).Where(x => x.Item2 is not null).Select(x => new KeyValuePair<string, string>(x.n, x.Item2!)),
            Path.GetFileName(modelPath));
        var output = Compressor.Run(modelPath, settings);
        var (lines, warnings) = OnnxRuntimeVerifier.Verify(output, settings, Path.GetFileName(modelPath));
        output = output with { Report = output.Report with { Verification = lines } };
        Compressor.Write(output, outDir);
        foreach (var w in warnings) stderr.WriteLine(w);
        stdout.WriteLine(Compressor.SummaryLine(output.Report));
        return 0;
    }
}
