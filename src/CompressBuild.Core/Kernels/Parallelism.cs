namespace CompressBuild.Core.Kernels;

/// <summary>Splits work over cores in a few large chunks (not one task per item).</summary>
internal static class Parallelism
{
    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count) in at most
    /// <paramref name="maxDegree"/> contiguous chunks; inline when the work is small.
    /// </summary>
    /// <param name="count">Number of items.</param>
    /// <param name="maxDegree">Most chunks to run at once.</param>
    /// <param name="costPerItem">Rough operations per item, to keep small jobs on one thread.</param>
    /// <param name="body">Processes items [start, end).</param>
    public static void For(int count, int maxDegree, long costPerItem, Action<int, int> body)
    {
        if (count <= 0) return;
        int chunks = Math.Min(Math.Max(maxDegree, 1), count);
        // Below ~64k operations a thread hand-off costs more than it saves.
        if (chunks == 1 || (long)count * Math.Max(costPerItem, 1) < 65536)
        {
            body(0, count);
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, c =>
        {
            int start = (int)((long)count * c / chunks);
            int end = (int)((long)count * (c + 1) / chunks);
            if (end > start) body(start, end);
        });
    }
}
