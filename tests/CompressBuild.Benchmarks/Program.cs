using BenchmarkDotNet.Running;
using CompressBuild.Benchmarks;

return args.FirstOrDefault() switch
{
    "train-epoch" => TrainEpochBenchmark.Run(args.Skip(1).ToArray()),
    "micro" => RunMicro(args.Skip(1).ToArray()),
    "latency" => RunLatency(args.Skip(1).ToArray()),
    "qkernels" => RunQuantizedKernels(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int RunMicro(string[] rest)
{
    BenchmarkSwitcher.FromTypes(new[] { typeof(KernelBenchmarks) }).Run(rest);
    return 0;
}

static int RunLatency(string[] rest)
{
    // In process: BenchmarkDotNet's own rebuild of this project would not find the in-repo
    // CompressBuild outputs (artifacts layout), and nothing here needs process isolation.
    var args = (rest.Length == 0 ? new[] { "--filter", "*" } : rest).Append("--inProcess").ToArray();
    BenchmarkSwitcher.FromTypes(new[] { typeof(LeNet5Latency), typeof(LeNet300Latency) }).Run(args);
    return 0;
}

static int RunQuantizedKernels(string[] rest)
{
    // In process for the same reason as latency: the runtime kernels are compiled into this assembly.
    var args = (rest.Length == 0 ? new[] { "--filter", "*" } : rest).Append("--inProcess").ToArray();
    BenchmarkSwitcher.FromTypes(new[] { typeof(QuantizedKernelBenchmarks), typeof(RequantizationBenchmarks) }).Run(args);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project tests/CompressBuild.Benchmarks -- train-epoch [--model lenet5|lenet300] [--epochs N] [--threads N] [--no-pytorch]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/CompressBuild.Benchmarks -- latency [BenchmarkDotNet args]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/CompressBuild.Benchmarks -- micro [BenchmarkDotNet args]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/CompressBuild.Benchmarks -- qkernels [BenchmarkDotNet args]");
    return 1;
}
