using System.Reflection;
using CompressBuild.Cli.Commands;

namespace CompressBuild.Cli;

/// <summary>
/// Entry point shared by the program and the tests: dispatches a command and turns every
/// <see cref="CompressBuildException"/> into one <c>error CBxxxx: ...</c> line and exit code 1.
/// </summary>
internal static class CommandLineApp
{
    /// <summary>Code for bugs: anything other than a <see cref="CompressBuildException"/>.</summary>
    public const string InternalErrorCode = "CB9001";

    private static readonly ICommand[] Commands = { new RunCommand(), new InspectCommand(), new EvalCommand(), new CompressCommand() };

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                stdout.Write(Usage());
                return args.Length == 0 ? 1 : 0;
            }
            if (args[0] is "--version")
            {
                stdout.WriteLine(Version);
                return 0;
            }
            var command = Commands.FirstOrDefault(c => c.Name == args[0])
                ?? throw new CompressBuildException(ErrorCodes.Usage, $"unknown command '{args[0]}'; commands: {string.Join(", ", Commands.Select(c => c.Name))}. Run 'compressbuild --help'.");
            var parsed = ParsedArgs.Parse(args.AsSpan(1), command);
            return command is CompressCommand compress ? compress.Execute(parsed, stdout, stderr) : command.Execute(parsed, stdout);
        }
        catch (CompressBuildException e)
        {
            stderr.WriteLine(e.ToString());
            return 1;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"error {InternalErrorCode}: internal error in CompressBuild ({e.GetType().Name}: {e.Message}). Please report it with the model and command line.");
            return 1;
        }
    }

    public static string Version =>
        typeof(CommandLineApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static string Usage()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"compressbuild {Version}: compresses ONNX models for small devices.");
        sb.AppendLine();
        sb.AppendLine("Usage:");
        foreach (var c in Commands) sb.AppendLine($"  compressbuild {c.Usage}");
        sb.AppendLine();
        sb.AppendLine("Exit code 0 on success; 1 with 'error CBxxxx: ...' on stderr for bad input.");
        return sb.ToString();
    }
}
