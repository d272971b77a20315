using System.Reflection;
using CompressBuild.Onnx;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace CompressBuild.Tasks.Tests;

/// <summary>A temporary project folder with models, and the tasks run on it as the targets run them.</summary>
internal sealed class TestProject
{
    public TestProject()
    {
        Directory = TestData.TempDirectory("tasks");
        ProjectFile = Path.Combine(Directory, "App.csproj");
        File.WriteAllText(ProjectFile, "<Project Sdk=\"Microsoft.NET.Sdk\" />");
        OutputDirectory = Path.Combine(Directory, "obj", "compressbuild");
    }

    /// <summary>The engine built with the tests (src/CompressBuild.Cli).</summary>
    public static string EnginePath { get; } =
        typeof(TestProject).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CompressBuildEngine").Value!;

    public string Directory { get; }
    public string ProjectFile { get; }
    public string OutputDirectory { get; }
    public MockBuildEngine Engine { get; } = new();

    /// <summary>Copies a reference model to <c>Models/NAME</c>; returns the item spec.</summary>
    public string AddModel(string fileName, string? as_ = null)
    {
        string spec = "Models/" + (as_ ?? fileName);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "Models"));
        File.Copy(TestData.Model(fileName), Path.Combine(Directory, spec));
        return spec;
    }

    /// <summary>Writes a model built in code to <c>Models/NAME</c>; returns the item spec.</summary>
    public string AddModel(string fileName, Model model)
    {
        string spec = "Models/" + fileName;
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "Models"));
        OnnxModel.Save(model, Path.Combine(Directory, spec));
        return spec;
    }

    public static ITaskItem Item(string spec, params (string Name, string Value)[] metadata)
    {
        var item = new TaskItem(spec);
        foreach (var (name, value) in metadata) item.SetMetadata(name, value);
        return item;
    }

    public ResolveCompressModels Resolver(params ITaskItem[] models) => new()
    {
        BuildEngine = Engine,
        Models = models,
        OutputDirectory = OutputDirectory,
        ProjectFile = ProjectFile,
        EnginePath = EnginePath,
        DefaultNamespace = "App",
    };

    public CompressModels Compressor(ITaskItem[] resolved, string dotnetHost = "") => new()
    {
        BuildEngine = Engine,
        Models = resolved,
        EnginePath = EnginePath,
        ProjectFile = ProjectFile,
        DotnetHostPath = dotnetHost,
    };

    /// <summary>Resolves then compresses, as the targets do; returns the compress task (null if resolving failed).</summary>
    public CompressModels? Build(params ITaskItem[] models)
    {
        var resolve = Resolver(models);
        if (!resolve.Execute()) return null;
        var compress = Compressor(resolve.ResolvedModels);
        compress.Execute();
        return compress;
    }
}
