using CompressBuild.Core.Execution;
using CompressBuild.Core.Operators;

namespace CompressBuild.Core.Tests;

/// <summary>
/// Checks one operator: our executor against ONNX Runtime on the same single-node model, and our
/// gradients against central finite differences.
/// </summary>
internal static class OpHarness
{
    /// <summary>
    /// Builds a one-node model whose inputs are graph inputs (for the given tensors) or initializers,
    /// runs it in our executor and in ONNX Runtime, and asserts the outputs agree.
    /// </summary>
    public static Tensor[] AssertMatchesOnnxRuntime(string opType, int opset, Tensor[] inputs, NodeAttribute[]? attributes = null,
        int outputs = 1, double rtol = 1e-4, double atol = 1e-5)
    {
        var model = SingleNode(opType, opset, inputs, attributes, outputs);
        var ours = new Executor(model).Run(inputs);
        var theirs = OnnxRuntimeOracle.Run(OnnxModel.ToBytes(model), inputs);
        Assert.AreEqual(theirs.Length, ours.Length, "output count");
        for (int i = 0; i < ours.Length; i++)
            Numerics.AssertClose(theirs[i], ours[i], rtol, atol, $"{opType} output {i} vs ONNX Runtime");
        return ours;
    }

    /// <summary>A model with one node reading graph inputs x0..xn-1 and writing y0..ym-1.</summary>
    public static Model SingleNode(string opType, int opset, Tensor[] inputs, NodeAttribute[]? attributes = null, int outputs = 1)
    {
        var b = new ModelBuilder(opset);
        var names = new string[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            names[i] = b.Input($"x{i}", inputs[i].DataType, inputs[i].Shape.Cast<object>().ToArray());
        var outs = b.NodeMulti(opType, names, outputs, attributes ?? Array.Empty<NodeAttribute>());
        foreach (var o in outs) b.Output(o, DataType.Undefined);
        var m = b.Build();
        // Outputs are declared without types; ORT infers them.
        return m;
    }

    /// <summary>
    /// Compares reverse-mode gradients of L = Σ r ⊙ y (r random, fixed) with central differences,
    /// for every float input listed in <paramref name="wrt"/> (default: all float inputs).
    /// Up to <paramref name="samples"/> elements per input are probed.
    /// </summary>
    public static void AssertGradients(string opType, int opset, Tensor[] inputs, NodeAttribute[]? attributes = null,
        int[]? wrt = null, int outputs = 1, double eps = 1e-2, double rtol = 2e-2, double atol = 2e-3, int samples = 48, RunOptions? options = null)
    {
        var model = SingleNode(opType, opset, inputs, attributes, outputs);
        var exec = new Executor(model);
        options ??= new RunOptions { MaxDegreeOfParallelism = 1 };
        var named = new Dictionary<string, Tensor>();
        for (int i = 0; i < inputs.Length; i++) named[$"x{i}"] = inputs[i];
        var record = exec.Forward(named, options);
        var outs = exec.Run(named, options);
        var seeds = new Dictionary<string, Tensor>();
        int seed = 1234;
        foreach (var o in model.Graph.Outputs)
        {
            if (outs[o.Name].DataType != DataType.Float) continue;
            seeds[o.Name] = RandomTensors.Uniform(seed++, -1f, 1f, outs[o.Name].Shape);
        }
        wrt ??= Enumerable.Range(0, inputs.Length).Where(i => inputs[i].DataType == DataType.Float).ToArray();
        var analytic = exec.Backward(record, seeds, wrt.Select(i => $"x{i}"));

        double Loss()
        {
            var y = exec.Run(named, options);
            double l = 0;
            foreach (var (name, r) in seeds)
            {
                var yf = y[name].Floats;
                var rf = r.Floats;
                for (int k = 0; k < yf.Length; k++) l += (double)yf[k] * rf[k];
            }
            return l;
        }

        var rng = new Random(99);
        foreach (int i in wrt)
        {
            var x = inputs[i].Floats;
            var g = analytic[$"x{i}"].Floats;
            Assert.AreEqual(x.Length, g.Length, $"gradient of x{i} has the wrong size");
            var probe = x.Length <= samples ? Enumerable.Range(0, x.Length) : Enumerable.Range(0, samples).Select(_ => rng.Next(x.Length)).Distinct();
            foreach (int k in probe)
            {
                float orig = x[k];
                x[k] = orig + (float)eps;
                double lp = Loss();
                x[k] = orig - (float)eps;
                double lm = Loss();
                x[k] = orig;
                double numeric = (lp - lm) / (2 * eps);
                double diff = Math.Abs(numeric - g[k]);
                Assert.IsTrue(diff <= atol + rtol * Math.Abs(numeric),
                    $"{opType} d/dx{i}[{k}]: analytic {g[k]:G6}, numeric {numeric:G6} (diff {diff:G3})");
            }
        }
    }
}
