using CompressBuild.Core.Compression;
using CompressBuild.Plan;

namespace CompressBuild.Tasks.Tests;

/// <summary>What the tasks compute before the engine runs agrees with the engine.</summary>
[TestClass]
public sealed class ParityTests
{
    [TestMethod]
    [DataRow("lenet5")]
    [DataRow("lenet300")]
    [DataRow("my-model")]
    [DataRow("resnet50_v1.5")]
    [DataRow("1x")]
    [DataRow("__init__")]
    [DataRow("class")]
    [DataRow("MobileNetV2")]
    [DataRow("ÄÖ")]
    [DataRow("---")]
    [DataRow("9")]
    public void DefaultClassName_IsTheEngines(string stem) =>
        Assert.AreEqual(CSharpNames.Type(stem), ClassNames.FromFileStem(stem));

    [TestMethod]
    public void SettingNames_AreTheEngines() =>
        CollectionAssert.AreEqual(CompressionSettings.Names.ToArray(), Settings.Names.ToArray());
}
