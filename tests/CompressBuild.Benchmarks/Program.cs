using BenchmarkDotNet.Running;
using CompressBuild.Benchmarks;

return args.FirstOrDefault() switch
{
    "train-epoch" => TrainEpochBenchmark.Run(args.Skip(1).ToArray()),
    "micro" => RunMicro(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int RunMicro(string[] rest)
{
    BenchmarkSwitcher.FromAssembly(typeof(KernelBenchmarks).Assembly).Run(rest);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project tests/CompressBuild.Benchmarks -- train-epoch [--model lenet5|lenet300] [--epochs N] [--threads N] [--no-pytorch]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/CompressBuild.Benchmarks -- micro [BenchmarkDotNet args]");
    return 1;
}
