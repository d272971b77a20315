using System.Globalization;

namespace CompressBuild.IntegrationTests;

/// <summary>
/// A consumer of the package, as a user writes it (Nullable, TreatWarningsAsErrors, net10.0 and
/// net8.0): it builds, its generated predictors agree with ONNX Runtime, and a second build does no
/// compression work.
/// </summary>
[TestClass]
public sealed class ConsumerTests
{
    private const int Samples = 4;
    private static string _consumer = "";
    private static DotnetCli.Result _firstBuild = null!;

    private const string Project = $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFrameworks>net10.0;net8.0</TargetFrameworks>
            <RootNamespace>Consumer</RootNamespace>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="CompressBuild" Version="{PackageFeed.Version}" PrivateAssets="all" />
            <CompressModel Include="Models/lenet5.onnx" ClassName="LeNet5" Namespace="Consumer.Models" />
            <CompressModel Include="Models/lenet300.onnx" ClassName="LeNet300" />
          </ItemGroup>
        </Project>
        """;

    // Prints each predictor's constants, then its outputs for a few deterministic inputs.
    private const string Program = """
        using System.Globalization;
        using Consumer;
        using Consumer.Models;

        var lenet5 = new LeNet5();
        var lenet300 = new LeNet300();
        Console.WriteLine($"LeNet5 info {LeNet5.InputSize} {LeNet5.OutputSize} {LeNet5.WeightBytes} {LeNet5.ArenaBytes} {LeNet5.Compression}");
        Console.WriteLine($"LeNet300 info {LeNet300.InputSize} {LeNet300.OutputSize} {LeNet300.WeightBytes} {LeNet300.ArenaBytes} {LeNet300.Compression}");
        for (int s = 0; s < 4; s++)
        {
            var output = new float[LeNet5.OutputSize];
            lenet5.Predict(Sample(s, LeNet5.InputSize), output);
            Print("LeNet5", s, output);
            Print("LeNet300", s, lenet300.Predict(Sample(s, LeNet300.InputSize)));
        }

        static float[] Sample(int s, int n)
        {
            var x = new float[n];
            for (int j = 0; j < n; j++) x[j] = (float)(((s * 7919 + j * 104729) % 256) / 255.0);
            return x;
        }

        static void Print(string model, int sample, float[] values) =>
            Console.WriteLine($"{model} {sample} {string.Join(" ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}");
        """;

    [ClassInitialize]
    public static void BuildConsumer(TestContext _)
    {
        var feed = PackageFeed.Instance;
        _consumer = feed.CreateConsumer("Consumer", Project);
        PackageFeed.AddModel(_consumer, "lenet5.onnx");
        PackageFeed.AddModel(_consumer, "lenet300.onnx");
        File.WriteAllText(Path.Combine(_consumer, "Program.cs"), Program);
        _firstBuild = feed.Build(_consumer);
    }

    [TestMethod]
    public void FirstBuild_Succeeds_AndShowsTheCompressionSummaries()
    {
        _firstBuild.AssertSucceeded("the consumer build");
        // Two models, two target frameworks: four compressions, each with its summary line.
        Assert.AreEqual(2, CountLines(_firstBuild.Output, "CompressBuild: LeNet5: lenet5.onnx weights "), _firstBuild.Output);
        Assert.AreEqual(2, CountLines(_firstBuild.Output, "CompressBuild: LeNet300: lenet300.onnx weights "), _firstBuild.Output);
        foreach (var tfm in new[] { "net10.0", "net8.0" })
        {
            string obj = Path.Combine(_consumer, "obj", "Release", tfm, "compressbuild");
            foreach (var f in new[] { "LeNet5.plan", "LeNet5.onnx", "LeNet5.report.json", "LeNet5.report.md", "LeNet300.plan", "LeNet300.weights.bin" })
                Assert.IsTrue(File.Exists(Path.Combine(obj, f)), $"{tfm}: {f} missing");
            Assert.IsTrue(File.Exists(Path.Combine(_consumer, "bin", "Release", tfm, "Consumer.dll")), $"{tfm}: Consumer.dll missing");
        }
    }

    [TestMethod]
    public void Predictors_MatchOnnxRuntime()
    {
        _firstBuild.AssertSucceeded("the consumer build");
        var run = DotnetCli.Run(_consumer, PackageFeed.Instance.Packages, TimeSpan.FromMinutes(2),
            Path.Combine(_consumer, "bin", "Release", "net10.0", "Consumer.dll"));
        run.AssertSucceeded("running the consumer");
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        StringAssert.StartsWith(lines.Single(l => l.StartsWith("LeNet5 info ", StringComparison.Ordinal)), "LeNet5 info 784 10 ");
        StringAssert.StartsWith(lines.Single(l => l.StartsWith("LeNet300 info ", StringComparison.Ordinal)), "LeNet300 info 784 10 ");
        foreach (var (cls, file) in new[] { ("LeNet5", "lenet5.onnx"), ("LeNet300", "lenet300.onnx") })
        {
            for (int s = 0; s < Samples; s++)
            {
                var printed = lines.Single(l => l.StartsWith($"{cls} {s} ", StringComparison.Ordinal)).Split(' ').Skip(2)
                    .Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                var input = Tensor.FromArray(Sample(s, 784), 1, 1, 28, 28);
                var expected = OnnxRuntimeOracle.Run(TestData.Model(file), input)[0];
                Numerics.AssertClose(expected, Tensor.FromArray(printed, 1, 10), rtol: 1e-4, atol: 1e-5, what: $"{cls} sample {s}");
            }
        }
    }

    [TestMethod]
    public void SecondBuild_SkipsCompression()
    {
        _firstBuild.AssertSucceeded("the consumer build");
        var second = PackageFeed.Instance.Build(_consumer, "-v:detailed");
        second.AssertSucceeded("the second build");
        Assert.AreEqual(4, CountLines(second.Output, "Skipping target \"CompressBuild_Compress\" because all output files are up-to-date with respect to the input files."),
            "each model, each target framework");
        Assert.AreEqual(0, CountLines(second.Output, "compressbuild.dll compress "), "the engine must not run");
        Assert.AreEqual(0, CountLines(second.Output, "CompressBuild: "), "no compression summary");
    }

    /// <summary>The same inputs the consumer program makes.</summary>
    private static float[] Sample(int s, int n)
    {
        var x = new float[n];
        for (int j = 0; j < n; j++) x[j] = (float)(((s * 7919 + j * 104729) % 256) / 255.0);
        return x;
    }

    private static int CountLines(string output, string text) =>
        output.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));
}
