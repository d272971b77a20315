using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using FashionMnist.Models;

// The Fashion-MNIST test set: Debian's dataset-fashion-mnist, or a folder given by COMPRESSBUILD_FASHION_MNIST.
string dataDir = Environment.GetEnvironmentVariable("COMPRESSBUILD_FASHION_MNIST") is { Length: > 0 } d ? d : "/usr/share/datasets/fashion-mnist";
string imagesPath = Path.Combine(dataDir, "t10k-images-idx3-ubyte.gz");
string labelsPath = Path.Combine(dataDir, "t10k-labels-idx1-ubyte.gz");
if (!File.Exists(imagesPath) || !File.Exists(labelsPath))
{
    Console.Error.WriteLine($"The Fashion-MNIST test set is not in {dataDir}. Install it with:");
    Console.Error.WriteLine("  sudo apt-get install -y dataset-fashion-mnist");
    Console.Error.WriteLine("or set COMPRESSBUILD_FASHION_MNIST to a folder with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.");
    return 1;
}

byte[] pixels = ReadIdx(imagesPath);
byte[] labels = ReadIdx(labelsPath);
int count = labels.Length;

// Top-1 accuracy of the generated predictor (pixels / 255, as the model was trained).
var model = new LeNet5();
var image = new float[LeNet5.InputSize];
var logits = new float[LeNet5.OutputSize];
int correct = 0;
for (int i = 0; i < count; i++)
{
    Load(i);
    model.Predict(image, logits);
    if (ArgMax(logits) == labels[i]) correct++;
}

// Batch-1 latency: the median of 7 rounds of 2,000 predictions, after a warm-up.
Load(0);
for (int i = 0; i < 2_000; i++) model.Predict(image, logits);
var rounds = new double[7];
for (int r = 0; r < rounds.Length; r++)
{
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < 2_000; i++) model.Predict(image, logits);
    rounds[r] = sw.Elapsed.TotalMicroseconds / 2_000;
}
Array.Sort(rounds);

var inv = CultureInfo.InvariantCulture;
Console.WriteLine($"LeNet5, compressed at build time from Models/lenet5.onnx: {LeNet5.Compression}");
Console.WriteLine(string.Create(inv, $"  weights embedded: {LeNet5.WeightBytes:N0} bytes, activation arena: {LeNet5.ArenaBytes:N0} bytes"));
Console.WriteLine(string.Create(inv, $"  top-1 accuracy on the {count:N0} Fashion-MNIST test images: {(double)correct / count:F4}"));
Console.WriteLine(string.Create(inv, $"  batch-1 latency: {rounds[rounds.Length / 2]:F1} µs per image (median of {rounds.Length} rounds)"));
return 0;

void Load(int index)
{
    var sample = pixels.AsSpan(index * LeNet5.InputSize, LeNet5.InputSize);
    for (int j = 0; j < sample.Length; j++) image[j] = sample[j] / 255f;
}

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++)
        if (values[i] > values[best]) best = i;
    return best;
}

// An IDX file (gzip): magic 0x0000 08 NDIM, NDIM big-endian int32 dims, then unsigned bytes.
static byte[] ReadIdx(string path)
{
    using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
    using var bytes = new MemoryStream();
    gz.CopyTo(bytes);
    var data = bytes.ToArray();
    if (data.Length < 4 || data[0] != 0 || data[1] != 0 || data[2] != 0x08)
        throw new InvalidDataException($"{path} is not an IDX file of unsigned bytes.");
    int header = 4 + 4 * data[3];
    long elements = 1;
    for (int k = 0; k < data[3]; k++) elements *= BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4 + 4 * k));
    if (data.Length - header != elements) throw new InvalidDataException($"{path} is truncated.");
    return data[header..];
}
