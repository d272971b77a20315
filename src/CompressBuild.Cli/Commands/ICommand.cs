namespace CompressBuild.Cli.Commands;

/// <summary>One <c>compressbuild</c> command.</summary>
internal interface ICommand
{
    /// <summary>The command word, e.g. <c>run</c>.</summary>
    string Name { get; }

    /// <summary>One usage line (without the program name).</summary>
    string Usage { get; }

    /// <summary>Option names the command accepts (without <c>--</c>).</summary>
    IReadOnlySet<string> Options { get; }

    /// <summary>Runs the command; returns the exit code. Bad input throws CompressBuildException.</summary>
    int Execute(ParsedArgs args, TextWriter stdout);
}
