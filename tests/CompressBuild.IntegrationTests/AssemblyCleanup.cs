namespace CompressBuild.IntegrationTests;

[TestClass]
public static class AssemblyCleanup
{
    [AssemblyCleanup]
    public static void DeleteTestFiles() => PackageFeed.DeleteIfCreated();
}
