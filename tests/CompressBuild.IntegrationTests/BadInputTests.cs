namespace CompressBuild.IntegrationTests;

/// <summary>Bad CompressModel items fail the build with their CB code, on the project file, naming the item.</summary>
[TestClass]
public sealed class BadInputTests
{
    private static string Project(string items) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Library</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="CompressBuild" Version="{PackageFeed.Version}" PrivateAssets="all" />
            {items}
          </ItemGroup>
        </Project>
        """;

    private static void AssertFails(string name, string items, string[] expectedErrors, Action<string>? prepare = null)
    {
        var feed = PackageFeed.Instance;
        string dir = feed.CreateConsumer(name, Project(items));
        PackageFeed.AddModel(dir, "lenet5.onnx");
        PackageFeed.AddModel(dir, "lenet300.onnx");
        prepare?.Invoke(dir);
        var build = feed.Build(dir);

        Assert.AreNotEqual(0, build.ExitCode, build.Output);
        string csproj = Path.Combine(dir, name + ".csproj");
        foreach (var error in expectedErrors)
            StringAssert.Contains(build.Output, $"{csproj} : error {error}", build.Output);
        Assert.IsFalse(build.Output.Contains("   at ", StringComparison.Ordinal), "no stack trace: " + build.Output);
    }

    [TestMethod]
    public void MissingModel_AndDuplicateClassName_AreCaughtBeforeCompression() =>
        AssertFails("MissingAndDuplicate",
            """
            <CompressModel Include="Models/missing.onnx" />
            <CompressModel Include="Models/lenet5.onnx" ClassName="Net" />
            <CompressModel Include="Models/lenet300.onnx" ClassName="Net" />
            """,
            new[]
            {
                "CB1011: CompressModel 'Models/missing.onnx': the model file '",
                "CB6005: CompressModel items 'Models/lenet5.onnx' and 'Models/lenet300.onnx' both generate the class 'Net'. Give one of them another ClassName.",
            });

    [TestMethod]
    public void BadSettingValue_IsCB6001() =>
        AssertFails("BadValue", """<CompressModel Include="Models/lenet5.onnx" Quantize="int9" />""",
            new[] { "CB6001: CompressModel 'Models/lenet5.onnx': Quantize='int9' is not valid; use one of none, fp16, int8, int4, int2." });

    [TestMethod]
    public void ClassNameThatIsNoIdentifier_IsCB6001() =>
        AssertFails("BadClassName", """<CompressModel Include="Models/lenet5.onnx" ClassName="My-Model" />""",
            new[] { "CB6001: CompressModel 'Models/lenet5.onnx': ClassName='My-Model' is not a C# identifier" });

    [TestMethod]
    public void UnsupportedOperator_IsCB3001() =>
        AssertFails("Unsupported", """<CompressModel Include="Models/det.onnx" />""",
            new[] { "CB3001: CompressModel 'Models/det.onnx': " },
            dir =>
            {
                var b = new ModelBuilder(13);
                var x = b.Input("x", DataType.Float, "batch", 2, 2);
                b.Output(b.Node("Det", new[] { x }), DataType.Float, "batch");
                OnnxModel.Save(b.Build(), Path.Combine(dir, "Models", "det.onnx"));
            });
}
