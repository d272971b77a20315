using CompressBuild.Core.Data;
using CompressBuild.Core.Evaluation;
using CompressBuild.Core.Training;

namespace CompressBuild.Core.Tests.Training;

[TestClass]
public sealed class TrainerTests
{
    // x [batch, inputs] → Gemm → Relu → Gemm → logits [batch, classes], He-initialised with a seed.
    private static Model Mlp(int inputs, int hidden, int classes, int seed)
    {
        var b = new ModelBuilder(13);
        var x = b.Input("x", DataType.Float, "batch", inputs);
        var w1 = b.Initializer("w1", RandomTensors.Normal(seed, MathF.Sqrt(2f / inputs), hidden, inputs));
        var b1 = b.Initializer("b1", new float[hidden], hidden);
        var w2 = b.Initializer("w2", RandomTensors.Normal(seed + 1, MathF.Sqrt(2f / hidden), classes, hidden));
        var b2 = b.Initializer("b2", new float[classes], classes);
        var h = b.Node("Gemm", new[] { x, w1, b1 }, NodeAttribute.Int("transB", 1));
        var r = b.Node("Relu", new[] { h });
        var y = b.Node("Gemm", new[] { r, w2, b2 }, NodeAttribute.Int("transB", 1));
        b.Output(y, DataType.Float, "batch", classes);
        return b.Build();
    }

    [TestMethod]
    public void TrainableParameters_AreTheGemmWeightsAndBiases()
    {
        CollectionAssert.AreEqual(new[] { "b1", "b2", "w1", "w2" }, Trainer.TrainableParameters(Mlp(4, 8, 3, 1)).ToArray());
    }

    [TestMethod]
    public void TrainingOnSeparableBlobs_DrivesTheLossDown_AndClassifiesThem()
    {
        // Three Gaussian blobs in 4-D: a model that learns anything separates them.
        var rng = new Random(5);
        int n = 600;
        var xs = new float[n * 4];
        var ys = new long[n];
        for (int i = 0; i < n; i++)
        {
            ys[i] = i % 3;
            for (int d = 0; d < 4; d++)
                xs[i * 4 + d] = (d == ys[i] ? 3f : 0f) + (float)(rng.NextDouble() - 0.5);
        }
        var data = new DataSet(Tensor.FromArray(xs, n, 4), ys);
        var model = Mlp(4, 16, 3, 2);
        var trainer = new Trainer(model, new Adam(0.01f), new SoftmaxCrossEntropyLoss(), seed: 3);
        float first = trainer.TrainEpoch(data, 32, 0);
        float last = first;
        for (int e = 1; e < 10; e++) last = trainer.TrainEpoch(data, 32, e);
        Assert.IsTrue(last < first * 0.1f, $"loss {first} → {last} did not fall tenfold");
        Assert.IsTrue(Evaluator.Top1(model, data).Accuracy > 0.99, "the blobs are not classified");
    }

    [TestMethod]
    public void TrainingOnFashionMnist_LearnsAClassifier()
    {
        var (train, trainLabels) = TestData.FashionMnistTrain();
        var (test, testLabels) = TestData.FashionMnistTest();
        var data = new DataSet(Tensor.FromArray(train.Floats.AsSpan(0, 3000 * 784).ToArray(), 3000, 784), trainLabels[..3000]);
        var eval = new DataSet(Tensor.FromArray(test.Floats.AsSpan(0, 1000 * 784).ToArray(), 1000, 784), testLabels[..1000]);
        var model = Mlp(784, 64, 10, 7);
        double before = Evaluator.Top1(model, eval).Accuracy;
        var trainer = new Trainer(model, new Adam(1e-3f), new SoftmaxCrossEntropyLoss(), seed: 1);
        float first = trainer.TrainEpoch(data, 64, 0);
        float last = first;
        for (int e = 1; e < 4; e++) last = trainer.TrainEpoch(data, 64, e);
        double after = Evaluator.Top1(model, eval).Accuracy;
        Assert.IsTrue(last < first * 0.6f, $"mean loss {first:F3} → {last:F3}");
        Assert.IsTrue(after > 0.75 && after > before + 0.4, $"test top-1 {before:P1} → {after:P1}");
    }

