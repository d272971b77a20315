using System.Reflection;

namespace CompressBuild.IntegrationTests;

/// <summary>
/// The CompressBuild package packed from this repository into a temporary folder feed, once per
/// test run, with a NuGet packages folder of its own (a stale 0.1.0 in the global cache must not
/// stand in for the fresh one). Consumers are created next to it.
/// </summary>
internal sealed class PackageFeed
{
    public const string Version = "0.1.0";

    private static readonly Lazy<PackageFeed> Shared = new(() => new PackageFeed(), LazyThreadSafetyMode.ExecutionAndPublication);

    private PackageFeed()
    {
        Root = TestData.TempDirectory("package");
        Feed = Path.Combine(Root, "feed");
        Packages = Path.Combine(Root, "packages");
        var metadata = typeof(PackageFeed).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
        var args = new List<string> { "pack", Path.Combine(TestData.RepoRoot, "src", "CompressBuild", "CompressBuild.csproj"), "-c", metadata["Configuration"] ?? "Release", "-o", Feed, "-tl:off" };
        if (metadata.TryGetValue("ArtifactsPath", out var artifacts) && !string.IsNullOrEmpty(artifacts))
            args.AddRange(new[] { "--artifacts-path", artifacts });
        // The repository restores from the machine's packages folder as usual; only consumers get an isolated one.
        DotnetCli.Run(TestData.RepoRoot, null, TimeSpan.FromMinutes(15), args.ToArray()).AssertSucceeded("dotnet pack src/CompressBuild");
        Package = Path.Combine(Feed, $"CompressBuild.{Version}.nupkg");
        Assert.IsTrue(File.Exists(Package), $"{Package} was not produced");
    }

    /// <summary>The feed of this test run (packing it on first use).</summary>
    public static PackageFeed Instance => Shared.Value;

    /// <summary>
    /// Deletes the feed, the packages folder (hundreds of MB) and the consumers, unless
    /// COMPRESSBUILD_KEEP_TEST_FILES=1 asks to keep them for a look.
    /// </summary>
    public static void DeleteIfCreated()
    {
        if (!Shared.IsValueCreated || Environment.GetEnvironmentVariable("COMPRESSBUILD_KEEP_TEST_FILES") == "1") return;
        try
        {
            Directory.Delete(Shared.Value.Root, recursive: true);
        }
        catch (IOException)
        {
            // A process still holding a file: the temp folder is cleaned by the OS eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public string Root { get; }
    public string Feed { get; }
    public string Packages { get; }
    public string Package { get; }

    /// <summary>
    /// A consumer project folder: <c>NAME/NAME.csproj</c> with the given body, a NuGet.config that
    /// adds the feed to this machine's sources, and empty Directory.Build files to stop the search
    /// for others.
    /// </summary>
    public string CreateConsumer(string name, string projectBody)
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="compressbuild-local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        foreach (var f in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            File.WriteAllText(Path.Combine(dir, f), "<Project />");
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), projectBody);
        return dir;
    }

    /// <summary>Copies a reference model into the consumer's Models folder.</summary>
    public static void AddModel(string consumer, string fileName)
    {
        Directory.CreateDirectory(Path.Combine(consumer, "Models"));
        File.Copy(TestData.Model(fileName), Path.Combine(consumer, "Models", fileName), overwrite: true);
    }

    public DotnetCli.Result Build(string consumer, params string[] extra) =>
        DotnetCli.Run(consumer, Packages, TimeSpan.FromMinutes(10), new[] { "build", "-c", "Release", "-tl:off", "-nr:false" }.Concat(extra).ToArray());
}
