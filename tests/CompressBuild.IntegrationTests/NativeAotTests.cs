using System.Globalization;

namespace CompressBuild.IntegrationTests;

/// <summary>
/// A consumer published with NativeAOT (PublishAot=true, warnings as errors): the generated
/// predictors compile without trimming/AOT warnings, the resource-embedded weights load in a native
/// executable, and its outputs agree with ONNX Runtime.
/// </summary>
[TestClass]
public sealed class NativeAotTests
{
    private const string Project = $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            <PublishAot>true</PublishAot>
            <InvariantGlobalization>true</InvariantGlobalization>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="CompressBuild" Version="{PackageFeed.Version}" PrivateAssets="all" />
            <!-- LeNet-5 int8 embeds its weights as a literal, LeNet-300 fp32 as a resource. -->
            <CompressModel Include="Models/lenet5.onnx" ClassName="LeNet5" Quantize="int8" />
            <CompressModel Include="Models/lenet300.onnx" ClassName="LeNet300" />
          </ItemGroup>
        </Project>
        """;

    private const string Program = """
        using System.Globalization;
        using AotConsumer;

        var x = new float[784];
        for (int j = 0; j < x.Length; j++) x[j] = (float)((j * 104729 % 256) / 255.0);
        Console.WriteLine("LeNet5 " + string.Join(" ", new LeNet5().Predict(x).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        Console.WriteLine("LeNet300 " + string.Join(" ", new LeNet300().Predict(x).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        """;

    [TestMethod]
    public void NativeAotPublish_RunsThePredictors_LikeOnnxRuntime()
    {
        var feed = PackageFeed.Instance;
        string consumer = feed.CreateConsumer("AotConsumer", Project);
        PackageFeed.AddModel(consumer, "lenet5.onnx");
        PackageFeed.AddModel(consumer, "lenet300.onnx");
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), Program);
        string publishDir = Path.Combine(consumer, "publish");
        var publish = DotnetCli.Run(consumer, feed.Packages, TimeSpan.FromMinutes(15),
            "publish", "-c", "Release", "-r", "linux-x64", "-o", publishDir, "-tl:off", "-nr:false");
        publish.AssertSucceeded("the NativeAOT publish");
        Assert.IsFalse(publish.Output.Contains("warning IL", StringComparison.Ordinal), "trimming/AOT warnings:\n" + publish.Output);

        string exe = Path.Combine(publishDir, "AotConsumer");
        Assert.IsTrue(File.Exists(exe), $"no native executable at {exe}");
        Assert.IsFalse(File.Exists(Path.Combine(publishDir, "AotConsumer.dll")), "the publish is not native");
        var run = DotnetCli.RunExecutable(exe, consumer, TimeSpan.FromMinutes(1));
        run.AssertSucceeded("running the native consumer");

        var x = new float[784];
        for (int j = 0; j < x.Length; j++) x[j] = (float)((j * 104729 % 256) / 255.0);
        var input = Tensor.FromArray(x, 1, 1, 28, 28);
        foreach (var (cls, file, rtol) in new[] { ("LeNet5", "lenet5.onnx", 0.1), ("LeNet300", "lenet300.onnx", 1e-4) })
        {
            var printed = run.Output.Split('\n').Single(l => l.StartsWith(cls + " ", StringComparison.Ordinal)).Trim().Split(' ').Skip(1)
                .Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var expected = OnnxRuntimeOracle.Run(TestData.Model(file), input)[0];
            // LeNet-5 runs with int8 weights here: close to the float model, and the same class.
            Numerics.AssertClose(expected, Tensor.FromArray(printed, 1, 10), rtol, rtol == 0.1 ? 0.05 : 1e-5, $"{cls} (native)");
            Assert.AreEqual(Numerics.ArgMaxRows(expected)[0], Numerics.ArgMaxRows(Tensor.FromArray(printed, 1, 10))[0], $"{cls} class");
        }
    }
}