    [TestMethod]
    public void Training_IsDeterministic_ForASeed()
    {
        float[] Train()
        {
            var model = Mlp(6, 8, 2, 4);
            var x = RandomTensors.Uniform(8, -1f, 1f, 40, 6);
            var labels = Enumerable.Range(0, 40).Select(i => (long)(x.Floats[i * 6] > 0 ? 1 : 0)).ToArray();
            var trainer = new Trainer(model, new Adam(0.01f), new SoftmaxCrossEntropyLoss(), seed: 9);
            trainer.TrainEpoch(new DataSet(x, labels), 8, 0);
            return model.Graph.Initializers["w1"].Floats;
        }
        CollectionAssert.AreEqual(Train(), Train());
    }

    [TestMethod]
    public void TrainingBatchNormalization_MovesRunningStatisticsTowardTheBatchByMomentum()
    {
        var b = new ModelBuilder(15);
        var x = b.Input("x", DataType.Float, "batch", 2);
        var bn = b.Node("BatchNormalization", new[] { x, b.Initializer("s", new[] { 1f, 1f }, 2), b.Initializer("bb", new[] { 0f, 0f }, 2),
            b.Initializer("mean", new[] { 0f, 0f }, 2), b.Initializer("var", new[] { 1f, 1f }, 2) }, NodeAttribute.Float("momentum", 0.8f));
        var y = b.Node("Gemm", new[] { bn, b.Initializer("w", RandomTensors.Normal(1, 0.5f, 3, 2)), b.Initializer("c", new float[3], 3) }, NodeAttribute.Int("transB", 1));
        b.Output(y, DataType.Float, "batch", 3);
        var model = b.Build();
        // Channel 0 has mean 3 and (biased) variance 4; channel 1 mean -1, variance 1.
        var input = Tensor.FromArray(new[] { 1f, -2f, 5f, 0f, 1f, -2f, 5f, 0f }, 4, 2);
        var trainer = new Trainer(model, new Sgd(0.01f), new SoftmaxCrossEntropyLoss());
        trainer.Step(input, new LossTarget(new long[] { 0, 1, 2, 0 }, null));
        var mean = model.Graph.Initializers["mean"].Floats;
        var variance = model.Graph.Initializers["var"].Floats;
        Assert.AreEqual(0.2 * 3, mean[0], 1e-5);
        Assert.AreEqual(0.2 * -1, mean[1], 1e-5);
        Assert.AreEqual(0.8 + 0.2 * 4, variance[0], 1e-5);
        Assert.AreEqual(0.8 + 0.2 * 1, variance[1], 1e-5);
        CollectionAssert.DoesNotContain(trainer.Parameters.ToArray(), "mean");
    }

    [TestMethod]
    public void TrainingLeNet5_GivesByteIdenticalWeights_WhateverTheThreadCount()
    {
        // Determinism across machines: reductions must not depend on how many cores run them.
        var x = RandomTensors.Uniform(21, 0f, 1f, 64, 1, 28, 28);
        var labels = Enumerable.Range(0, 64).Select(i => (long)(i % 10)).ToArray();
        float[][] Train(int threads)
        {
            var model = OnnxModel.Load(TestData.Model("lenet5.onnx"));
            var trainer = new Trainer(model, new Adam(1e-3f), new SoftmaxCrossEntropyLoss(), seed: 5) { MaxDegreeOfParallelism = threads };
            trainer.TrainEpoch(new DataSet(x, labels), 32, 0);
            return trainer.Parameters.Select(p => model.Graph.Initializers[p].Floats).ToArray();
        }
        var one = Train(1);
        foreach (int threads in new[] { 2, 3, 8 })
        {
            var other = Train(threads);
            for (int p = 0; p < one.Length; p++)
                CollectionAssert.AreEqual(one[p], other[p], $"parameter {p} differs with {threads} threads");
        }
    }
}
