namespace CompressBuild.Core.Passes;

/// <summary>A named sequence of passes run repeatedly until an iteration changes nothing.</summary>
public sealed class PassPipeline
{
    /// <summary>Creates a pipeline.</summary>
    public PassPipeline(string name, params IGraphPass[] passes)
    {
        Name = name;
        Passes = passes;
    }

    /// <summary>The pipeline's name.</summary>
    public string Name { get; }

    /// <summary>The passes in order.</summary>
    public IReadOnlyList<IGraphPass> Passes { get; }

    /// <summary>
    /// Removes what inference never needs: Identity and inference-mode Dropout, constant
    /// subgraphs (including exporters' Shape→Gather→Concat→Reshape chains), dead nodes.
    /// </summary>
    public static PassPipeline Cleanup() => new("cleanup",
        new RemoveIdentityPass(), new ConstantFoldingPass(), new DeadCodeEliminationPass());

    /// <summary>
    /// Cleanup plus fusions that make the graph smaller and faster without changing its outputs:
    /// BatchNormalization folded into the preceding Conv/Gemm/MatMul, MatMul+Add as Gemm.
    /// </summary>
    public static PassPipeline Optimize() => new("optimize",
        new RemoveIdentityPass(), new ConstantFoldingPass(), new FuseBatchNormPass(), new MatMulAddToGemmPass(), new DeadCodeEliminationPass());

    /// <summary>
    /// Turns a QDQ model into integer operators (QLinearConv, QGemm, layout ops on quantized
    /// values: see <see cref="QdqFusionPass"/>), then drops the DequantizeLinear nodes of weights
    /// and the constants nothing reads any more.
    /// </summary>
    public static PassPipeline IntegerInference() => new("integer-inference", new QdqFusionPass(), new DeadCodeEliminationPass());

    /// <summary>
    /// Runs the passes in order, repeatedly, until none changes the model (at most
    /// <paramref name="maxIterations"/> rounds). Returns the rewrites per pass.
    /// </summary>
    public IReadOnlyDictionary<string, int> Run(Model model, int maxIterations = 16)
    {
        var counts = Passes.ToDictionary(p => p.Name, _ => 0);
        for (int round = 0; round < maxIterations; round++)
        {
            int changed = 0;
            foreach (var pass in Passes)
            {
                int n = pass.Run(model);
                counts[pass.Name] += n;
                changed += n;
            }
            if (changed == 0) break;
        }
        model.Graph.Validate(model.DisplayName);
        return counts;
    }
}
