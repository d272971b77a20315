using CompressBuild.Onnx;

namespace CompressBuild.TestSupport;

/// <summary>Seeded random tensors for tests.</summary>
public static class RandomTensors
{
    /// <summary>Uniform floats in [low, high).</summary>
    public static Tensor Uniform(int seed, float low, float high, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = low + (float)rng.NextDouble() * (high - low);
        return Tensor.FromArray(data, shape);
    }

    /// <summary>Standard normal floats times <paramref name="scale"/>.</summary>
    public static Tensor Normal(int seed, float scale, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            data[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return Tensor.FromArray(data, shape);
    }
}
