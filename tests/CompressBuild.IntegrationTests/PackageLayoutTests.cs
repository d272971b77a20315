using System.IO.Compression;
using System.Xml.Linq;

namespace CompressBuild.IntegrationTests;

/// <summary>What the package holds: the documented layout and nothing a consumer would compile against.</summary>
[TestClass]
public sealed class PackageLayoutTests
{
    [TestMethod]
    public void Package_HasTheDocumentedLayout()
    {
        using var zip = ZipFile.OpenRead(PackageFeed.Instance.Package);
        var entries = zip.Entries.Select(e => e.FullName.Replace('\\', '/')).ToHashSet();
        foreach (var expected in new[]
        {
            "build/CompressBuild.props", "build/CompressBuild.targets",
            "buildTransitive/CompressBuild.props", "buildTransitive/CompressBuild.targets",
            "tasks/netstandard2.0/CompressBuild.Tasks.dll",
            "analyzers/dotnet/cs/CompressBuild.Generator.dll", "analyzers/dotnet/cs/CompressBuild.Plan.dll",
            "tools/compressbuild.dll", "tools/compressbuild.runtimeconfig.json", "tools/compressbuild.deps.json",
            "tools/Microsoft.ML.OnnxRuntime.dll", "tools/Google.Protobuf.dll",
            "tools/runtimes/linux-x64/native/libonnxruntime.so", "tools/runtimes/linux-arm64/native/libonnxruntime.so",
            "tools/runtimes/osx-arm64/native/libonnxruntime.dylib",
            "tools/runtimes/win-x64/native/onnxruntime.dll", "tools/runtimes/win-arm64/native/onnxruntime.dll",
        })
        {
            Assert.IsTrue(entries.Contains(expected), $"missing {expected}");
        }
        Assert.IsFalse(entries.Any(e => e.StartsWith("lib/", StringComparison.Ordinal) || e.StartsWith("ref/", StringComparison.Ordinal)), "no lib/ or ref/ assets");
        Assert.IsFalse(entries.Any(e => e.StartsWith("tools/runtimes/android/", StringComparison.Ordinal) || e.StartsWith("tools/runtimes/ios/", StringComparison.Ordinal)), "no mobile runtimes");
        Assert.IsFalse(entries.Contains("tasks/netstandard2.0/Microsoft.Build.Utilities.Core.dll"), "MSBuild's own assemblies are not shipped");

        var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var ns = nuspec.Root!.Name.Namespace;
        var meta = nuspec.Root.Element(ns + "metadata")!;
        Assert.AreEqual("CompressBuild", meta.Element(ns + "id")?.Value);
        Assert.AreEqual(PackageFeed.Version, meta.Element(ns + "version")?.Value);
        Assert.AreEqual("true", meta.Element(ns + "developmentDependency")?.Value);
        Assert.IsFalse(meta.Descendants(ns + "dependency").Any(), "no package dependencies");
    }
}
