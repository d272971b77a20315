using System.Diagnostics;
using System.Globalization;
using CompressBuild.Core.Data;
using CompressBuild.Core.Training;
using CompressBuild.Onnx;
using CompressBuild.TestSupport;

namespace CompressBuild.Benchmarks;

/// <summary>
/// Seconds per training epoch (60,000 Fashion-MNIST images, batch 128, Adam, forward + backward)
/// of the engine and of Debian's PyTorch on the same model architecture, measured in one run.
/// </summary>
internal static class TrainEpochBenchmark
{
    public static int Run(string[] args)
    {
        string name = Option(args, "--model") ?? "lenet5";
        int epochs = int.Parse(Option(args, "--epochs") ?? "2", CultureInfo.InvariantCulture);
        int threads = int.Parse(Option(args, "--threads") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        bool pytorch = !args.Contains("--no-pytorch");

        var (images, labels) = TestData.FashionMnistTrain();
        var model = OnnxModel.Load(TestData.Model($"{name}.onnx"));
        var data = new DataSet(images, labels);
        var trainer = new Trainer(model, new Adam(3e-4f), new SoftmaxCrossEntropyLoss(), seed: 0) { MaxDegreeOfParallelism = threads };

        Console.WriteLine($"model {name}, 60,000 images, batch 128, Adam, {threads} thread(s), {epochs} epoch(s) each");
        var ours = new List<double>();
        for (int e = 0; e < epochs; e++)
        {
            var sw = Stopwatch.StartNew();
            float loss = trainer.TrainEpoch(data, 128, e);
            ours.Add(sw.Elapsed.TotalSeconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  CompressBuild epoch {e + 1}: {ours[^1]:F2} s (mean loss {loss:F4})"));
        }

        var torch = new List<double>();
        if (pytorch)
        {
            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "pytorch_epoch.py"), name, TestData.FashionMnistRoot, epochs.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null)
            {
                Console.WriteLine("  PyTorch " + line);
                if (line.StartsWith("epoch", StringComparison.Ordinal))
                    torch.Add(double.Parse(line.Split(' ')[2], CultureInfo.InvariantCulture));
            }
            p.WaitForExit();
            if (p.ExitCode != 0) Console.WriteLine("  PyTorch failed (is python3-torch installed? sudo apt-get install -y python3-torch)");
        }

        // The first epoch includes JIT warm-up on both sides; the best epoch is the steady state.
        double best = ours.Min();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CompressBuild best epoch: {best:F2} s"));
        if (torch.Count > 0)
        {
            double tb = torch.Min();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PyTorch best epoch:       {tb:F2} s"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio CompressBuild / PyTorch: {best / tb:F2}"));
        }
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
