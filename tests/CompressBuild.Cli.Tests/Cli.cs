using System.Diagnostics;

namespace CompressBuild.Cli.Tests;

/// <summary>Runs <c>compressbuild</c> in process (fast) or as a real process (exit codes, streams).</summary>
internal static class Cli
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = CommandLineApp.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    public static (int Exit, string Out, string Err) RunProcess(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "compressbuild.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, outTask.Result, errTask.Result);
    }
}
