namespace CompressBuild.Core.Kernels;

/// <summary>
/// Splits work over cores in a few large chunks (not one task per item). The chunks depend only on
/// the work, never on the number of threads: kernels that sum per chunk then add the chunks in
/// order get bit-identical results on any machine, which compression's determinism relies on.
/// </summary>
internal static class Parallelism
{
    /// <summary>Most chunks a loop is split into (enough to keep 8–16 cores busy).</summary>
    public const int MaxChunks = 16;

    // Below ~64k operations a thread hand-off costs more than it saves.
    private const long MinParallelWork = 65536;

    /// <summary>How many chunks <see cref="For"/> splits <paramref name="count"/> items into.</summary>
    public static int ChunkCount(int count, long costPerItem) =>
        count <= 0 ? 0 : (long)count * Math.Max(costPerItem, 1) < MinParallelWork ? 1 : Math.Min(count, MaxChunks);

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) for each of <see cref="ChunkCount"/> contiguous chunks
    /// of [0, count), on at most <paramref name="maxDegree"/> threads at once.
    /// </summary>
    /// <param name="count">Number of items.</param>
    /// <param name="maxDegree">Most chunks to run at once.</param>
    /// <param name="costPerItem">Rough operations per item, to keep small jobs on one thread.</param>
    /// <param name="body">Processes items [start, end).</param>
    public static void For(int count, int maxDegree, long costPerItem, Action<int, int> body)
    {
        int chunks = ChunkCount(count, costPerItem);
        if (chunks == 0) return;
        if (chunks == 1)
        {
            body(0, count);
            return;
        }
        void Chunk(int c)
        {
            int start = (int)((long)count * c / chunks);
            int end = (int)((long)count * (c + 1) / chunks);
            if (end > start) body(start, end);
        }
        if (maxDegree <= 1)
        {
            for (int c = 0; c < chunks; c++) Chunk(c);
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegree }, Chunk);
    }
}
