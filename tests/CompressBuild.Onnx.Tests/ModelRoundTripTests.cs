using CompressBuild.Onnx.DataFiles;

namespace CompressBuild.Onnx.Tests;

[TestClass]
public sealed class ModelRoundTripTests
{
    [TestMethod]
    [DataRow("lenet5.onnx")]
    [DataRow("lenet300.onnx")]
    public void SharedModel_RoundTrip_KeepsNamesMetadataAndOnnxRuntimeOutputs(string file)
    {
        string path = TestData.Model(file);
        var original = File.ReadAllBytes(path);
        var model = OnnxModel.Load(path);
        var written = OnnxModel.ToBytes(model);
        var again = OnnxModel.Parse(written);

        Assert.AreEqual(model.IrVersion, again.IrVersion);
        Assert.AreEqual(model.ProducerName, again.ProducerName);
        Assert.AreEqual(model.ProducerVersion, again.ProducerVersion);
        CollectionAssert.AreEqual(model.OpsetImports.ToList(), again.OpsetImports.ToList());
        CollectionAssert.AreEqual(model.Metadata, again.Metadata);
        CollectionAssert.AreEqual(model.Graph.Nodes.Select(n => n.ToString()).ToList(), again.Graph.Nodes.Select(n => n.ToString()).ToList());
        CollectionAssert.AreEqual(model.Graph.Initializers.Keys.ToList(), again.Graph.Initializers.Keys.ToList());
        CollectionAssert.AreEqual(model.Graph.Inputs.Select(v => v.ToString()).ToList(), again.Graph.Inputs.Select(v => v.ToString()).ToList());
        CollectionAssert.AreEqual(model.Graph.Outputs.Select(v => v.ToString()).ToList(), again.Graph.Outputs.Select(v => v.ToString()).ToList());

        var x = RandomTensors.Uniform(3, 0f, 1f, 4, 1, 28, 28);
        var expected = OnnxRuntimeOracle.Run(original, x);
        var actual = OnnxRuntimeOracle.Run(written, x);
        Numerics.AssertClose(expected[0], actual[0], 0, 0, "ONNX Runtime output after the round trip");
    }

    [TestMethod]
    public void EveryOnnxSuiteModel_RoundTrips_WithIdenticalOnnxRuntimeOutputs()
    {
        string root = TestData.RequireOnnxSuite();
        int compared = 0, refused = 0, ortCannotRun = 0;
        var failures = new List<string>();
        foreach (var folder in new[] { "node", "pytorch-converted", "pytorch-operator", "simple" })
        {
            foreach (var dir in Directory.GetDirectories(Path.Combine(root, folder)).OrderBy(d => d, StringComparer.Ordinal))
            {
                string path = Path.Combine(dir, "model.onnx");
                if (!File.Exists(path)) continue;
                Model model;
                try
                {
                    model = OnnxModel.Load(path);
                }
                catch (CompressBuildException e) when (e.Code is ErrorCodes.UnknownDomain)
                {
                    refused++;
                    continue;
                }
                var written = OnnxModel.ToBytes(model);
                var set = Path.Combine(dir, "test_data_set_0");
                Tensor[] inputs, expected;
                try
                {
                    inputs = Directory.Exists(set)
                        ? Directory.GetFiles(set, "input_*.pb").OrderBy(f => f, StringComparer.Ordinal).Select(TensorFile.Read).ToArray()
                        : Array.Empty<Tensor>();
                    expected = OnnxRuntimeOracle.Run(File.ReadAllBytes(path), inputs);
                }
                catch (Exception)
                {
                    // Some suite models take sequences or optionals, or use what ONNX Runtime does not
                    // implement; their round trip is still checked by re-parsing.
                    ortCannotRun++;
                    var reparsed = OnnxModel.Parse(written);
                    if (reparsed.Graph.Nodes.Count != model.Graph.Nodes.Count) failures.Add($"{folder}/{Path.GetFileName(dir)}: node count changed");
                    continue;
                }
                var actual = OnnxRuntimeOracle.Run(written, inputs);
                for (int i = 0; i < expected.Length; i++)
                {
                    string? problem = Numerics.Compare(expected[i], actual[i], 0, 0);
                    if (problem is not null) failures.Add($"{folder}/{Path.GetFileName(dir)} output {i}: {problem}");
                }
                compared++;
            }
        }
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures.Take(20)));
        Assert.IsTrue(compared > 900, $"only {compared} suite models were compared in ONNX Runtime ({ortCannotRun} could not run, {refused} refused for their domain)");
    }

    [TestMethod]
    public void Save_IsAtomic_AndLeavesNoTemporaryFiles()
    {
        string dir = TestData.TempDirectory("save");
        string path = Path.Combine(dir, "m.onnx");
        var model = OnnxModel.Load(TestData.Model("lenet5.onnx"));
        OnnxModel.Save(model, path);
        OnnxModel.Save(model, path);
        CollectionAssert.AreEqual(new[] { "m.onnx" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray());
        Assert.AreEqual(model.Graph.Nodes.Count, OnnxModel.Load(path).Graph.Nodes.Count);
    }
}
