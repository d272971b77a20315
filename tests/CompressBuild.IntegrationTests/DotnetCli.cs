using System.Diagnostics;
using System.Text;

namespace CompressBuild.IntegrationTests;

/// <summary>Runs the dotnet CLI as a user would, with an isolated NuGet cache.</summary>
internal static class DotnetCli
{
    public sealed record Result(int ExitCode, string Output)
    {
        public void AssertSucceeded(string what) =>
            Assert.AreEqual(0, ExitCode, $"{what} failed:\n{Tail(Output)}");
    }

    /// <summary>
    /// Runs <c>dotnet ARGS</c>. <paramref name="packagesFolder"/> (NUGET_PACKAGES) isolates consumers
    /// from the global packages folder; null keeps the machine's (for building the repository).
    /// </summary>
    public static Result Run(string workingDirectory, string? packagesFolder, TimeSpan timeout, params string[] args) =>
        Start(DotnetHost(), workingDirectory, packagesFolder, timeout, args);

    /// <summary>Runs a native executable (a NativeAOT publish).</summary>
    public static Result RunExecutable(string path, string workingDirectory, TimeSpan timeout) =>
        Start(path, workingDirectory, null, timeout, Array.Empty<string>());

    private static Result Start(string program, string workingDirectory, string? packagesFolder, TimeSpan timeout, string[] args)
    {
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The test host runs inside an MSBuild-launched process: its MSBuild variables would steer the child's SDK.
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(name);
        if (packagesFolder is not null) psi.Environment["NUGET_PACKAGES"] = packagesFolder;
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', args)} did not finish in {timeout}:\n{Tail(output.ToString())}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, output.ToString());
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p : "dotnet";

    private static string Tail(string text) => text.Length <= 8000 ? text : "...\n" + text[^8000..];
}
