using Microsoft.Build.Framework;

namespace CompressBuild.Tasks.Tests;

/// <summary>Resolving CompressModel items: class names, output names, stamps, inputs, and what is caught before the engine runs.</summary>
[TestClass]
public sealed class ResolveCompressModelsTests
{
    [TestMethod]
    public void Defaults_ClassFromFileName_NamespaceFromRootNamespace()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        var task = p.Resolver(TestProject.Item(spec));

        Assert.IsTrue(task.Execute());
        var m = task.ResolvedModels.Single();
        Assert.AreEqual(spec, m.ItemSpec);
        Assert.AreEqual("Lenet5", m.GetMetadata("ClassName"));
        Assert.AreEqual("App", m.GetMetadata("Namespace"));
        Assert.AreEqual(Path.Combine(p.Directory, "Models", "lenet5.onnx"), m.GetMetadata("ModelPath"));
        Assert.AreEqual(Path.Combine(p.OutputDirectory, "Lenet5.plan"), m.GetMetadata("PlanFile"));
        Assert.AreEqual(Path.Combine(p.OutputDirectory, "Lenet5.weights.b64"), m.GetMetadata("LiteralWeightsFile"));
        Assert.AreEqual(Path.Combine(p.OutputDirectory, "Lenet5.weights.bin"), m.GetMetadata("ResourceWeightsFile"));
        Assert.AreEqual("CompressBuild.Lenet5.weights", m.GetMetadata("ResourceName"));
        CollectionAssert.AreEqual(new[]
        {
            "# Settings of one CompressModel item: CompressBuild_Compress runs again when this file changes.",
            "model=" + m.GetMetadata("ModelPath"),
            "engine=" + TestProject.EnginePath,
            "version=" + ResolveCompressModels.Version,
            "ClassName=Lenet5",
            "Namespace=App",
        }, m.GetMetadata("SettingsLines").Split(';'));
        CollectionAssert.AreEqual(new[] { m.GetMetadata("ModelPath"), m.GetMetadata("SettingsFile"), TestProject.EnginePath },
            m.GetMetadata("InputFiles").Split(';'));
        Assert.AreEqual(0, p.Engine.Errors.Count);
    }

    [TestMethod]
    public void Settings_ComeFromMetadata_TargetFromKernelTarget()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        var task = p.Resolver(TestProject.Item(spec, ("ClassName", "LeNet5"), ("Namespace", "My.Models"), ("Quantize", "int8"), ("KernelTarget", "arm64")));

        Assert.IsTrue(task.Execute());
        var lines = task.ResolvedModels.Single().GetMetadata("SettingsLines").Split(';');
        CollectionAssert.AreEqual(new[] { "ClassName=LeNet5", "Namespace=My.Models", "Quantize=int8", "Target=arm64" }, lines.Skip(4).ToArray());
    }

    [TestMethod]
    public void Inputs_IncludeExternalData_AndDataFilesOfFoldersAndGlobs()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        string model = Path.Combine(p.Directory, spec);
        File.WriteAllText(model + ".data", "");
        Directory.CreateDirectory(Path.Combine(p.Directory, "calib"));
        Directory.CreateDirectory(Path.Combine(p.Directory, "eval"));
        foreach (var f in new[] { "calib/b.npy", "calib/a.npy", "eval/x.npy", "eval/x.txt", "eval/labels.npy" })
            File.WriteAllText(Path.Combine(p.Directory, f), "");
        var task = p.Resolver(TestProject.Item(spec, ("CalibrationData", "calib"), ("EvaluationData", "eval/x*.npy"), ("EvaluationLabels", "eval/labels.npy"), ("Student", "0.5")));

        Assert.IsTrue(task.Execute());
        string Full(string f) => Path.Combine(p.Directory, f);
        var m = task.ResolvedModels.Single();
        CollectionAssert.AreEqual(new[]
        {
            model, model + ".data", Full("calib/a.npy"), Full("calib/b.npy"), Full("eval/x.npy"), Full("eval/labels.npy"),
            m.GetMetadata("SettingsFile"), TestProject.EnginePath,
        }, m.GetMetadata("InputFiles").Split(';'));
    }

    [TestMethod]
    public void MissingModel_IsCB1011_OnTheProjectFile_NamingTheItem()
    {
        var p = new TestProject();
        var task = p.Resolver(TestProject.Item("Models/missing.onnx"));

        Assert.IsFalse(task.Execute());
        CollectionAssert.AreEqual(new[]
        {
            $"{p.ProjectFile}: error CB1011: CompressModel 'Models/missing.onnx': the model file '{Path.Combine(p.Directory, "Models", "missing.onnx")}' does not exist. Check the Include path of the item.",
        }, p.Engine.ErrorLines.ToArray());
    }

    [TestMethod]
    public void DuplicateDefaultClassName_IsCB6005_NamingBothItems()
    {
        var p = new TestProject();
        string a = p.AddModel("lenet5.onnx");
        Directory.CreateDirectory(Path.Combine(p.Directory, "Other"));
        File.Copy(Path.Combine(p.Directory, a), Path.Combine(p.Directory, "Other", "lenet5.onnx"));
        File.Copy(Path.Combine(p.Directory, a), Path.Combine(p.Directory, "Other", "LeNet-5.onnx"));
        var task = p.Resolver(TestProject.Item(a), TestProject.Item("Other/lenet5.onnx"), TestProject.Item("Other/LeNet-5.onnx"));

        Assert.IsFalse(task.Execute());
        CollectionAssert.AreEqual(new[]
        {
            $"{p.ProjectFile}: error CB6005: CompressModel items 'Models/lenet5.onnx' and 'Other/lenet5.onnx' both generate the class 'Lenet5' (the default ClassName is the file name in PascalCase). Give one of them another ClassName.",
            $"{p.ProjectFile}: error CB6005: CompressModel items 'Models/lenet5.onnx' and 'Other/LeNet-5.onnx' both generate the classes 'Lenet5' and 'LeNet5', whose output files collide where file names ignore case (the default ClassName is the file name in PascalCase). Give one of them another ClassName.",
        }, p.Engine.ErrorLines.ToArray());
    }

    [TestMethod]
    public void DuplicateExplicitClassName_IsCB6005()
    {
        var p = new TestProject();
        string a = p.AddModel("lenet5.onnx");
        string b = p.AddModel("lenet300.onnx");
        var task = p.Resolver(TestProject.Item(a, ("ClassName", "Net")), TestProject.Item(b, ("ClassName", "Net")));

        Assert.IsFalse(task.Execute());
        CollectionAssert.AreEqual(new[]
        {
            $"{p.ProjectFile}: error CB6005: CompressModel items 'Models/lenet5.onnx' and 'Models/lenet300.onnx' both generate the class 'Net'. Give one of them another ClassName.",
        }, p.Engine.ErrorLines.ToArray());
    }

    [TestMethod]
    public void DesignTimeBuilds_ReportNothing_AndStillResolve()
    {
        var p = new TestProject();
        var task = p.Resolver(TestProject.Item("Models/missing.onnx"));
        task.ReportErrors = false;

        Assert.IsTrue(task.Execute());
        Assert.AreEqual("Missing", task.ResolvedModels.Single().GetMetadata("ClassName"));
        Assert.AreEqual(0, p.Engine.Errors.Count);
    }

    [TestMethod]
    public void ListMetadata_IsEscapedForMSBuild() =>
        Assert.AreEqual("a%3bb;c%25d;e%28f%29", ResolveCompressModels.EscapeList(new[] { "a;b", "c%d", "e(f)" }));

    [TestMethod]
    public void ClassNameThatIsNoFileName_StaysInTheOutputFolder()
    {
        var p = new TestProject();
        string spec = p.AddModel("lenet5.onnx");
        var task = p.Resolver(TestProject.Item(spec, ("ClassName", "../Evil")));

        Assert.IsTrue(task.Execute(), "the engine reports the invalid ClassName (CB6001)");
        Assert.AreEqual(Path.Combine(p.OutputDirectory, "___Evil.plan"), task.ResolvedModels.Single().GetMetadata("PlanFile"));
        Assert.AreEqual("../Evil", task.ResolvedModels.Single().GetMetadata("ClassName"));
    }

    internal static ITaskItem[] Resolve(TestProject p, params ITaskItem[] items)
    {
        var task = p.Resolver(items);
        Assert.IsTrue(task.Execute(), string.Join("\n", p.Engine.ErrorLines));
        return task.ResolvedModels;
    }
}
